// What the request handlers share, and the functions that register them. Each route file
// is a thin layer: parse and check the request, call the pipeline / store, answer JSON.
#pragma once
#include <atomic>
#include <functional>

#include "regain/service.h"
#include "service/http_errors.h"
#include "service/http_server.h"
#include "service/job_pool.h"
#include "service/process_job.h"
#include "service/result_store.h"

namespace regain::service {

struct Context {
  ServiceOptions opt;  // defaults resolved
  int threads_per_job = 1;
  JobPool* pool = nullptr;
  ResultStore* store = nullptr;
  Counters* counters = nullptr;
  const std::atomic<bool>* stopping = nullptr;
  std::function<ServiceStats()> stats;

  // Seconds a client should wait after a 503: about the time to work through the queue.
  int retry_after_s() const;
  // The whole request body cap: two images plus form overhead.
  uint64_t max_body_bytes() const { return 2 * opt.max_upload_bytes + (1u << 20); }
};

void add_process_route(HttpServer& http, Context& cx);  // POST /process
void add_result_route(HttpServer& http, Context& cx);   // GET /result/{id}/{name}
void add_page_routes(HttpServer& http, Context& cx);    // GET /, /app.js, /style.css, /health

// The fixed result file names and how they are served.
struct ResultFileKind {
  const char* name;
  const char* content_type;
  const char* download_name;  // Content-Disposition filename
  bool attachment;
};
const ResultFileKind* result_file_kind(std::string_view name);

}  // namespace regain::service
