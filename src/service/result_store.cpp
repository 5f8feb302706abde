#include "service/result_store.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <random>

#include "service/disk_store.h"
#include "service/redis_store.h"

namespace regain::service {

std::string random_id() {
  uint8_t b[16];
  size_t got = 0;
  while (got < sizeof b) {
    const ssize_t n = ::getrandom(b + got, sizeof b - got, 0);
    if (n > 0) got += size_t(n);
    else if (n < 0 && errno != EINTR) break;
  }
  if (got < sizeof b) {  // no getrandom (very old kernel): the library's non-deterministic source
    std::random_device rd;
    for (auto& x : b) x = uint8_t(rd());
  }
  static const char hex[] = "0123456789abcdef";
  std::string s(32, '0');
  for (size_t i = 0; i < 16; ++i) {
    s[2 * i] = hex[b[i] >> 4];
    s[2 * i + 1] = hex[b[i] & 15];
  }
  return s;
}

bool is_valid_id(std::string_view id) {
  return id.size() == 32 &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<std::unique_ptr<ResultStore>> make_result_store(const std::string& url, const std::filesystem::path& temp_root,
                                                       std::chrono::milliseconds ttl, uint64_t max_bytes) {
  if (url.empty()) {
    REGAIN_TRY(disk, DiskStore::create(temp_root, ttl, max_bytes));
    return std::unique_ptr<ResultStore>(std::move(disk));
  }
  REGAIN_TRY(addr, parse_redis_url(url));
  // Redis strings hold at most 512 MB.
  return std::unique_ptr<ResultStore>(std::make_unique<RedisStore>(std::move(addr), ttl, std::min<uint64_t>(max_bytes, 512ull << 20)));
}

}  // namespace regain::service
