#include "service/redis_store.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <cstring>

namespace regain::service {

namespace {

// Replies are freed whatever path a function takes.
struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

bool is_error(const Reply& r) { return !r || r->type == REDIS_REPLY_ERROR; }
std::string reply_error(const Reply& r) { return r ? std::string(r->str, r->len) : "no reply"; }

Error unavailable(const std::string& why) { return Error{ErrorCode::Io, "the result store is unavailable (" + why + ")"}; }

// What the server answered with an error reply. A full Redis (maxmemory, noeviction) refuses
// writes with "OOM command not allowed ...": a full store (503 store_full); anything else
// means it cannot be used (503 store_unavailable).
Error reply_failure(const std::string& reply) {
  if (reply.rfind("OOM", 0) == 0) return Error{ErrorCode::TooLarge, "the result store is full (" + reply + ")"};
  return unavailable(reply);
}

// A stored file served straight from hiredis's reply (no second copy of a large result).
class ReplyBytes final : public StoredFile {
 public:
  explicit ReplyBytes(Reply r) : r_(std::move(r)) {}
  size_t size() const override { return r_->len; }
  ssize_t read(size_t offset, size_t n, char* out) const override {
    if (offset >= r_->len) return 0;
    n = std::min(n, r_->len - offset);
    std::memcpy(out, r_->str + offset, n);
    return ssize_t(n);
  }

 private:
  Reply r_;
};

// hiredis writes with send() without MSG_NOSIGNAL: a connection Redis dropped would raise
// SIGPIPE and kill a program that embeds the service without ignoring it. SIGPIPE is blocked
// in this thread for the exchange, and one it raised is taken off the pending set.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      const timespec now{0, 0};
      sigtimedwait(&pipe_, nullptr, &now);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

}  // namespace

Result<RedisAddress> parse_redis_url(std::string_view url) {
  auto bad = [&] { return fail(ErrorCode::InvalidInput, "store URL must be redis://HOST:PORT[/DB], not '" + std::string(url) + "'"); };
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme) return bad();
  std::string_view rest = url.substr(scheme.size());
  RedisAddress a;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), a.db);
    if (ec != std::errc() || p != db.data() + db.size() || a.db < 0 || a.db > 65535) return bad();
    rest = rest.substr(0, slash);
  }
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad();
  a.host = std::string(rest.substr(0, colon));
  std::string_view port = rest.substr(colon + 1);
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (ec != std::errc() || p != port.data() + port.size() || a.port < 1 || a.port > 65535) return bad();
  return a;
}

RedisStore::RedisStore(RedisAddress addr, std::chrono::milliseconds ttl, uint64_t max_result_bytes)
    : addr_(std::move(addr)), ttl_(ttl), max_result_bytes_(max_result_bytes) {}

RedisStore::~RedisStore() { shutdown(); }

std::string RedisStore::url() const {
  return "redis://" + addr_.host + ":" + std::to_string(addr_.port) + "/" + std::to_string(addr_.db);
}

Result<redisContext*> RedisStore::connect() const {
  const timeval connect_timeout{1, 0};
  redisContext* c = redisConnectWithTimeout(addr_.host.c_str(), addr_.port, connect_timeout);
  if (!c || c->err) {
    std::string why = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    return tl::unexpected(unavailable("connect to " + url() + ": " + why));
  }
  const timeval io_timeout{5, 0};  // a stalled server fails the request instead of hanging it
  redisSetTimeout(c, io_timeout);
  if (addr_.db != 0) {
    Reply r(static_cast<redisReply*>(redisCommand(c, "SELECT %d", addr_.db)));
    if (is_error(r)) {
      std::string why = r ? reply_error(r) : c->errstr;
      redisFree(c);
      return tl::unexpected(unavailable("SELECT " + std::to_string(addr_.db) + ": " + why));
    }
  }
  return c;
}

// A connection from the pool (or a new one). Returned to the pool only after a clean
// exchange; after any error it is closed, so a restarted server is reconnected to.
RedisStore::Lease::~Lease() {
  if (!c_) return;
  if (ok_ && store_) {
    std::lock_guard lock(store_->m_);
    if (!store_->stopping_ && store_->idle_.size() < 16) {
      store_->idle_.push_back(c_);
      return;
    }
  }
  redisFree(c_);
}

Result<RedisStore::Lease> RedisStore::lease(bool fresh) const {
  {
    std::lock_guard lock(m_);
    if (stopping_) return fail(ErrorCode::Io, "the server is stopping");
    if (!fresh && !idle_.empty()) {
      redisContext* c = idle_.back();
      idle_.pop_back();
      return Lease(this, c, true);
    }
  }
  REGAIN_TRY(c, connect());
  return Lease(this, c, false);
}

