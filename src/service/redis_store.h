// Results in Redis, for replicas behind a load balancer: any replica answers GET /result for
// a set another one stored. Each file is one key ("regain:result:<id>:<name>") written in
// one MULTI/EXEC with the TTL as its expiry (PX), so a set appears whole or not at all and
// Redis deletes it on time with no sweeper. Connections are pooled; one that saw an error is
// closed, and a pooled one found dead is replaced at once (one retry on a new connection), so
// a restarted Redis costs no request an error. A full Redis (maxmemory with noeviction)
// answers OOM: TooLarge here, 503 "store_full" at the HTTP edge; an unreachable one is Io, 503
// "store_unavailable"; a result over the size cap is Unsupported, 507 "result_too_large".
#pragma once
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "service/result_store.h"

struct redisContext;

namespace regain::service {

struct RedisAddress {
  std::string host;
  int port = 6379;
  int db = 0;
};
// redis://HOST:PORT[/DB]
Result<RedisAddress> parse_redis_url(std::string_view url);

class RedisStore final : public ResultStore {
 public:
  RedisStore(RedisAddress addr, std::chrono::milliseconds ttl, uint64_t max_result_bytes);
  ~RedisStore() override;

  Result<std::string> put(std::span<const File> files) override;
  Result<std::shared_ptr<const StoredFile>> open(std::string_view id, std::string_view name) const override;
  StoreStatus status() const override;
  void shutdown() override;

  static std::string key_of(std::string_view id, std::string_view name);

 private:
  class Lease {
   public:
    Lease(const RedisStore* s, redisContext* c, bool pooled) : store_(s), c_(c), pooled_(pooled) {}
    Lease(Lease&& o) noexcept : store_(o.store_), c_(o.c_), pooled_(o.pooled_), ok_(o.ok_) { o.c_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    redisContext* get() const { return c_; }
    void mark_ok() { ok_ = true; }  // the exchange completed: the connection may be reused
    bool pooled() const { return pooled_; }

   private:
    const RedisStore* store_;
    redisContext* c_;
    bool pooled_;
    bool ok_ = false;
  };
  Result<Lease> lease(bool fresh = false) const;
  template <class T, class F>
  Result<T> exchange(F&& f) const;
  Result<redisContext*> connect() const;
  std::string url() const;

  const RedisAddress addr_;
  const std::chrono::milliseconds ttl_;
  const uint64_t max_result_bytes_;
  mutable std::mutex m_;
  mutable std::vector<redisContext*> idle_;
  bool stopping_ = false;
  std::atomic<uint64_t> puts_{0}, bytes_{0};
};

}  // namespace regain::service
