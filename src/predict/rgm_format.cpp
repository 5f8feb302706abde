// Native weights format (.rgm), memory-mapped:
//   "RGM1" u32 count, then per tensor: u16 name_len, name, u8 rank, rank x u32 dims,
//   u64 data offset (from file start, 64-byte aligned); float32 little-endian data.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "regain/gmnet.h"
#include "util/file_io.h"

namespace regain::gmnet {

namespace {

struct Mapping {
  void* p = MAP_FAILED;
  size_t n = 0;
  ~Mapping() { if (p != MAP_FAILED) munmap(p, n); }
};

template <class T>
void put(std::vector<uint8_t>& o, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  o.insert(o.end(), b, b + sizeof(T));
}

}  // namespace

Result<void> save_rgm(const TensorMap& w, const std::filesystem::path& path) {
  std::vector<uint8_t> head;
  head.insert(head.end(), {'R', 'G', 'M', '1'});
  put<uint32_t>(head, uint32_t(w.size()));
  size_t header_size = head.size();
  for (auto& [name, t] : w) header_size += 2 + name.size() + 1 + 4 * t.shape.size() + 8;
  uint64_t off = (header_size + 63) / 64 * 64;
  std::vector<uint64_t> offs;
  for (auto& [name, t] : w) {
    offs.push_back(off);
    off = (off + t.data.size() * 4 + 63) / 64 * 64;
  }
  size_t k = 0;
  for (auto& [name, t] : w) {
    put<uint16_t>(head, uint16_t(name.size()));
    head.insert(head.end(), name.begin(), name.end());
    head.push_back(uint8_t(t.shape.size()));
    for (auto d : t.shape) put<uint32_t>(head, uint32_t(d));
    put<uint64_t>(head, offs[k++]);
  }
  std::vector<uint8_t> out(off, 0);
  std::memcpy(out.data(), head.data(), head.size());
  k = 0;
  for (auto& [name, t] : w) std::memcpy(out.data() + offs[k++], t.data.data(), t.data.size() * 4);
  return write_file_atomic(path, out);
}

Result<TensorMap> load_rgm(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::Io, "cannot open model " + path.string());
  struct stat st{};
  if (fstat(fd, &st) != 0 || st.st_size < 8 || uint64_t(st.st_size) > kMaxModelBytes) {
    ::close(fd);
    return fail(ErrorCode::InvalidInput, "model file: bad size");
  }
  auto map = std::make_shared<Mapping>();
  map->n = size_t(st.st_size);
  map->p = mmap(nullptr, map->n, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map->p == MAP_FAILED) return fail(ErrorCode::Io, "cannot map model " + path.string());
  const uint8_t* b = static_cast<const uint8_t*>(map->p);
  const size_t n = map->n;
  size_t p = 4;
  auto get = [&](auto& v) {
    if (n - p < sizeof(v)) return false;
    std::memcpy(&v, b + p, sizeof(v));
    p += sizeof(v);
    return true;
  };
  uint32_t count;
  if (std::memcmp(b, "RGM1", 4) != 0 || !get(count) || count > 4096) return fail(ErrorCode::InvalidInput, "model file: not .rgm");
  TensorMap w;
  for (uint32_t k = 0; k < count; ++k) {
    uint16_t len;
    uint8_t rank;
    if (!get(len) || n - p < len) return fail(ErrorCode::InvalidInput, "model file: truncated .rgm header");
    std::string name(reinterpret_cast<const char*>(b + p), len);
    p += len;
    if (!get(rank) || rank > 8) return fail(ErrorCode::InvalidInput, "model file: bad rank");
    Tensor t;
    uint64_t numel = 1;
    for (int d = 0; d < rank; ++d) {
      uint32_t v;
      if (!get(v) || v > (1u << 24)) return fail(ErrorCode::InvalidInput, "model file: bad dims");
      t.shape.push_back(v);
      numel *= v;
      if (numel > n) return fail(ErrorCode::InvalidInput, "model file: tensor larger than the file");
    }
    uint64_t off;
    if (!get(off) || off % 64 || off > n || numel * 4 > n - off) return fail(ErrorCode::InvalidInput, "model file: tensor '" + name + "' out of bounds (truncated?)");
    t.data = {reinterpret_cast<const float*>(b + off), size_t(numel)};
    t.keep = map;
    if (!w.emplace(name, std::move(t)).second) return fail(ErrorCode::InvalidInput, "model file: duplicate '" + name + "'");
  }
  return w;
}

}  // namespace regain::gmnet
