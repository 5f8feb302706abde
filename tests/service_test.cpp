// The web service end to end: a Service started in-process on a random loopback port, driven
// over HTTP with httplib's client (and raw sockets where a client library would tidy up the
// request). Every endpoint, every error status, limits, deadline, concurrency, storage.
#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <webp/encode.h>

#include "container/exif.h"
#include "regain/codec.h"
#include "regain/jpegr.h"
#include "regain/pipeline.h"
#include "regain/process.h"
#include "regain/service.h"
#include "regain/synthetic.h"
#include "service/redis_store.h"
#include "service/result_store.h"
#include "test_support.h"

using namespace regain;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> scene_jpeg(int w, int h, SceneKind kind = SceneKind::Sunset) {
  auto j = encode_jpeg(tone_map_to_sdr(synthetic_hdr_scene(w, h, kind)), {90, true});
  EXPECT_TRUE(j);
  return j ? *j : std::vector<uint8_t>{};
}

std::string as_string(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

// A predictor that blocks until released: lets tests hold workers busy for exactly as long
// as they need, without timing guesses.
class GatePredictor final : public Predictor {
 public:
  GatePredictor() : inner_(make_builtin_predictor()) {}
  std::string name() const override { return "gate-test"; }
  Result<Prediction> predict(const Image8& sdr, const PredictOptions& o) const override {
    {
      std::unique_lock lock(m_);
      ++calls_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
    }
    return inner_->predict(sdr, o);
  }
  void open() {
    std::lock_guard lock(m_);
    open_ = true;
    cv_.notify_all();
  }
  int calls() const {
    std::lock_guard lock(m_);
    return calls_;
  }
  bool wait_calls(int n, std::chrono::milliseconds limit = 5s) const {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, limit, [&] { return calls_ >= n; });
  }

 private:
  std::unique_ptr<Predictor> inner_;
  mutable std::mutex m_;
  mutable std::condition_variable cv_;
  mutable int calls_ = 0;
  bool open_ = false;
};

// One running service per test, under the test's scratch directory.
class Svc {
 public:
  explicit Svc(const std::string& test, service::ServiceOptions o = {}) {
    root_ = test::scratch_dir("service/" + test);
    o.port = 0;
    o.temp_root = root_;
    if (o.workers == 0) o.workers = 2;
    svc_ = std::make_unique<service::Service>(o);
    auto r = svc_->start();
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
  }
  ~Svc() { svc_->stop(); }
  service::Service& operator*() { return *svc_; }
  service::Service* operator->() { return svc_.get(); }
  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", svc_->port());
    c->set_read_timeout(60, 0);
    c->set_write_timeout(60, 0);
    return c;
  }
  const fs::path& root() const { return root_; }

 private:
  fs::path root_;
  std::unique_ptr<service::Service> svc_;
};

httplib::MultipartFormDataItems form(const std::vector<uint8_t>& img, const std::string& extra_name = "",
                                     const std::string& extra_value = "") {
  httplib::MultipartFormDataItems items{{"img", as_string(img), "photo.jpg", "image/jpeg"}};
  if (!extra_name.empty()) items.push_back({extra_name, extra_value, "", ""});
  return items;
}

json body_json(const httplib::Result& r) {
  if (!r) return json();
  return json::parse(r->body, nullptr, false);
}

// Status, JSON error code, and the shape {"error":{"code","message"}} of an error response.
void expect_error(const httplib::Result& r, int status, const std::string& code) {
  ASSERT_TRUE(r) << "no response: " << httplib::to_string(r.error());
  EXPECT_EQ(r->status, status) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  json j = body_json(r);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << r->body;
  EXPECT_EQ(j["error"].value("code", ""), code) << r->body;
  EXPECT_FALSE(j["error"].value("message", "").empty());
}

// A request written byte for byte on a fresh connection; returns the whole response.
std::string raw_request(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, size_t(n));
  ::close(fd);
  return out;
}

int status_of(const std::string& raw_response) {
  if (raw_response.size() < 12) return 0;
  return std::atoi(raw_response.substr(9, 3).c_str());
}

// Every file under `dir`, relative.
std::set<std::string> tree(const fs::path& dir) {
  std::set<std::string> out;
  // The sweeper may delete entries while we walk: no call here may touch the file system
  // in a way that throws (lexically_relative does not; increment reports through ec).
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    out.insert(it->path().lexically_relative(dir).string());
  return out;
}

bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds limit = 5s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

}  // namespace

// ---- endpoints -----------------------------------------------------------------------------

TEST(ServiceApi, HealthReportsWorkersAndQueue) {
  service::ServiceOptions o;
  o.workers = 3;
  o.queue = 5;
  Svc s("health", o);
  auto r = s.client()->Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  json j = body_json(r);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["workers"], 3);
  EXPECT_EQ(j["queue_capacity"], 5);
  EXPECT_EQ(j["running"], 0);
}

