// Pixel buffer allocation. Buffers of 8 MiB and more come from a small pool: glibc hands
// such blocks straight back to the kernel on free, and the kernel zeroes every page again
// on the next allocation (measured: 28% of all cycles of a 12-MP decode loop). Batch runs,
// the service and benchmarks allocate the same sizes over and over, so exact-size reuse
// removes that cost. The pool is bounded (REGAIN_POOL_MB, default 512; 0 disables it).
#include <sys/mman.h>

#include <cstdlib>
#include <algorithm>
#include <map>
#include <mutex>

#include "regain/image.h"

namespace regain::detail {

namespace {

constexpr size_t kHuge = size_t(2) << 20;
constexpr size_t kPooledMin = size_t(8) << 20;

size_t rounded(size_t bytes) { return (bytes + kHuge - 1) / kHuge * kHuge; }

struct Pool {
  std::mutex mutex;
  std::multimap<size_t, void*> blocks;
  size_t cached = 0;
  size_t cap;
  bool env_set = false;
  Pool() {
    const char* env = std::getenv("REGAIN_POOL_MB");
    env_set = env != nullptr;
    const unsigned long long mb = env ? std::strtoull(env, nullptr, 10) : 512;
    cap = size_t(std::min<unsigned long long>(mb, 1ull << 20)) << 20;
  }
};

// Never destroyed: images in static storage may be freed after a static pool would be.
Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

}  // namespace

void* allocate_pixels(size_t bytes) {
  if (bytes == 0) return nullptr;
  if (bytes < kPooledMin) return std::malloc(bytes);
  const size_t size = rounded(bytes);
  {
    Pool& p = pool();
    std::lock_guard lock(p.mutex);
    auto it = p.blocks.find(size);
    if (it != p.blocks.end()) {
      void* block = it->second;
      p.blocks.erase(it);
      p.cached -= size;
      return block;
    }
  }
  void* block = nullptr;
  if (posix_memalign(&block, kHuge, size) != 0) return nullptr;
  // Huge pages cut first-touch faults 512-fold where the kernel allows them (advisory).
  if (!std::getenv("REGAIN_NO_THP")) madvise(block, size, MADV_HUGEPAGE);
  return block;
}

void FreePixels::operator()(void* block) const noexcept {
  if (!block) return;
  if (bytes >= kPooledMin) {
    const size_t size = rounded(bytes);
    Pool& p = pool();
    std::lock_guard lock(p.mutex);
    if (p.cached + size <= p.cap) {
      try {
        p.blocks.emplace(size, block);
        p.cached += size;
        return;
      } catch (...) {
        // fall through to free
      }
    }
  }
  std::free(block);
}

}  // namespace regain::detail

namespace regain {

void set_pixel_pool_mb(size_t mb) {
  detail::Pool& p = detail::pool();
  std::lock_guard lock(p.mutex);
  if (p.env_set) return;
  p.cap = std::min<size_t>(mb, size_t(1) << 20) << 20;
  // Shrinking: hand back what no longer fits.
  while (p.cached > p.cap && !p.blocks.empty()) {
    auto it = p.blocks.begin();
    p.cached -= it->first;
    std::free(it->second);
    p.blocks.erase(it);
  }
}

}  // namespace regain
