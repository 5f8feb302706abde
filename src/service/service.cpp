// Service: owns the pieces (result store, job pool, HTTP server) and their order of start
// and stop.
#include <sstream>
#include <thread>

#include "regain/service.h"
#include "service/disk_store.h"
#include "service/routes.h"

namespace regain::service {

struct Service::Impl {
  ServiceOptions opt;
  Counters counters;
  std::atomic<bool> stopping{false};
  std::unique_ptr<ResultStore> store;
  std::unique_ptr<JobPool> pool;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<Context> cx;
  std::thread listener;
  std::filesystem::path dir;
  int port = -1;
  bool started = false, stopped = false;
  std::mutex lifecycle;

  void configure_http();
};

namespace {

Result<void> resolve(ServiceOptions& o) {
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  if (o.workers <= 0) o.workers = cores;
  if (o.queue < 0) o.queue = 2 * o.workers;
  if (o.connection_threads <= 0) o.connection_threads = o.workers + o.queue + 16;
  if (o.pending_connections < 0) o.pending_connections = 2 * o.connection_threads;
  if (o.port < 0 || o.port > 65535) return fail(ErrorCode::InvalidInput, "port must be 0..65535");
  if (o.max_upload_bytes == 0) return fail(ErrorCode::InvalidInput, "the upload limit must be positive");
  if (o.max_pixels == 0) return fail(ErrorCode::InvalidInput, "the pixel limit must be positive");
  if (o.timeout.count() <= 0) return fail(ErrorCode::InvalidInput, "the timeout must be positive");
  if (o.ttl.count() <= 0) return fail(ErrorCode::InvalidInput, "the TTL must be positive");
  if (o.upload_timeout.count() <= 0) return fail(ErrorCode::InvalidInput, "the upload timeout must be positive");
  return {};
}

}  // namespace

void Service::Impl::configure_http() {
  http = std::make_unique<HttpServer>(opt.connection_threads, opt.pending_connections, opt.keep_alive_seconds);
  HttpServer& h = *http;
  h.set_payload_max_length(size_t(cx->max_body_bytes()));
  h.set_read_timeout(10, 0);
  h.set_write_timeout(10, 0);
  h.set_default_headers({{"X-Content-Type-Options", "nosniff"}, {"Referrer-Policy", "no-referrer"}});
  // Clients that ask first (curl for large bodies) learn about an oversized upload before
  // sending it.
  h.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.has_header("Content-Length") &&
        req.get_header_value<uint64_t>("Content-Length") > cx->max_body_bytes()) {
      send_error(res, too_large("the upload is larger than the server accepts"));
      HttpServer::close_after_response();  // the body will not follow
      return 413;
    }
    return 100;
  });
  // Errors httplib produces itself (bad request line, unknown path, Content-Length over the
  // cap) get the same JSON body as ours.
  h.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty() || res.has_header("Content-Length")) return httplib::Server::HandlerResponse::Unhandled;
    const char* message = res.status == 404   ? "no such page"
                          : res.status == 413 ? "the upload is larger than the server accepts"
                          : res.status == 400 ? "the request could not be parsed"
                                              : "the request failed";
    send_error(res, HttpError{res.status, code_for_status(res.status), message});
    return httplib::Server::HandlerResponse::Handled;
  }));
  h.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    send_error(res, internal("unexpected server error"));
  });
  if (opt.log) {
    h.set_logger([log = opt.log](const httplib::Request& req, const httplib::Response& res) {
      std::ostringstream s;
      s << req.remote_addr << " " << req.method << " " << req.path << " " << res.status;
      log(s.str());
    });
  }
  add_page_routes(h, *cx);
  add_process_route(h, *cx);
  add_result_route(h, *cx);
}

Service::Service(ServiceOptions opt) : impl_(std::make_unique<Impl>()) { impl_->opt = std::move(opt); }

Service::~Service() { stop(); }