// --store redis://... with no Redis listening: the replica says so on /health (503, so a
// balancer drains it) and answers uploads and result reads with 503 store_unavailable.
TEST(ServiceApi, RedisStoreUnreachableIsUnhealthyNot500) {
  service::ServiceOptions o;
  o.store = "redis://127.0.0.1:1";  // nothing listens on port 1
  Svc s("redis-down", o);
  auto c = s.client();
  auto h = c->Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 503);
  json j = body_json(h);
  EXPECT_EQ(j["status"], "store_unavailable");
  EXPECT_EQ(j["store"]["kind"], "redis");
  EXPECT_EQ(j["store"]["reachable"], false);
  EXPECT_NE(j["store"]["detail"].get<std::string>().find("127.0.0.1:1"), std::string::npos);
  auto r = c->Post("/process", form(scene_jpeg(64, 48)));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(body_json(r)["error"]["code"], "store_unavailable");
  EXPECT_FALSE(r->get_header_value("Retry-After").empty());
  auto g = c->Get("/result/0123456789abcdef0123456789abcdef/result.jpg");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 503);
}

TEST(ServiceApi, StoreUrlIsChecked) {
  for (const char* bad : {"redis://", "redis://host", "redis://host:0", "redis://host:99999", "http://host:6379",
                          "redis://host:6379/x", "redis://:6379"}) {
    service::ServiceOptions o;
    o.port = 0;
    o.store = bad;
    service::Service svc(o);
    auto r = svc.start();
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::InvalidInput) << bad;
    }
  }
  auto a = service::parse_redis_url("redis://10.0.0.5:6380/3");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "10.0.0.5");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->db, 3);
}

