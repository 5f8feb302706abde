// POST /process: multipart form -> pipeline job (bounded pool, deadline) -> stored results
// -> JSON with the id, the mode used, a metadata summary, warnings and the result URLs.
#include <nlohmann/json.hpp>

#include "regain/process.h"
#include "service/routes.h"
#include "service/upload_form.h"

namespace regain::service {

namespace {

using nlohmann::json;

// Reads and throws away the rest of the body (so the reply can be read on a clean connection).
bool discard_body(const httplib::ContentReader& reader, const httplib::Request& req) {
  auto sink = [](const char*, size_t) { return true; };
  if (req.is_multipart_form_data())
    return reader([](const httplib::MultipartFormData&) { return true; }, sink);
  return reader(sink);
}

const char* output_name(const json& meta) {
  const std::string f = meta.contains("output") ? meta["output"].value("format", "jpeg") : "jpeg";
  if (f == "heic") return "result.heic";
  if (f == "avif") return "result.avif";
  return "result.jpg";
}

// What the page and API clients need; meta.json holds everything.
json summary_of(const json& meta) {
  json s;
  for (const char* k : {"boost", "boost_reason", "predictor", "input", "gain_map", "edited_share",
                        "outside_reference_share", "timings_ms"})
    if (meta.contains(k) && !meta[k].is_null()) s[k] = meta[k];
  if (meta.contains("metadata") && meta["metadata"].is_object())
    s["hdr_headroom"] = meta["metadata"].value("alternate_hdr_headroom", 0.0);
  if (meta.contains("alignment") && meta["alignment"].is_object()) {
    const auto& a = meta["alignment"];
    s["alignment"] = {{"trusted", a.value("trusted", false)}, {"model", a.value("model", "")},
                      {"inliers", a.value("inliers", 0)}};
  }
  return s;
}

void handle(Context& cx, const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  if (cx.stopping->load()) {
    discard_body(reader, req);
    return send_error(res, shutting_down());
  }
  if (!req.is_multipart_form_data()) {
    if (!discard_body(reader, req)) HttpServer::close_after_response();
    return send_error(res, bad_request("POST /process takes multipart/form-data with an 'img' file part"));
  }
  // The request takes its place in the job queue before its upload is read, so at most
  // workers + queue uploads are ever held in memory. Without a place nothing is buffered: the
  // body is read and dropped so the client sees the 503 rather than a reset connection.
  JobPool::Reservation place = cx.pool->reserve();
  if (!place) {
    cx.counters->rejected_busy.fetch_add(1);
    if (!discard_body(reader, req)) HttpServer::close_after_response();
    return send_error(res, busy(cx.retry_after_s()));
  }

  UploadForm::Limits limits{cx.opt.max_upload_bytes, cx.max_body_bytes(), 64,
                            std::chrono::steady_clock::now() + cx.opt.upload_timeout};
  UploadForm form(limits);
  const bool read_all = reader([&](const httplib::MultipartFormData& h) { return form.on_part(h); },
                               [&](const char* d, size_t n) { return form.on_data(d, n); });
  if (!read_all) {
    // Part of the body is still unread: answer, then close the connection.
    HttpServer::close_after_response();
    res.set_header("Connection", "close");
    if (form.problem()) return send_error(res, *form.problem());
    if (res.status == 413)
      return send_error(res, too_large("the upload is larger than the server accepts"));
    return send_error(res, bad_request("the multipart body could not be read (malformed or cut short)"));
  }
  if (form.problem()) return send_error(res, *form.problem());

  ProcessParams p;
  if (auto e = parse_process_params(form, p)) return send_error(res, *e);
  if (!form.has_file("img")) return send_error(res, bad_request("the form needs an 'img' file part (the edited image)"));
  std::vector<uint8_t> img = form.take_file("img");
  std::optional<std::vector<uint8_t>> ref;
  if (form.has_file("ref")) {
    ref = form.take_file("ref");
    if (ref->empty()) ref.reset();  // an empty file input is "no original"
  }
  if (img.empty()) return send_error(res, bad_request("the 'img' part is empty"));
  if (auto e = check_upload_types(img, ref ? &*ref : nullptr)) return send_error(res, *e);
  const bool had_ref = ref.has_value();

  ProcessOptions po;
  po.boost = p.boost;
  po.format = p.format;
  po.background = p.background;
  po.predictor = cx.opt.predictor;
  po.threads = cx.threads_per_job;
  po.want_previews = true;  // the result page shows both
  po.limits.max_pixels = cx.opt.max_pixels;
  po.limits.max_file_bytes = cx.opt.max_upload_bytes;
  auto job = std::make_shared<ProcessJob>(std::move(img), std::move(ref), po, *cx.counters);
  if (!cx.pool->submit(place, job)) return send_error(res, shutting_down());
  // The deadline runs from here (upload received), so slow networks do not eat into it.
  switch (job->wait_until(ProcessJob::Clock::now() + cx.opt.timeout)) {
    case ProcessJob::Outcome::Done: break;
    case ProcessJob::Outcome::Dropped: return send_error(res, shutting_down());
    case ProcessJob::Outcome::TimedOut:
      cx.pool->withdraw(job.get());
      cx.counters->timeouts.fetch_add(1);
      return send_error(res, deadline_passed(std::chrono::duration<double>(cx.opt.timeout).count()));
  }
  auto r = job->take_result();
  job.reset();
  if (!r) {
    if (cx.stopping->load()) return send_error(res, shutting_down());
    return send_error(res, http_error_for(r.error()));
  }
  const std::string mode = r->meta.value("mode", "");
  if (p.require_alignment && had_ref && mode != "reference") {
    std::string why = "the original could not be aligned with the edited image";
    for (const auto& w : r->meta["warnings"])
      if (w.is_string() && w.get<std::string>().find("alignment") != std::string::npos) why = w.get<std::string>();
    return send_error(res, unusable("not_aligned", why));
  }

  const std::string meta_text = r->meta.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  const char* out_name = output_name(r->meta);
  const ResultStore::File files[] = {
      {out_name, r->output},
      {"sdr_preview.jpg", r->sdr_preview},
      {"gainmap.png", r->gainmap_png},
      {"where_hdr.jpg", r->where_hdr_jpeg},
      {"meta.json", std::span(reinterpret_cast<const uint8_t*>(meta_text.data()), meta_text.size())}};
  auto id = cx.store->put(files);
  if (!id) {
    const ErrorCode c = id.error().code;
    if (c == ErrorCode::TooLarge || c == ErrorCode::Io || c == ErrorCode::Unsupported) return send_error(res, store_error(id.error()));
    return send_error(res, internal("could not store the results: " + id.error().message));
  }

  const std::string base = "/result/" + *id + "/";
  json out = {{"id", *id},
              {"mode", mode},
              {"warnings", r->meta.contains("warnings") ? r->meta["warnings"] : json::array()},
              {"metadata", summary_of(r->meta)},
              {"results",
               {{"hdr", base + out_name},
                {"sdr_preview", base + "sdr_preview.jpg"},
                {"gainmap", base + "gainmap.png"},
                {"where_hdr", base + "where_hdr.jpg"},
                {"meta", base + "meta.json"}}},
              {"expires_in_s", std::chrono::duration<double>(cx.opt.ttl).count()}};
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_content(out.dump(-1, ' ', false, json::error_handler_t::replace) + "\n", "application/json");
}

}  // namespace

int Context::retry_after_s() const {
  const double job_s = double(counters->recent_job_us.load()) / 1e6;
  const double wait = job_s * double(pool->queue_capacity() + pool->workers()) / std::max(1, pool->workers());
  return std::clamp(int(std::ceil(wait)), 1, 60);
}

void add_process_route(HttpServer& http, Context& cx) {
  http.Post("/process", [&cx](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    handle(cx, req, res, reader);
  });
}

}  // namespace regain::service
