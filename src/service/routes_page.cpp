// GET / (the upload page and its two assets) and GET /health.
#include <nlohmann/json.hpp>

#include "service/routes.h"
#include "service/web_assets.h"

namespace regain::service {

void add_page_routes(HttpServer& http, Context& cx) {
  for (const char* path : {"/", "/app.js", "/style.css"}) {
    http.Get(path, [](const httplib::Request& req, httplib::Response& res) {
      const WebAsset* a = find_web_asset(req.path);
      if (!a) return send_error(res, not_found("no such page"));
      res.status = 200;
      res.set_header("Cache-Control", "no-cache");
      if (a->content_type.starts_with("text/html")) {
        // Only our own script and style; results are same-origin images.
        res.set_header("Content-Security-Policy",
                       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
                       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
        res.set_header("X-Frame-Options", "DENY");
      }
      res.set_content(std::string(a->body), std::string(a->content_type));
    });
  }
  http.Get("/health", [&cx](const httplib::Request&, httplib::Response& res) {
    const ServiceStats s = cx.stats();
    const bool healthy = !cx.stopping->load() && s.store_reachable;
    nlohmann::json j = {{"status", cx.stopping->load() ? "stopping" : s.store_reachable ? "ok" : "store_unavailable"},
                        {"store", {{"kind", s.store_kind}, {"reachable", s.store_reachable}, {"detail", s.store_detail}}},
                        {"workers", s.workers},
                        {"queue_capacity", s.queue_capacity},
                        {"running", s.running},
                        {"queued", s.queued},
                        {"results_stored", s.results_stored},
                        {"storage_bytes", s.storage_bytes},
                        {"results_evicted", s.results_evicted},
                        {"jobs_done", s.jobs_done},
                        {"jobs_cancelled", s.jobs_cancelled},
                        {"rejected_busy", s.rejected_busy},
                        {"timeouts", s.timeouts},
                        {"connections_shed", s.connections_shed},
                        // Limits, so the page can say them before an upload fails.
                        {"max_upload_bytes", cx.opt.max_upload_bytes},
                        {"max_pixels", cx.opt.max_pixels},
                        {"timeout_s", std::chrono::duration<double>(cx.opt.timeout).count()},
                        {"ttl_s", std::chrono::duration<double>(cx.opt.ttl).count()}};
    // 503 drains this replica at a load balancer (stopping, or its store is down).
    res.status = healthy ? 200 : 503;
    res.set_header("Cache-Control", "no-store");
    res.set_content(j.dump() + "\n", "application/json");
  });
  // The other methods on known paths: 405 with Allow, not a bare 404.
  auto not_allowed = [](const char* allow) {
    return [allow](const httplib::Request&, httplib::Response& res) {
      res.set_header("Allow", allow);
      send_error(res, HttpError{405, "method_not_allowed", std::string("use ") + allow});
    };
  };
  http.Get("/process", not_allowed("POST"));
  http.Put("/process", not_allowed("POST"));
  http.Delete("/process", not_allowed("POST"));
  http.Post("/health", not_allowed("GET"));
  http.Post(R"(/result/.*)", not_allowed("GET"));
}

}  // namespace regain::service
