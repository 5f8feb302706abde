#include "service/redis_store.h"

#include <hiredis/hiredis.h>

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

// A full store says so in its OOM error ("OOM command not allowed when used memory >
// 'maxmemory'"): that is a full store (503 store_full), everything else an unavailable one.
Error store_error(const std::string& what) {
  if (what.find("OOM") != std::string::npos)
    return Error{ErrorCode::TooLarge, "the result store is full (" + what + ")"};
  return Error{ErrorCode::Io, "the result store is unavailable (" + what + ")"};
}

class Bytes final : public StoredFile {
 public:
  explicit Bytes(std::string d) : data_(std::move(d)) {}
  size_t size() const override { return data_.size(); }
  ssize_t read(size_t offset, size_t n, char* out) const override {
    if (offset >= data_.size()) return 0;
    n = std::min(n, data_.size() - offset);
    std::memcpy(out, data_.data() + offset, n);
    return ssize_t(n);
  }

 private:
  std::string data_;
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
    return tl::unexpected(store_error("connect to " + url() + ": " + why));
  }
  const timeval io_timeout{5, 0};  // a stalled server fails the request instead of hanging it
  redisSetTimeout(c, io_timeout);
  if (addr_.db != 0) {
    Reply r(static_cast<redisReply*>(redisCommand(c, "SELECT %d", addr_.db)));
    if (is_error(r)) {
      std::string why = r ? reply_error(r) : c->errstr;
      redisFree(c);
      return tl::unexpected(store_error("SELECT " + std::to_string(addr_.db) + ": " + why));
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

Result<RedisStore::Lease> RedisStore::lease() const {
  {
    std::lock_guard lock(m_);
    if (stopping_) return fail(ErrorCode::Io, "the server is stopping");
    if (!idle_.empty()) {
      redisContext* c = idle_.back();
      idle_.pop_back();
      return Lease(this, c);
    }
  }
  REGAIN_TRY(c, connect());
  return Lease(this, c);
}

Result<std::string> RedisStore::put(std::span<const File> files) {
  uint64_t size = 0;
  for (const auto& f : files) size += f.data.size();
  if (size > max_result_bytes_)
    return fail(ErrorCode::TooLarge, "the result (" + std::to_string(size >> 20) + " MB) is larger than the store accepts");
  REGAIN_TRY(lease, this->lease());
  redisContext* c = lease.get();
  const std::string id = random_id();
  const std::string px = std::to_string(ttl_.count());
  // One transaction: every file of the set appears at once, each expiring with the TTL.
  redisAppendCommand(c, "MULTI");
  for (const auto& f : files) {
    const std::string key = key_of(id, f.name);
    redisAppendCommand(c, "SET %b %b PX %s NX", key.data(), key.size(), f.data.data(), f.data.size(), px.c_str());
  }
  redisAppendCommand(c, "EXEC");
  std::string first_error;
  bool exec_ok = false;
  for (size_t k = 0; k < files.size() + 2; ++k) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK) return tl::unexpected(store_error(c->errstr));
    Reply r(static_cast<redisReply*>(raw));
    if (is_error(r)) {
      if (first_error.empty()) first_error = reply_error(r);
    } else if (k == files.size() + 1) {
      exec_ok = r->type == REDIS_REPLY_ARRAY && r->elements == files.size();
      for (size_t i = 0; exec_ok && i < r->elements; ++i)
        exec_ok = r->element[i]->type == REDIS_REPLY_STATUS;  // +OK (nil if the key existed)
    }
  }
  if (!first_error.empty() || !exec_ok) {
    lease.mark_ok();  // the connection itself is fine: the server answered
    return tl::unexpected(store_error(first_error.empty() ? "transaction failed" : first_error));
  }
  lease.mark_ok();
  puts_.fetch_add(1);
  bytes_.fetch_add(size);
  return id;
}

Result<std::shared_ptr<const StoredFile>> RedisStore::open(std::string_view id, std::string_view name) const {
  if (!is_valid_id(id)) return fail(ErrorCode::NotFound, "no such result");
  REGAIN_TRY(lease, this->lease());
  const std::string key = key_of(id, name);
  Reply r(static_cast<redisReply*>(redisCommand(lease.get(), "GET %b", key.data(), key.size())));
  if (!r) return tl::unexpected(store_error(lease.get()->errstr));
  if (r->type == REDIS_REPLY_NIL) {
    lease.mark_ok();
    return fail(ErrorCode::NotFound, "no such result");
  }
  if (r->type != REDIS_REPLY_STRING) return tl::unexpected(store_error(reply_error(r)));
  lease.mark_ok();
  return std::shared_ptr<const StoredFile>(std::make_shared<Bytes>(std::string(r->str, r->len)));
}

StoreStatus RedisStore::status() const {
  StoreStatus s;
  s.kind = "redis";
  s.location = url();
  s.results = puts_.load();
  s.bytes = bytes_.load();
  auto lease = this->lease();
  if (!lease) {
    s.detail = lease.error().message;
    return s;
  }
  Reply r(static_cast<redisReply*>(redisCommand(lease->get(), "PING")));
  s.reachable = r && r->type == REDIS_REPLY_STATUS;
  if (s.reachable) lease->mark_ok();
  else s.detail = r ? reply_error(r) : std::string(lease->get()->errstr);
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