// One exchange on a leased connection. A pooled connection that fails at the I/O level (Redis
// restarted, or something closed it while it sat idle) is dropped and the exchange tried once
// more on a new connection, so a restart costs no request an error.
template <class T, class F>
Result<T> RedisStore::exchange(F&& f) const {
  for (int attempt = 0;; ++attempt) {
    REGAIN_TRY(lease, this->lease(attempt > 0));
    Result<T> r = [&] {
      SigpipeGuard guard;
      return f(lease);
    }();
    if (!r && lease.pooled() && lease.get()->err != 0 && attempt == 0) continue;
    return r;
  }
}

Result<std::string> RedisStore::put(std::span<const File> files) {
  uint64_t size = 0;
  for (const auto& f : files) size += f.data.size();
  if (size > max_result_bytes_)  // never fits: not a retryable 503 (507 result_too_large)
    return fail(ErrorCode::Unsupported, "the result (" + std::to_string(size >> 20) + " MB) is larger than the store accepts (" +
                                            std::to_string(max_result_bytes_ >> 20) + " MB)");
  const std::string px = std::to_string(ttl_.count());
  auto id = exchange<std::string>([&](Lease& lease) -> Result<std::string> {
    redisContext* c = lease.get();
    const std::string id = random_id();  // a new one per attempt: a lost EXEC reply may have stored the first
    // One transaction: every file of the set appears at once, each expiring with the TTL.
    bool queued = redisAppendCommand(c, "MULTI") == REDIS_OK;
    for (const auto& f : files) {
      const std::string key = key_of(id, f.name);
      queued = queued && redisAppendCommand(c, "SET %b %b PX %s NX", key.data(), key.size(), f.data.data(),
                                            f.data.size(), px.c_str()) == REDIS_OK;
    }
    queued = queued && redisAppendCommand(c, "EXEC") == REDIS_OK;
    if (!queued) return tl::unexpected(unavailable("cannot queue the commands (out of memory)"));  // not returned to the pool
    std::string first_error;
    bool exec_ok = false;
    for (size_t k = 0; k < files.size() + 2; ++k) {
      void* raw = nullptr;
      if (redisGetReply(c, &raw) != REDIS_OK) return tl::unexpected(unavailable(c->errstr));
      Reply r(static_cast<redisReply*>(raw));
      if (is_error(r)) {
        if (first_error.empty()) first_error = reply_error(r);
      } else if (k == files.size() + 1) {
        exec_ok = r->type == REDIS_REPLY_ARRAY && r->elements == files.size();
        for (size_t i = 0; exec_ok && i < r->elements; ++i)
          exec_ok = r->element[i]->type == REDIS_REPLY_STATUS;  // +OK (nil if the key existed)
      }
    }
    lease.mark_ok();  // every reply was read: the connection is in a clean state
    if (!first_error.empty()) return tl::unexpected(reply_failure(first_error));
    if (!exec_ok) return tl::unexpected(unavailable("the transaction did not store every file"));
    return id;
  });
  if (id) {
    puts_.fetch_add(1);
    bytes_.fetch_add(size);
  }
  return id;
}

Result<std::shared_ptr<const StoredFile>> RedisStore::open(std::string_view id, std::string_view name) const {
  if (!is_valid_id(id)) return fail(ErrorCode::NotFound, "no such result");
  const std::string key = key_of(id, name);
  return exchange<std::shared_ptr<const StoredFile>>([&](Lease& lease) -> Result<std::shared_ptr<const StoredFile>> {
    Reply r(static_cast<redisReply*>(redisCommand(lease.get(), "GET %b", key.data(), key.size())));
    if (!r) return tl::unexpected(unavailable(lease.get()->errstr));
    lease.mark_ok();
    if (r->type == REDIS_REPLY_NIL) return fail(ErrorCode::NotFound, "no such result");
    if (r->type != REDIS_REPLY_STRING) return tl::unexpected(reply_failure(reply_error(r)));
    return std::shared_ptr<const StoredFile>(std::make_shared<ReplyBytes>(std::move(r)));
  });
}

StoreStatus RedisStore::status() const {
  StoreStatus s;
  s.kind = "redis";
  s.location = url();
  s.results = puts_.load();
  s.bytes = bytes_.load();
  auto pong = exchange<bool>([&](Lease& lease) -> Result<bool> {
    Reply r(static_cast<redisReply*>(redisCommand(lease.get(), "PING")));
    if (!r) return tl::unexpected(unavailable(lease.get()->errstr));
    lease.mark_ok();
    if (r->type != REDIS_REPLY_STATUS) return tl::unexpected(reply_failure(reply_error(r)));
    return true;
  });
  s.reachable = pong.has_value();
  if (!pong) s.detail = pong.error().message;
  return s;
}

void RedisStore::shutdown() {
  std::vector<redisContext*> idle;
  {
    std::lock_guard lock(m_);
    stopping_ = true;
    idle.swap(idle_);
  }
  for (auto* c : idle) redisFree(c);
}

std::string RedisStore::key_of(std::string_view id, std::string_view name) {
  return "regain:result:" + std::string(id) + ":" + std::string(name);
}

}  // namespace regain::service
