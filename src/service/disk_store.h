// Results on this server's disk (the default store: one process, nothing else to run). One
// private directory per server (mkdtemp, 0700); inside it one directory per result set, named
// by its id, holding files with fixed names. A reaper thread deletes each set `ttl` after it
// was made; past `max_bytes` on disk the oldest sets are deleted early (disk use stays
// bounded under any load); shutdown deletes all.
#pragma once
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "service/result_store.h"

namespace regain::service {

class DiskStore final : public ResultStore {
 public:
  using Clock = std::chrono::steady_clock;
  // Creates "<parent>/regain-serve-XXXXXX" (0700) and starts the reaper.
  static Result<std::unique_ptr<DiskStore>> create(const std::filesystem::path& parent, std::chrono::milliseconds ttl,
                                                   uint64_t max_bytes = UINT64_MAX);
  ~DiskStore() override;  // shutdown()

  // Writes the files under a new id; the id becomes visible only once every file is complete.
  Result<std::string> put(std::span<const File> files) override;
  Result<std::shared_ptr<const StoredFile>> open(std::string_view id, std::string_view name) const override;
  StoreStatus status() const override;
  // Stops the reaper and deletes the whole directory. Idempotent.
  void shutdown() override;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  DiskStore(std::filesystem::path dir, std::chrono::milliseconds ttl, uint64_t max_bytes);
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
