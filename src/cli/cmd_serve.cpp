// `regain serve`: the web service and upload page (README "Web service").
//   regain serve [--bind 127.0.0.1] [--port 8080] [--workers N] [--queue N] [--max-upload-mb 40]
//                [--max-pixels 50e6] [--timeout 20] [--ttl 600] [--max-storage-mb 2048]
//                [--store redis://HOST:PORT[/DB]] [--quiet]
// Runs until SIGINT/SIGTERM, then deletes every result it stored on disk (results in Redis
// stay until their TTL: other replicas still serve them).
#include <csignal>
#include <cmath>
#include <iostream>
#include <mutex>

#include <pthread.h>

#include "cli/common.h"
#include "regain/service.h"

namespace regain::cli {

namespace {
struct Opts {
  std::string bind = "127.0.0.1";
  int port = 8080, workers = 0, queue = -1;
  double max_upload_mb = 40, max_pixels = 50e6, timeout_s = 20, ttl_s = 600, max_storage_mb = 2048;
  std::string store;
  bool quiet = false;
};
}  // namespace

Runner add_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Run the web service and upload page (POST /process, GET /result/...)");
  auto o = std::make_shared<Opts>();
  cmd->add_option("--bind", o->bind, "Address to listen on (default 127.0.0.1)");
  cmd->add_option("--port", o->port, "Port (default 8080; 0 = any free port)")->check(CLI::Range(0, 65535));
  cmd->add_option("--workers", o->workers, "Images processed at once (default: CPU cores)")->check(CLI::Range(1, 256));
  cmd->add_option("--queue", o->queue, "Requests that may wait for a worker (default: 2 x workers)")->check(CLI::Range(0, 4096));
  cmd->add_option("--max-upload-mb", o->max_upload_mb, "Largest accepted image file, MB (default 40)")->check(CLI::Range(0.001, 1024.0));
  cmd->add_option("--max-pixels", o->max_pixels, "Largest accepted image, pixels (default 50e6)")->check(CLI::Range(1.0, 1e9));
  cmd->add_option("--timeout", o->timeout_s, "Seconds a request may take once uploaded; then 504 (default 20)")->check(CLI::Range(0.001, 3600.0));
  cmd->add_option("--ttl", o->ttl_s, "Seconds results are kept (default 600)")->check(CLI::Range(0.001, 86400.0));
  cmd->add_option("--max-storage-mb", o->max_storage_mb, "Disk for results, MB; past it the oldest go first (default 2048)")
      ->check(CLI::Range(1.0, 1e7));
  cmd->add_option("--store", o->store,
                  "Keep results in Redis (redis://HOST:PORT[/DB]) so replicas behind a load balancer share them "
                  "(default: a private directory on this machine)");
  cmd->add_flag("--quiet", o->quiet, "No per-request log on stderr");
  return [=]() -> int {
    using std::chrono::milliseconds;
    service::ServiceOptions so;
    so.bind = o->bind;
    so.port = o->port;
    so.workers = o->workers;
    so.queue = o->queue;
    so.max_upload_bytes = uint64_t(std::llround(o->max_upload_mb * (1 << 20)));
    so.max_pixels = uint64_t(std::llround(o->max_pixels));
    so.timeout = milliseconds(std::max<long long>(1, std::llround(o->timeout_s * 1000)));
    so.ttl = milliseconds(std::max<long long>(1, std::llround(o->ttl_s * 1000)));
    so.max_storage_bytes = uint64_t(std::llround(o->max_storage_mb * (1 << 20)));
    so.store = o->store;
    if (!o->quiet) {
      auto m = std::make_shared<std::mutex>();
      so.log = [m](const std::string& line) {
        std::lock_guard lock(*m);
        std::cerr << line << "\n";
      };
    }
    // Signals are taken by sigwait below: block them before any thread exists so every
    // thread inherits the mask. A client going away must not kill the server (SIGPIPE).
    std::signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    service::Service svc(so);
    if (auto r = svc.start(); !r) return report(r.error(), "serve");
    const auto& eff = svc.options();
    std::cout << "regain serve: listening on " << svc.base_url() << "/ (workers " << eff.workers << ", queue "
              << eff.queue << ", timeout " << o->timeout_s << " s, results kept " << o->ttl_s << " s in "
              << (o->store.empty() ? "a private directory" : o->store) << ")" << std::endl;
    int sig = 0;
    sigwait(&set, &sig);
    std::cerr << "regain serve: stopping (" << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ")\n";
    svc.stop();
    return kOk;
  };
}

}  // namespace regain::cli
