// The web service (`regain serve`): an embedded HTTP server (cpp-httplib) over process_image,
// plus the upload page. Tests start it in-process on port 0 and talk to it over loopback.
//
//   POST /process            multipart: img, optional ref, boost, format, require_alignment
//   GET  /result/{id}/{name} result.jpg | sdr_preview.jpg | gainmap.png | meta.json
//   GET  /health             {"status":"ok", ...}
//   GET  /                   the upload page (and /app.js, /style.css)
#pragma once
#include "regain/export.h"
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "regain/error.h"
#include "regain/predict.h"

namespace regain::service {

struct ServiceOptions {
  std::string bind = "127.0.0.1";
  int port = 8080;                            // 0: a free port chosen by the kernel (see port())
  int workers = 0;                            // pipeline jobs running at once; 0 = hardware threads
  int queue = -1;                             // jobs that may wait for a worker; -1 = 2 x workers
  uint64_t max_upload_bytes = 40ull << 20;    // per uploaded image
  uint64_t max_pixels = 50'000'000;           // per decoded image (edited and original)
  std::chrono::milliseconds timeout{20'000};  // upload received -> response; then 504, job cancelled
  std::chrono::milliseconds upload_timeout{120'000};  // the whole request body must arrive within this (408)
  std::chrono::milliseconds ttl{600'000};     // results are deleted this long after they were made
  uint64_t max_storage_bytes = 2ull << 30;    // results on disk; past it the oldest go first
  int connection_threads = 0;                 // HTTP connections served at once; 0 = workers + queue + 16
  int pending_connections = -1;               // accepted, waiting for a connection thread; -1 = 2 x threads
  int keep_alive_seconds = 5;                 // idle keep-alive connections are closed after this
  std::filesystem::path temp_root;            // parent of the private storage directory; empty: system temp
  // Where results live: "" = a private directory on this machine (one process); or
  // "redis://HOST:PORT[/DB]" so replicas behind a load balancer share them (keys expire with
  // `ttl`; each result at most min(max_storage_bytes, 512 MB)).
  std::string store;
  const Predictor* predictor = nullptr;       // null: the built-in predictor (tests inject slow ones)
  std::function<void(const std::string&)> log;  // one line per request; null: quiet
};

// Counters for /health, tests and the load script.
struct ServiceStats {
  int workers = 0, queue_capacity = 0;
  int running = 0, queued = 0;     // pipeline jobs now
  uint64_t jobs_done = 0;          // finished with a result or a pipeline error
  uint64_t jobs_cancelled = 0;     // stopped early after their deadline (or at shutdown)
  uint64_t rejected_busy = 0;      // 503: workers busy and queue full
  uint64_t timeouts = 0;           // 504
  uint64_t connections_shed = 0;   // 503 written without a connection thread (too many connections)
  size_t results_stored = 0;       // result sets on disk now
  uint64_t storage_bytes = 0;      // their size
  uint64_t results_evicted = 0;    // deleted before their TTL to stay under max_storage_bytes
  std::string store_kind;          // "disk" or "redis"
  bool store_reachable = true;     // false: results cannot be stored or read (health is 503)
  std::string store_detail;        // why not
};

class REGAIN_API Service {
 public:
  explicit Service(ServiceOptions opt);
  ~Service();  // stop()
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Creates the private storage directory, binds, starts the threads; returns once the port
  // accepts connections. Io error when the address cannot be bound.
  Result<void> start();
  // Stops accepting, cancels running jobs, waits for the threads and deletes the storage
  // directory with everything in it. Idempotent.
  void stop();

  int port() const;                                 // the bound port (after start)
  std::string base_url() const;                     // "http://127.0.0.1:PORT"
  const std::filesystem::path& storage_dir() const; // private 0700 directory (after start)
  const ServiceOptions& options() const;            // with defaults resolved (after start)
  ServiceStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace regain::service
