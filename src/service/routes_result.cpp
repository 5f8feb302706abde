// GET /result/{id}/{name}: a stored result file, streamed from its open descriptor (memory
// stays flat however large the file), with a fixed Content-Type and Content-Disposition.
#include <sys/stat.h>
#include <unistd.h>

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
    const int fd = kind ? cx.store->open(id, name) : -1;
    if (fd < 0)
      return send_error(res, not_found("no such result (results are deleted " +
                                       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(cx.opt.ttl).count()) +
                                       " s after they were made)"));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return send_error(res, internal("cannot read the stored result"));
    }
    res.status = 200;
    res.set_header("Cache-Control", "no-store");
    res.set_header("Content-Disposition", std::string(kind->attachment ? "attachment" : "inline") +
                                              "; filename=\"" + kind->download_name + "\"");
    auto owned = std::make_shared<int>(fd);  // closed by the releaser, whatever happens to the response
    res.set_content_provider(
        size_t(st.st_size), kind->content_type,
        [owned](size_t offset, size_t length, httplib::DataSink& sink) {
          char buf[65536];
          const ssize_t n = ::pread(*owned, buf, std::min(length, sizeof buf), off_t(offset));
          if (n <= 0) return false;
          return sink.write(buf, size_t(n));
        },
        [owned](bool) {
          if (*owned >= 0) ::close(*owned);
          *owned = -1;
        });
  });
}

}  // namespace regain::service
