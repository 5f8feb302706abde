// GET /result/{id}/{name}: a stored result file, streamed from the store (the disk store's
// open descriptor keeps memory flat however large the file), with a fixed Content-Type and
// Content-Disposition. 404 for unknown or expired results, 503 when the store is down.
#include <algorithm>
#include <memory>

#include "service/routes.h"

namespace regain::service {

namespace {
const ResultFileKind kKinds[] = {
    {"result.jpg", "image/jpeg", "regain_hdr.jpg", true},
    {"result.heic", "image/heic", "regain_hdr.heic", true},
    {"result.avif", "image/avif", "regain_hdr.avif", true},
    {"sdr_preview.jpg", "image/jpeg", "regain_sdr_preview.jpg", false},
    {"gainmap.png", "image/png", "regain_gainmap.png", false},
    {"where_hdr.jpg", "image/jpeg", "regain_where_hdr.jpg", false},
    {"meta.json", "application/json", "regain_meta.json", false},
};
}  // namespace

const ResultFileKind* result_file_kind(std::string_view name) {
  for (const auto& k : kKinds)
    if (name == k.name) return &k;
  return nullptr;
}

void add_result_route(HttpServer& http, Context& cx) {
  http.Get(R"(/result/([^/]*)/([^/]*))", [&cx](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1], name = req.matches[2];
    const ResultFileKind* kind = result_file_kind(name);
    auto none = [&] {
      return send_error(res, not_found("no such result (results are deleted " +
                                       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(cx.opt.ttl).count()) +
                                       " s after they were made)"));
    };
    if (!kind) return none();
    auto file = cx.store->open(id, name);
    if (!file) return file.error().code == ErrorCode::NotFound ? none() : send_error(res, store_error(file.error()));
    res.status = 200;
    res.set_header("Cache-Control", "no-store");
    res.set_header("Content-Disposition", std::string(kind->attachment ? "attachment" : "inline") +
                                              "; filename=\"" + kind->download_name + "\"");
    std::shared_ptr<const StoredFile> f = std::move(*file);  // kept by the provider until the response is sent
    res.set_content_provider(f->size(), kind->content_type, [f](size_t offset, size_t length, httplib::DataSink& sink) {
      char buf[65536];
      const ssize_t n = f->read(offset, std::min(length, sizeof buf), buf);
      if (n <= 0) return false;
      return sink.write(buf, size_t(n));
    });
  });
}

}  // namespace regain::service
