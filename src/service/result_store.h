// Results on disk for a limited time. One private directory per server (mkdtemp, 0700);
// inside it one directory per result set, named by a random 128-bit hex id, holding files
// with fixed names. Clients only ever pass an id and a name, both checked against what was
// stored (never used as a path on their own), so there is no way to reach another file. A
// reaper thread deletes each set `ttl` after it was made; past `max_bytes` on disk the oldest
// sets are deleted early (disk use stays bounded under any load); destruction deletes all.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "regain/error.h"

namespace regain::service {

// 32 lower-case hex digits from the kernel's CSPRNG (getrandom).
std::string random_id();
bool is_valid_id(std::string_view id);

class ResultStore {
 public:
  using Clock = std::chrono::steady_clock;
  struct File {
    std::string name;  // fixed by the server, e.g. "result.jpg"
    std::span<const uint8_t> data;
  };

  // Creates "<parent>/regain-serve-XXXXXX" (0700) and starts the reaper.
  static Result<std::unique_ptr<ResultStore>> create(const std::filesystem::path& parent,
                                                     std::chrono::milliseconds ttl,
                                                     uint64_t max_bytes = UINT64_MAX);
  ~ResultStore();  // shutdown()
  ResultStore(const ResultStore&) = delete;
  ResultStore& operator=(const ResultStore&) = delete;

  // Writes the files under a new id; the id becomes visible only once every file is complete.
  Result<std::string> put(std::span<const File> files);
  // An open read-only descriptor of a stored file, or -1 (unknown id or name, or expired).
  // The caller closes it; the file may be reaped meanwhile without harm.
  int open(std::string_view id, std::string_view name) const;
  size_t count() const;
  uint64_t bytes() const;
  uint64_t evicted() const;
  const std::filesystem::path& dir() const { return dir_; }
  // Stops the reaper and deletes the whole directory. Idempotent.
  void shutdown();

 private:
  ResultStore(std::filesystem::path dir, std::chrono::milliseconds ttl, uint64_t max_bytes);
  void reaper_loop();

  struct Entry {
    Clock::time_point expires;  // also the age order: every set lives the same ttl
    std::vector<std::string> names;
    uint64_t bytes = 0;
  };
  const std::filesystem::path dir_;
  const std::chrono::milliseconds ttl_;
  const uint64_t max_bytes_;
  uint64_t bytes_ = 0, evicted_ = 0;
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::map<std::string, Entry, std::less<>> entries_;
  bool stopping_ = false;
  std::thread reaper_;
};

}  // namespace regain::service
