// Where finished results live until their TTL: on this server's disk (DiskStore, the default)
// or in Redis (RedisStore, so replicas behind a load balancer share results). Clients only
// ever pass an id and a name, both checked against what was stored (never used as a path on
// their own), so there is no way to reach anything else.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "regain/error.h"

namespace regain::service {

// 32 lower-case hex digits from the kernel's CSPRNG (getrandom).
std::string random_id();
bool is_valid_id(std::string_view id);

// One stored file, readable in pieces (the HTTP layer streams it).
class StoredFile {
 public:
  virtual ~StoredFile() = default;
  virtual size_t size() const = 0;
  virtual ssize_t read(size_t offset, size_t n, char* out) const = 0;  // bytes read, <= 0 at the end or on error
};

// For /health and the stats: which store, whether it answers, what it holds.
struct StoreStatus {
  std::string kind;      // "disk" or "redis"
  std::string location;  // directory or redis://host:port/db
  bool reachable = false;
  std::string detail;    // why not, when unreachable
  uint64_t results = 0;  // disk: sets held now; redis: sets this replica wrote
  uint64_t bytes = 0;
  uint64_t evicted = 0;  // disk: deleted before their TTL to stay under the budget
};

class ResultStore {
 public:
  struct File {
    std::string name;  // fixed by the server, e.g. "result.jpg"
    std::span<const uint8_t> data;
  };
  virtual ~ResultStore() = default;
  // The new set's id once every file is stored. TooLarge: the store is full; Io: unreachable.
  virtual Result<std::string> put(std::span<const File> files) = 0;
  // NotFound for an unknown or expired id or name; Io when the store cannot be reached.
  virtual Result<std::shared_ptr<const StoredFile>> open(std::string_view id, std::string_view name) const = 0;
  virtual StoreStatus status() const = 0;
  virtual void shutdown() = 0;
};

// `url` empty: a DiskStore in a private directory under `temp_root`; "redis://HOST:PORT[/DB]":
// a RedisStore. `max_bytes` caps the disk store's total, and the size of one result in Redis.
Result<std::unique_ptr<ResultStore>> make_result_store(const std::string& url, const std::filesystem::path& temp_root,
                                                       std::chrono::milliseconds ttl, uint64_t max_bytes);

}  // namespace regain::service