TEST(ServiceApi, ServesThePageAndItsAssets) {
  Svc s("page");
  auto c = s.client();
  auto page = c->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_NE(page->body.find("app.js"), std::string::npos);
  EXPECT_NE(page->body.find("style.css"), std::string::npos);
  auto js = c->Get("/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(js->body.find("dynamic-range: high"), std::string::npos);  // the HDR screen check
  auto css = c->Get("/style.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->status, 200);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(css->get_header_value("X-Content-Type-Options"), "nosniff");
  expect_error(c->Get("/nothing-here"), 404, "not_found");
  auto wrong = c->Get("/process");
  expect_error(wrong, 405, "method_not_allowed");
  EXPECT_EQ(wrong->get_header_value("Allow"), "POST");
}

TEST(ServiceApi, ProcessPredictiveReturnsIdModeSummaryAndUrls) {
  Svc s("predictive");
  auto c = s.client();
  auto r = c->Post("/process", form(scene_jpeg(320, 240)));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = body_json(r);
  const std::string id = j["id"];
  EXPECT_TRUE(service::is_valid_id(id)) << id;
  EXPECT_EQ(j["mode"], "predictive");
  EXPECT_TRUE(j["warnings"].is_array());
  EXPECT_GT(j["metadata"]["boost"].get<double>(), 0.5);
  EXPECT_GT(j["metadata"]["hdr_headroom"].get<double>(), 0.5);
  EXPECT_EQ(j["metadata"]["input"]["width"], 320);
  EXPECT_EQ(j["expires_in_s"].get<double>(), 600.0);

  struct Want {
    const char* key;
    const char* type;
    const char* disposition;
  };
  for (const Want& w : {Want{"hdr", "image/jpeg", "attachment; filename=\"regain_hdr.jpg\""},
                        Want{"sdr_preview", "image/jpeg", "inline; filename=\"regain_sdr_preview.jpg\""},
                        Want{"gainmap", "image/png", "inline; filename=\"regain_gainmap.png\""},
                        Want{"where_hdr", "image/jpeg", "inline; filename=\"regain_where_hdr.jpg\""},
                        Want{"meta", "application/json", "inline; filename=\"regain_meta.json\""}}) {
    const std::string url = j["results"][w.key];
    EXPECT_EQ(url.rfind("/result/" + id + "/", 0), 0u) << url;
    auto f = c->Get(url);
    ASSERT_TRUE(f) << url;
    EXPECT_EQ(f->status, 200) << url;
    EXPECT_EQ(f->get_header_value("Content-Type"), w.type) << url;
    EXPECT_EQ(f->get_header_value("Content-Disposition"), w.disposition) << url;
    EXPECT_FALSE(f->body.empty());
  }
  // The HDR file is an Ultra HDR JPEG with both metadata flavours.
  auto hdr = c->Get(j["results"]["hdr"].get<std::string>());
  std::vector<uint8_t> bytes(hdr->body.begin(), hdr->body.end());
  auto jr = read_jpegr(bytes);
  ASSERT_TRUE(jr);
  EXPECT_TRUE(jr->gain_map && jr->iso_metadata && jr->xmp_metadata);
  // meta.json is the pipeline's document.
  json meta = json::parse(c->Get(j["results"]["meta"].get<std::string>())->body);
  EXPECT_EQ(meta["mode"], "predictive");
  EXPECT_FALSE(meta.contains("file"));  // nothing from the client's file name
}

TEST(ServiceApi, ProcessReferenceModeWithAnHdrOriginal) {
  Svc s("reference");
  const ImageF hdr = synthetic_hdr_scene(480, 360, SceneKind::Interior);
  auto edited = encode_jpeg(tone_map_to_sdr(hdr), {92, true});
  auto exr = encode_exr(hdr, Primaries::BT709);
  ASSERT_TRUE(edited && exr);
  httplib::MultipartFormDataItems items{{"img", as_string(*edited), "a", "application/octet-stream"},
                                        {"ref", as_string(*exr), "b", "application/octet-stream"},
                                        {"require_alignment", "true", "", ""}};
  auto r = s.client()->Post("/process", items);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = body_json(r);
  EXPECT_EQ(j["mode"], "reference");
  EXPECT_TRUE(j["metadata"]["alignment"]["trusted"].get<bool>());
}

TEST(ServiceApi, ProcessTheRealEditedPairInReferenceMode) {
  Svc s("realpair");
  httplib::MultipartFormDataItems items{
      {"img", as_string(test::corpus_bytes("edited-pair/edited_by_ai_editor.jpg")), "x.jpg", "image/jpeg"},
      {"ref", as_string(test::corpus_bytes("edited-pair/original_iphone15promax.jpg")), "y.jpg", "image/jpeg"},
      {"boost", "2", "", ""}};
  auto r = s.client()->Post("/process", items);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = body_json(r);
  EXPECT_EQ(j["mode"], "reference");
  EXPECT_NEAR(j["metadata"]["boost"].get<double>(), 2.0, 1e-9);
  EXPECT_EQ(j["metadata"]["input"]["width"], 864);
}

TEST(ServiceApi, TypesAreSniffedFromBytesNeverFromNames) {
  Svc s("sniff");
  auto c = s.client();
  // A PNG sent as "photo.jpg" with a JPEG Content-Type is processed as the PNG it is.
  auto png = encode_png8(tone_map_to_sdr(synthetic_hdr_scene(200, 150)));
  ASSERT_TRUE(png);
  auto ok = c->Post("/process", form(*png));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_FALSE(body_json(ok)["metadata"]["input"]["base_carried_losslessly"].get<bool>());
  // Text named photo.jpg, image/jpeg: 400 unsupported_type.
  const std::string text = "this is not an image at all, whatever the name says\n";
  expect_error(c->Post("/process", form(std::vector<uint8_t>(text.begin(), text.end()))), 400, "unsupported_type");
  // An EXR is an image, but an HDR one: not what the edited side takes (a TIFF edit is).
  auto exr = encode_exr(ImageF(8, 8, 3), Primaries::BT709);
  ASSERT_TRUE(exr);
  expect_error(c->Post("/process", form(*exr)), 400, "unsupported_type");
  auto tiff = encode_tiff16(Image16(64, 48, 3));
  ASSERT_TRUE(tiff);
  auto tiff_ok = c->Post("/process", form(*tiff));
  ASSERT_TRUE(tiff_ok);
  EXPECT_EQ(tiff_ok->status, 200) << tiff_ok->body;
  // A WebP download is an edit too.
  Image8 grey(64, 48, 3);
  std::fill(grey.data(), grey.data() + grey.size(), uint8_t(128));
  uint8_t* enc = nullptr;
  const size_t n = WebPEncodeRGB(grey.data(), 64, 48, 64 * 3, 85.f, &enc);
  ASSERT_GT(n, 0u);
  const std::vector<uint8_t> webp(enc, enc + n);
  WebPFree(enc);
  auto webp_ok = c->Post("/process", form(webp));
  ASSERT_TRUE(webp_ok);
  EXPECT_EQ(webp_ok->status, 200) << webp_ok->body;
  // A TIFF original is fine by type, but a text file posing as one is refused before any work.
  httplib::MultipartFormDataItems fake{
      {"img", as_string(scene_jpeg(64, 48)), "", ""},
      {"ref", text, "orig.tif", "image/tiff"}};
  expect_error(c->Post("/process", fake), 400, "unsupported_type");
}

TEST(ServiceApi, UnreadableImageIs400) {
  Svc s("unreadable");
  auto jpeg = scene_jpeg(320, 240);
  jpeg.resize(jpeg.size() / 3);  // cut short: still sniffs as JPEG
  expect_error(s.client()->Post("/process", form(jpeg)), 400, "invalid_image");
  // A corpus file damaged the same way.
  expect_error(s.client()->Post("/process", form(test::corpus_bytes("malformed/pixel6_truncated.jpg"))), 400,
               "invalid_image");
}

TEST(ServiceApi, MalformedRequestsAre400) {
  Svc s("badrequest");
  auto c = s.client();
  const auto img = scene_jpeg(64, 48);
  // No img part.
  expect_error(c->Post("/process", httplib::MultipartFormDataItems{{"boost", "2", "", ""}}), 400, "bad_request");
  // Bad fields.
  expect_error(c->Post("/process", form(img, "boost", "lots")), 400, "bad_request");
  expect_error(c->Post("/process", form(img, "boost", "9")), 400, "bad_request");
  expect_error(c->Post("/process", form(img, "format", "gif")), 400, "bad_request");
  expect_error(c->Post("/process", form(img, "require_alignment", "maybe")), 400, "bad_request");
  expect_error(c->Post("/process", form(img, "background", "pink")), 400, "bad_request");
  // Two img parts.
  auto twice = form(img);
  twice.push_back({"img", as_string(img), "b.jpg", "image/jpeg"});
  expect_error(c->Post("/process", twice), 400, "bad_request");
  // Not multipart at all.
  expect_error(c->Post("/process", as_string(img), "image/jpeg"), 400, "bad_request");
  // Multipart that never ends properly.
  expect_error(c->Post("/process", "--xyz\r\nContent-Disposition: form-data; name=\"img\"\r\n\r\nabc",
                       "multipart/form-data; boundary=xyz"),
               400, "bad_request");
  // "auto" boost and an explicit jpeg format are fine.
  auto ok = c->Post("/process", httplib::MultipartFormDataItems{{"img", as_string(img), "", ""},
                                                                {"boost", "auto", "", ""},
                                                                {"format", "jpeg", "", ""}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST(ServiceApi, UploadOverTheLimitIs413) {
  service::ServiceOptions o;
  o.max_upload_bytes = 16 * 1024;
  Svc s("toolarge", o);
  auto c = s.client();
  auto big = scene_jpeg(640, 480);
  ASSERT_GT(big.size(), 16u * 1024);
  auto r = c->Post("/process", form(big));
  expect_error(r, 413, "too_large");
  EXPECT_NE(body_json(r)["error"]["message"].get<std::string>().find("limit"), std::string::npos);
  // A body whose Content-Length is past the whole-request cap (two images + 1 MiB).
  std::string huge(3u << 20, 'x');
  expect_error(c->Post("/process", form(std::vector<uint8_t>(huge.begin(), huge.end()))), 413, "too_large");
  // The connection and the server are fine afterwards.
  auto small = scene_jpeg(64, 48);
  ASSERT_LT(small.size(), 16u * 1024);
  auto ok = c->Post("/process", form(small));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST(ServiceApi, ImageOverThePixelLimitIs413) {
  service::ServiceOptions o;
  o.max_pixels = 50'000;
  Svc s("pixels", o);
  expect_error(s.client()->Post("/process", form(scene_jpeg(320, 240))), 413, "too_large");
  auto ok = s.client()->Post("/process", form(scene_jpeg(200, 150)));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST(ServiceApi, ValidButUnusableIs422) {
  Svc s("unusable");
  auto c = s.client();
  const auto img = scene_jpeg(320, 240);
  // An original that is another photo: with require_alignment, 422 not_aligned.
  httplib::MultipartFormDataItems other{{"img", as_string(img), "", ""},
                                        {"ref", as_string(test::corpus_bytes("jpeg/seine_sdr_gainmap_srgb.jpg")), "", ""},
                                        {"require_alignment", "1", "", ""}};
  auto r = c->Post("/process", other);
  expect_error(r, 422, "not_aligned");
  EXPECT_NE(body_json(r)["error"]["message"].get<std::string>().find("alignment"), std::string::npos);
  // Without it: Predictive mode and a warning.
  other.pop_back();
  auto fallback = c->Post("/process", other);
  ASSERT_TRUE(fallback);
  ASSERT_EQ(fallback->status, 200);
  json j = body_json(fallback);
  EXPECT_EQ(j["mode"], "predictive");
  ASSERT_FALSE(j["warnings"].empty());
  // An "original" that is a plain JPEG without a gain map.
  httplib::MultipartFormDataItems plain{{"img", as_string(img), "", ""},
                                        {"ref", as_string(test::corpus_bytes("jpeg/paris_exif_xmp_icc.jpg")), "", ""}};
  expect_error(c->Post("/process", plain), 422, "unusable_image");
  // A float (HDR) TIFF is a valid image the pipeline cannot use as an edited photo (a grey
  // PNG, once the example here, is now written as RGB).
  auto hdr_tiff = encode_tiff_float(ImageF(64, 64, 3));
  ASSERT_TRUE(hdr_tiff);
  expect_error(c->Post("/process", form(*hdr_tiff)), 422, "unusable_image");
  auto grey = encode_png8(Image8(64, 64, 1));
  ASSERT_TRUE(grey);
  auto grey_ok = c->Post("/process", form(*grey));
  ASSERT_TRUE(grey_ok);
  EXPECT_EQ(grey_ok->status, 200) << grey_ok->body;
  // HEIC and AVIF outputs are served under their own names.
  for (const char* f : {"heic", "avif"}) {
    auto r = c->Post("/process", form(img, "format", f));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_NE(body_json(r)["results"]["hdr"].get<std::string>().find(std::string("result.") + f), std::string::npos);
  }
}

TEST(ServiceApi, ExifOutsideTheAllowListIsStripped) {
  Svc s("exif");
  auto c = s.client();
  const auto src = test::corpus_bytes("jpeg/paris_exif_xmp_icc.jpg");
  {
    auto in = read_jpegr(src);
    ASSERT_TRUE(in);
    auto info = parse_exif(in->exif_tiff);
    ASSERT_TRUE(info && info->has_gps);  // the upload has GPS
  }
  auto r = c->Post("/process", form(src));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = body_json(r);
  for (const char* key : {"hdr", "sdr_preview"}) {
    auto f = c->Get(j["results"][key].get<std::string>());
    ASSERT_TRUE(f);
    std::vector<uint8_t> bytes(f->body.begin(), f->body.end());
    auto out = read_jpegr(bytes);
    ASSERT_TRUE(out) << key;
    ASSERT_FALSE(out->exif_tiff.empty()) << key;  // rebuilt (allow-list) or orientation-only, never dropped blind
    auto info = parse_exif(out->exif_tiff);
    ASSERT_TRUE(info) << key;
    EXPECT_FALSE(info->has_gps) << key;
    EXPECT_FALSE(info->has_apple_makernote) << key;
    if (std::string(key) == "hdr") {
      EXPECT_EQ(info->make, "Google");  // allow-listed camera data stays
    }
  }
}

// ---- storage ---------------------------------------------------------------------------------

TEST(ServiceStorage, PrivateDirectoryHoldsOnlyResultSetsNeverUploads) {
  Svc s("storage");
  const fs::path dir = s->storage_dir();
  ASSERT_EQ(dir.parent_path(), s.root());
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto r = s.client()->Post("/process", form(scene_jpeg(320, 240)));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const std::string id = body_json(r)["id"];
  // Exactly the five fixed names under the random id; nothing else (uploads stay in memory).
  EXPECT_EQ(tree(dir), (std::set<std::string>{id, id + "/result.jpg", id + "/sdr_preview.jpg", id + "/gainmap.png",
                                              id + "/where_hdr.jpg", id + "/meta.json"}));
  EXPECT_EQ(tree(s.root()).size(), tree(dir).size() + 1);  // the storage dir itself, nothing beside it
  // Failed requests leave nothing at all.
  const std::string text = "not an image";
  s.client()->Post("/process", form(std::vector<uint8_t>(text.begin(), text.end())));
  EXPECT_EQ(tree(dir).size(), 6u);
  EXPECT_EQ(s->stats().results_stored, 1u);
}

TEST(ServiceStorage, ResultsExpireAfterTheTtlAndLeaveTheDisk) {
  service::ServiceOptions o;
  o.ttl = 400ms;
  Svc s("ttl", o);
  auto c = s.client();
  auto r = c->Post("/process", form(scene_jpeg(160, 120)));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  json j = body_json(r);
  auto now = c->Get(j["results"]["hdr"].get<std::string>());
  ASSERT_TRUE(now);
  EXPECT_EQ(now->status, 200);
  ASSERT_TRUE(wait_until([&] { return tree(s->storage_dir()).empty(); }, 3s)) << "expired result still on disk";
  expect_error(c->Get(j["results"]["hdr"].get<std::string>()), 404, "not_found");
  EXPECT_EQ(s->stats().results_stored, 0u);
}

TEST(ServiceStorage, DiskBudgetEvictsTheOldestResultsFirst) {
  service::ServiceOptions o;
  o.max_storage_bytes = 1;  // every new result set pushes out all older ones
  Svc s("budget", o);
  auto c = s.client();
  std::vector<json> results;
  for (int i = 0; i < 3; ++i) {
    auto r = c->Post("/process", form(scene_jpeg(160, 120)));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    results.push_back(body_json(r));
  }
  expect_error(c->Get(results[0]["results"]["hdr"].get<std::string>()), 404, "not_found");
  expect_error(c->Get(results[1]["results"]["meta"].get<std::string>()), 404, "not_found");
  auto newest = c->Get(results[2]["results"]["hdr"].get<std::string>());
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->status, 200);
  EXPECT_EQ(s->stats().results_stored, 1u);
  EXPECT_EQ(s->stats().results_evicted, 2u);
  EXPECT_EQ(tree(s->storage_dir()).size(), 6u);  // one id directory + its five files
  EXPECT_GT(s->stats().storage_bytes, 0u);
}

TEST(ServiceStorage, StopDeletesEverything) {
  fs::path dir;
  {
    Svc s("stop");
    auto r = s.client()->Post("/process", form(scene_jpeg(160, 120)));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    dir = s->storage_dir();
    ASSERT_FALSE(tree(dir).empty());
    s->stop();
    EXPECT_FALSE(fs::exists(dir));
  }
  EXPECT_FALSE(fs::exists(dir));
}

TEST(ServiceStorage, IdsAreRandom128BitHex) {
  std::set<std::string> ids;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = service::random_id();
    ASSERT_TRUE(service::is_valid_id(id)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 2000u);
  // Bits are spread: every hex digit appears in every position often enough.
  for (size_t pos = 0; pos < 32; ++pos) {
    std::set<char> seen;
    for (const auto& id : ids) seen.insert(id[pos]);
    EXPECT_EQ(seen.size(), 16u) << pos;
  }
  EXPECT_FALSE(service::is_valid_id("0123456789ABCDEF0123456789abcdef"));
  EXPECT_FALSE(service::is_valid_id("0123456789abcdef0123456789abcde"));
  EXPECT_FALSE(service::is_valid_id("../3456789abcdef0123456789abcdef"));
}

TEST(ServiceStorage, NoPathTraversalAndOnlyFixedNames) {
  Svc s("traversal");
  auto r = s.client()->Post("/process", form(scene_jpeg(160, 120)));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const std::string id = body_json(r)["id"];
  // A file beside the storage directory that a traversal would reach.
  {
    std::ofstream(s.root() / "secret.txt") << "secret";
  }
  const std::string upper = [&] {
    std::string u = id;
    for (auto& ch : u) ch = char(std::toupper(ch));
    return u;
  }();
  for (const std::string& path : std::vector<std::string>{
           "/result/" + id + "/../secret.txt", "/result/" + id + "/..%2f..%2fsecret.txt", "/result/..%2f..%2fsecret.txt/x",
        "/result/" + id + "/%2e%2e", "/result/" + id + "/result.png", "/result/" + id + "/", "/result/" + id,
        "/result/" + upper + "/result.jpg", "/result/" + id.substr(1) + "/result.jpg",
        "/result/" + id + "/meta.json%00.jpg", "/result/" + id + "/./meta.json", "/result/%2e%2e/%2e%2e/secret.txt"}) {
    const std::string resp = raw_request(s->port(), "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(resp), 404) << path << "\n" << resp.substr(0, 200);
    EXPECT_EQ(resp.find("secret"), std::string::npos) << path;
  }
  const std::string good = raw_request(s->port(), "GET /result/" + id + "/meta.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(good), 200);
}

// ---- load, limits and deadline -------------------------------------------------------------

TEST(ServiceLoad, BusyWorkersAndFullQueueGive503WithRetryAfter) {
  GatePredictor gate;
  service::ServiceOptions o;
  o.workers = 1;
  o.queue = 1;
  o.predictor = &gate;
  Svc s("busy", o);
  const auto img = scene_jpeg(160, 120);
  auto first = std::async(std::launch::async, [&] { return s.client()->Post("/process", form(img)); });
  ASSERT_TRUE(gate.wait_calls(1));  // the only worker is busy
  auto second = std::async(std::launch::async, [&] { return s.client()->Post("/process", form(img)); });
  ASSERT_TRUE(wait_until([&] { return s->stats().queued == 1; }));  // the queue is full
  auto third = s.client()->Post("/process", form(img));
  expect_error(third, 503, "busy");
  const int retry = std::atoi(third->get_header_value("Retry-After").c_str());
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  // /health still answers while the workers are busy.
  auto health = s.client()->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(body_json(health)["running"], 1);
  gate.open();
  auto a = first.get();
  auto b = second.get();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(b->status, 200);
  EXPECT_EQ(s->stats().rejected_busy, 1u);
}

// A raw connection that has sent headers and part of a multipart body, then waits.
struct PartialUpload {
  int fd = -1;
  std::string rest;
  PartialUpload(int port, const std::vector<uint8_t>& img) {
    const std::string b = "partialboundary";
    const std::string body = "--" + b + "\r\nContent-Disposition: form-data; name=\"img\"; filename=\"a.jpg\"\r\n\r\n" +
                             as_string(img) + "\r\n--" + b + "--\r\n";
    const std::string head = "POST /process HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=" + b +
                             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const std::string first = head + body.substr(0, body.size() / 2);
    rest = body.substr(body.size() / 2);
    EXPECT_EQ(::send(fd, first.data(), first.size(), MSG_NOSIGNAL), ssize_t(first.size()));
  }
  std::string finish() {
    (void)::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[8192];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
      out.append(buf, size_t(n));
      const size_t end = out.find("\r\n\r\n");
      const size_t cl = out.find("Content-Length: ");
      if (end != std::string::npos && cl != std::string::npos &&
          out.size() >= end + 4 + size_t(std::atoi(out.c_str() + cl + 16)))
        break;
    }
    return out;
  }
  ~PartialUpload() { ::close(fd); }
};

TEST(ServiceLoad, AnUploadHoldsItsQueuePlaceSoBufferedUploadsStayBounded) {
  service::ServiceOptions o;
  o.workers = 1;
  o.queue = 0;  // one place in all
  Svc s("reserve", o);
  const auto img = scene_jpeg(320, 240);
  PartialUpload slow(s->port(), img);
  ASSERT_TRUE(wait_until([&] { return s->stats().queued == 1; }));  // its place is taken while it uploads
  // Another upload finds no place: 503 at once, nothing of it is buffered.
  expect_error(s.client()->Post("/process", form(img)), 503, "busy");
  // The first upload completes and is processed normally.
  const std::string resp = slow.finish();
  EXPECT_EQ(status_of(resp), 200) << resp.substr(0, 300);
  ASSERT_TRUE(wait_until([&] { return s->stats().queued == 0 && s->stats().running == 0; }));
  auto again = s.client()->Post("/process", form(img));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST(ServiceLoad, UploadSlowerThanItsTimeLimitIs408) {
  service::ServiceOptions o;
  o.upload_timeout = 200ms;
  Svc s("slowupload", o);
  PartialUpload slow(s->port(), scene_jpeg(320, 240));
  std::this_thread::sleep_for(400ms);
  const std::string resp = slow.finish();
  EXPECT_EQ(status_of(resp), 408) << resp.substr(0, 300);
  EXPECT_NE(resp.find("\"upload_timeout\""), std::string::npos);
  EXPECT_NE(resp.find("Connection: close"), std::string::npos);
  // Its place was given back.
  ASSERT_TRUE(wait_until([&] { return s->stats().queued == 0; }));
}

TEST(ServiceLoad, DeadlineGives504AndTheWorkIsAbandoned) {
  GatePredictor gate;
  service::ServiceOptions o;
  o.workers = 1;
  o.queue = 1;
  o.timeout = 300ms;
  o.predictor = &gate;
  Svc s("deadline", o);
  const auto img = scene_jpeg(160, 120);
  const auto t0 = std::chrono::steady_clock::now();
  // One job runs (stuck in the predictor), one waits in the queue: both pass the deadline.
  auto running = std::async(std::launch::async, [&] { return s.client()->Post("/process", form(img)); });
  ASSERT_TRUE(gate.wait_calls(1));
  auto queued = std::async(std::launch::async, [&] { return s.client()->Post("/process", form(img)); });
  auto r1 = running.get();
  auto r2 = queued.get();
  expect_error(r1, 504, "timeout");
  expect_error(r2, 504, "timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  // The queued job was taken out of the queue at once: its slot is free again.
  EXPECT_EQ(s->stats().queued, 0);
  EXPECT_EQ(s->stats().running, 1);
  gate.open();
  // The running job stops at the pipeline's next check; nothing is stored.
  ASSERT_TRUE(wait_until([&] { return s->stats().running == 0; }));
  EXPECT_EQ(gate.calls(), 1);  // the queued job never started
  EXPECT_EQ(s->stats().jobs_cancelled, 2u);
  EXPECT_EQ(s->stats().timeouts, 2u);
  EXPECT_EQ(s->stats().results_stored, 0u);
  EXPECT_TRUE(tree(s->storage_dir()).empty());
  // The worker is free for the next request.
  auto next = s.client()->Post("/process", form(img));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200) << next->body;
}

TEST(ServiceLoad, CancelledPipelineStopsAtTheNextStage) {
  // The hook the deadline relies on: process_image returns "cancelled" instead of packaging.
  struct CancellingPredictor final : Predictor {
    std::atomic<bool>* flag = nullptr;
    std::unique_ptr<Predictor> inner = make_builtin_predictor();
    std::string name() const override { return "cancelling"; }
    Result<Prediction> predict(const Image8& sdr, const PredictOptions& o) const override {
      flag->store(true);  // the deadline passes while the predictor runs
      return inner->predict(sdr, o);
    }
  };
  std::atomic<bool> cancel{false};
  CancellingPredictor p;
  p.flag = &cancel;
  ProcessOptions o;
  o.predictor = &p;
  o.cancel = &cancel;
  auto r = process_image(scene_jpeg(160, 120), std::nullopt, o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cancelled"), std::string::npos);
  // Reference mode checks too (between loading, alignment and prediction).
  const ImageF hdr = synthetic_hdr_scene(320, 240, SceneKind::Interior);
  auto edited = encode_jpeg(tone_map_to_sdr(hdr), {92, true});
  auto exr = encode_exr(hdr, Primaries::BT709);
  std::atomic<bool> already{true};
  ProcessOptions o2;
  o2.cancel = &already;
  auto r2 = process_image(*edited, std::span<const uint8_t>(*exr), o2);
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("cancelled"), std::string::npos);
}

TEST(ServiceLoad, ConcurrentRequestsAllSucceedWithDistinctResults) {
  service::ServiceOptions o;
  o.workers = 2;
  o.queue = 16;
  Svc s("concurrent", o);
  const SceneKind kinds[] = {SceneKind::Sunset, SceneKind::Interior, SceneKind::Night};
  std::vector<std::future<std::vector<std::string>>> clients;
  for (int t = 0; t < 8; ++t) {
    clients.push_back(std::async(std::launch::async, [&, t] {
      std::vector<std::string> ids;
      auto c = s.client();
      for (int i = 0; i < 3; ++i) {
        auto r = c->Post("/process", form(scene_jpeg(240 + 16 * t, 180, kinds[(t + i) % 3])));
        if (!r || r->status != 200) {
          ADD_FAILURE() << "client " << t << " request " << i << ": " << (r ? r->body : httplib::to_string(r.error()));
          continue;
        }
        json j = body_json(r);
        auto f = c->Get(j["results"]["hdr"].get<std::string>());
        EXPECT_TRUE(f && f->status == 200);
        EXPECT_EQ(j["metadata"]["input"]["width"], 240 + 16 * t);  // each client gets its own result
        ids.push_back(j["id"]);
      }
      return ids;
    }));
  }
  std::set<std::string> all;
  for (auto& f : clients)
    for (auto& id : f.get()) all.insert(id);
  EXPECT_EQ(all.size(), 24u);
  EXPECT_EQ(s->stats().results_stored, 24u);
  EXPECT_EQ(s->stats().rejected_busy, 0u);
}

TEST(ServiceLoad, TooManyConnectionsAreShedWith503) {
  service::ServiceOptions o;
  o.connection_threads = 1;
  o.pending_connections = 0;
  o.keep_alive_seconds = 3;
  Svc s("shed", o);
  // An idle connection occupies the only connection thread.
  const int idle = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(s->port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(idle, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  std::this_thread::sleep_for(200ms);
  const std::string resp = raw_request(s->port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_of(resp), 503) << resp;
  EXPECT_NE(resp.find("Retry-After: 1"), std::string::npos);
  EXPECT_NE(resp.find("\"code\":\"busy\""), std::string::npos);
  EXPECT_EQ(s->stats().connections_shed, 1u);
  ::close(idle);
  // Once the thread is free, requests are served again.
  ASSERT_TRUE(wait_until([&] {
    return status_of(raw_request(s->port(), "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == 200;
  }));
}

TEST(ServiceLoad, StopWhileAJobRunsAnswers503AndCleansUp) {
  GatePredictor gate;
  service::ServiceOptions o;
  o.workers = 1;
  o.predictor = &gate;
  Svc s("stopbusy", o);
  auto pending = std::async(std::launch::async, [&] { return s.client()->Post("/process", form(scene_jpeg(160, 120))); });
  ASSERT_TRUE(gate.wait_calls(1));
  const fs::path dir = s->storage_dir();
  std::thread opener([&] {
    std::this_thread::sleep_for(100ms);
    gate.open();  // the predictor returns; the cancelled pipeline stops right after it
  });
  s->stop();
  opener.join();
  auto r = pending.get();
  if (r) expect_error(r, 503, "shutting_down");  // or the connection was closed: both are fine
  EXPECT_FALSE(fs::exists(dir));
}

TEST(ServiceLoad, SecondServerOnTheSamePortFailsToStart) {
  Svc s("bind");
  service::ServiceOptions o;
  o.port = s->port();
  o.temp_root = s.root();
  service::Service other(o);
  auto r = other.start();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Io);
  // Its private directory was removed again.
  EXPECT_EQ(tree(s.root()).count(s->storage_dir().filename().string()), 1u);
  size_t dirs = 0;
  for (auto& e : fs::directory_iterator(s.root())) dirs += e.is_directory();
  EXPECT_EQ(dirs, 1u);
}