Result<void> Service::start() {
  Impl& m = *impl_;
  std::lock_guard lock(m.lifecycle);
  if (m.started) return fail(ErrorCode::InvalidInput, "the service was already started");
  REGAIN_CHECK(resolve(m.opt));
  REGAIN_TRY(store, make_result_store(m.opt.store, m.opt.temp_root, m.opt.ttl, m.opt.max_storage_bytes));
  m.store = std::move(store);
  if (auto* disk = dynamic_cast<DiskStore*>(m.store.get())) m.dir = disk->dir();
  m.pool = std::make_unique<JobPool>(m.opt.workers, m.opt.queue);
  m.cx = std::make_unique<Context>();
  Context& cx = *m.cx;
  cx.opt = m.opt;
  cx.threads_per_job = std::max(1, int(std::max(1u, std::thread::hardware_concurrency())) / m.opt.workers);
  cx.pool = m.pool.get();
  cx.store = m.store.get();
  cx.counters = &m.counters;
  cx.stopping = &m.stopping;
  cx.stats = [this] { return stats(); };
  m.configure_http();

  bool bound = false;
  if (m.opt.port == 0) {
    m.port = m.http->bind_to_any_port(m.opt.bind);
    bound = m.port > 0;
  } else {
    bound = m.http->bind_to_port(m.opt.bind, m.opt.port);
    m.port = m.opt.port;
  }
  if (!bound) {
    m.pool->shutdown();
    m.store->shutdown();
    return fail(ErrorCode::Io, "cannot listen on " + m.opt.bind + ":" + std::to_string(m.opt.port) +
                                   " (address in use or not available)");
  }
  m.http->widen_backlog(128);
  m.listener = std::thread([&m] { m.http->listen_after_bind(); });
  // stop() only works once the accept loop runs; connections made before are held in the
  // backlog, so this wait costs clients nothing.
  while (!m.http->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  m.started = true;
  return {};
}

void Service::stop() {
  Impl& m = *impl_;
  std::lock_guard lock(m.lifecycle);
  if (!m.started || m.stopped) return;
  m.stopped = true;
  m.stopping = true;
  // Jobs first: waiting handlers wake (queued jobs dropped, running ones cancelled) and
  // answer 503, so the connection threads can finish.
  m.pool->shutdown();
  m.http->stop();
  if (m.listener.joinable()) m.listener.join();  // joins every connection thread
  m.store->shutdown();                           // nothing writes any more: delete everything
}

int Service::port() const { return impl_->port; }

std::string Service::base_url() const {
  const std::string& b = impl_->opt.bind;
  const std::string host = (b == "0.0.0.0" || b.empty()) ? "127.0.0.1" : b == "::" ? "[::1]"
                           : b.find(':') != std::string::npos ? "[" + b + "]" : b;
  return "http://" + host + ":" + std::to_string(impl_->port);
}

const std::filesystem::path& Service::storage_dir() const { return impl_->dir; }

const ServiceOptions& Service::options() const { return impl_->opt; }

ServiceStats Service::stats() const {
  const Impl& m = *impl_;
  ServiceStats s;
  s.workers = m.opt.workers;
  s.queue_capacity = m.opt.queue;
  if (m.pool) {
    s.running = m.pool->running();
    s.queued = m.pool->queued() + m.pool->reserved();
  }
  s.jobs_done = m.counters.jobs_done.load();
  s.jobs_cancelled = m.counters.jobs_cancelled.load();
  s.rejected_busy = m.counters.rejected_busy.load();
  s.timeouts = m.counters.timeouts.load();
  if (m.http) s.connections_shed = m.http->connections_shed();
  if (m.store) {
    const StoreStatus st = m.store->status();
    s.results_stored = st.results;
    s.storage_bytes = st.bytes;
    s.results_evicted = st.evicted;
    s.store_kind = st.kind;
    s.store_reachable = st.reachable;
    s.store_detail = st.detail;
  }
  return s;
}

}  // namespace regain::service
