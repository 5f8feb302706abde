#include "regain/evaluate.h"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstring>
#include <functional>

#include "regain/jpegr.h"
#include "regain/pipeline.h"
#include "regain/process.h"
#include "util/orientation.h"

namespace regain {

double pu21_encode(double nits) {
  // PU21 "banding_glare" parameters (published with the method).
  constexpr double p[7] = {0.353487901, 0.3734658629, 8.277049286e-05, 0.9062562627,
                           0.09150303166, 0.9099517204, 596.3148142};
  const double l = std::clamp(nits, 0.005, 10000.0);
  const double lp = std::pow(l, p[3]);
  return std::max(0.0, p[6] * (std::pow((p[0] + p[1] * lp) / (1 + p[2] * lp), p[4]) - p[5]));
}

namespace {

constexpr float kOffset = 1.0f / 64;

struct Scene {
  cv::Mat sdr;    // 8UC3 RGB, displayed orientation
  cv::Mat ratio;  // 32FC1: (Y_hdr + k) / (Y_sdr + k)
  cv::Mat mask;   // 8UC1: 255 where the content was edited
};

cv::Mat lin_luma(const cv::Mat& rgb8) {
  const auto& lut = srgb8_to_linear_lut();
  cv::Mat y(rgb8.size(), CV_32FC1);
  for (int r = 0; r < rgb8.rows; ++r)
    for (int c = 0; c < rgb8.cols; ++c) {
      const auto& p = rgb8.at<cv::Vec3b>(r, c);
      y.at<float>(r, c) = 0.2126f * lut[p[0]] + 0.7152f * lut[p[1]] + 0.0722f * lut[p[2]];
    }
  return y;
}

using Edit = std::function<Scene(const Scene&)>;

Scene geometric(const Scene& s, const std::function<void(const cv::Mat&, cv::Mat&, int)>& op) {
  Scene o;
  op(s.sdr, o.sdr, cv::INTER_AREA);
  op(s.ratio, o.ratio, cv::INTER_LINEAR);
  op(s.mask, o.mask, cv::INTER_NEAREST);
  return o;
}

Scene reframe_45(const Scene& s) {
  return geometric(s, [](const cv::Mat& in, cv::Mat& out, int interp) {
    int h = in.rows * 9 / 10, w = std::min(in.cols, h * 4 / 5);
    cv::Rect r((in.cols - w) / 3, in.rows - h, w, h);
    cv::resize(in(r), out, cv::Size(w * 9 / 10, h * 9 / 10), 0, 0, interp);
  });
}

// A patch from the lower left copied over the upper right (clone-stamp object removal).
Scene object_removal(const Scene& s) {
  Scene o{s.sdr.clone(), s.ratio.clone(), s.mask.clone()};
  const int w = s.sdr.cols / 5, h = s.sdr.rows / 5;
  cv::Rect from(s.sdr.cols / 10, s.sdr.rows * 6 / 10, w, h), to(s.sdr.cols * 6 / 10, s.sdr.rows / 10, w, h);
  s.sdr(from).copyTo(o.sdr(to));
  s.ratio(from).copyTo(o.ratio(to));
  o.mask(to).setTo(255);
  return o;
}

// A central block with its channels rotated (a recoloured garment).
Scene recolour(const Scene& s) {
  Scene o{s.sdr.clone(), s.ratio.clone(), s.mask.clone()};
  cv::Rect r(s.sdr.cols * 2 / 5, s.sdr.rows * 2 / 5, s.sdr.cols / 4, s.sdr.rows / 4);
  cv::Mat roi = o.sdr(r);
  roi.forEach<cv::Vec3b>([](cv::Vec3b& p, const int*) { p = cv::Vec3b(p[2], p[0], p[1]); });
  o.mask(r).setTo(255);
  return o;
}

std::vector<std::pair<std::string, Edit>> edits() {
  std::vector<std::pair<std::string, Edit>> e;
  e.push_back({"identity", [](const Scene& s) { return Scene{s.sdr.clone(), s.ratio.clone(), s.mask.clone()}; }});
  e.push_back({"exposure+0.5", [](const Scene& s) {
                 Scene o{s.sdr.clone(), s.ratio.clone(), s.mask.clone()};
                 uint8_t lut[256];
                 for (int i = 0; i < 256; ++i) lut[i] = uint8_t(linear_to_srgb(std::min(1.f, srgb8_to_linear_lut()[i] * 1.414f)) * 255.f + 0.5f);
                 o.sdr.forEach<cv::Vec3b>([&](cv::Vec3b& p, const int*) { for (int c = 0; c < 3; ++c) p[c] = lut[p[c]]; });
                 return o;
               }});
  e.push_back({"tone-curve", [](const Scene& s) {
                 Scene o{s.sdr.clone(), s.ratio.clone(), s.mask.clone()};
                 o.sdr.forEach<cv::Vec3b>([](cv::Vec3b& p, const int*) {
                   for (int c = 0; c < 3; ++c) p[c] = uint8_t(std::pow(p[c] / 255.0, 0.8) * 255.0 + 0.5);
                 });
                 return o;
               }});
  e.push_back({"crop+resize", [](const Scene& s) {
                 return geometric(s, [](const cv::Mat& in, cv::Mat& out, int interp) {
                   cv::Rect r(in.cols * 15 / 100, in.rows * 15 / 100, in.cols * 70 / 100, in.rows * 70 / 100);
                   cv::resize(in(r), out, cv::Size(in.cols * 80 / 100, in.rows * 80 / 100), 0, 0, interp);
                 });
               }});
  e.push_back({"reframe-4:5", reframe_45});
  e.push_back({"rotate90", [](const Scene& s) {
                 return geometric(s, [](const cv::Mat& in, cv::Mat& out, int) { cv::rotate(in, out, cv::ROTATE_90_CLOCKWISE); });
               }});
  e.push_back({"mirror", [](const Scene& s) {
                 return geometric(s, [](const cv::Mat& in, cv::Mat& out, int) { cv::flip(in, out, 1); });
               }});
  e.push_back({"object-removal", object_removal});
  e.push_back({"recolour", recolour});
  // What `make demo` shows: all three at once.
  e.push_back({"removal+recolour+reframe", [](const Scene& s) { return reframe_45(recolour(object_removal(s))); }});
  return e;
}

Image8 to_image(const cv::Mat& m) {
  Image8 img(m.cols, m.rows, 3);
  for (int r = 0; r < m.rows; ++r) std::memcpy(img.row(r), m.ptr(r), size_t(m.cols) * 3);
  return img;
}

struct Score {
  double psnr_u, psnr_e, log_u;
};

}  // namespace

Image8 demo_edit(const Image8& sdr) {
  Scene s;
  s.sdr = cv::Mat(sdr.height(), sdr.width(), CV_8UC3);
  for (int r = 0; r < sdr.height(); ++r) std::memcpy(s.sdr.ptr(r), sdr.row(r), size_t(sdr.width()) * 3);
  s.ratio = cv::Mat(s.sdr.size(), CV_32FC1, cv::Scalar(1.0f));
  s.mask = cv::Mat(s.sdr.size(), CV_8UC1, cv::Scalar(0));
  return to_image(reframe_45(recolour(object_removal(s))).sdr);
}

namespace {

Score score(const ImageF& hdr, const Scene& gt) {
  const auto& lut = srgb8_to_linear_lut();
  const double peak = pu21_encode(100.0);
  double se_u = 0, se_e = 0, log_u = 0;
  size_t n_u = 0, n_e = 0;
  for (int r = 0; r < gt.sdr.rows; ++r)
    for (int c = 0; c < gt.sdr.cols; ++c) {
      const auto& p = gt.sdr.at<cv::Vec3b>(r, c);
      const float ratio = gt.ratio.at<float>(r, c);
      float yg = 0;
      const float w[3] = {0.2126f, 0.7152f, 0.0722f};
      for (int k = 0; k < 3; ++k) yg += w[k] * std::max(0.f, (lut[p[k]] + kOffset) * ratio - kOffset);
      const float* q = &hdr.at(c, r);
      const float yo = w[0] * q[0] + w[1] * q[1] + w[2] * q[2];
      const double d = pu21_encode(yo * kSdrWhiteNits) - pu21_encode(yg * kSdrWhiteNits);
      if (gt.mask.at<uint8_t>(r, c)) {
        se_e += d * d;
        ++n_e;
      } else {
        se_u += d * d;
        log_u += std::fabs(std::log2((yo + 0.01) / (yg + 0.01)));
        ++n_u;
      }
    }
  auto psnr = [&](double se, size_t n) { return n ? 10 * std::log10(peak * peak / std::max(se / n, 1e-12)) : -1.0; };
  return {psnr(se_u, n_u), psnr(se_e, n_e), n_u ? log_u / n_u : 0};
}

}  // namespace

Result<std::vector<EvalRow>> evaluate_file(const std::string& name, std::span<const uint8_t> file,
                                           const Predictor* predictor) {
  REGAIN_TRY(jr, read_jpegr(file));
  if (!jr.gain_map || !jr.metadata) return fail(ErrorCode::NotFound, name + ": no gain map to evaluate against");
  REGAIN_TRY(sdr, decode_jpegr_sdr(file));
  REGAIN_TRY(hdr, decode_jpegr_hdr(file));
  // Baseline (a) re-embeds the map as an ISO file would carry it; Apple-curve maps are
  // converted first, exactly as `regain repair` does.
  std::vector<uint8_t> iso_form(file.begin(), file.end());
  if (jr.metadata->curve == GainCurve::AppleLinear) {
    REGAIN_TRY(fixed, repair_jpegr(file));
    iso_form = std::move(fixed.bytes);
  }
  REGAIN_TRY(iso_jr, read_jpegr(iso_form));
  REGAIN_TRY(map, decode_jpeg(iso_jr.gain_map_bytes));
  Scene base;
  base.sdr = cv::Mat(sdr.height(), sdr.width(), CV_8UC3, sdr.data()).clone();
  cv::Mat ys = lin_luma(base.sdr);
  base.ratio = cv::Mat(ys.size(), CV_32FC1);
  for (int r = 0; r < ys.rows; ++r)
    for (int c = 0; c < ys.cols; ++c) {
      const float* h = &hdr.rgb.at(c, r);
      const float yh = 0.2126f * h[0] + 0.7152f * h[1] + 0.0722f * h[2];
      base.ratio.at<float>(r, c) = (yh + kOffset) / (ys.at<float>(r, c) + kOffset);
    }
  base.mask = cv::Mat::zeros(ys.size(), CV_8UC1);
  // Baseline (a) re-embeds the original map as it is, in the displayed orientation.
  const Image8 shown_map = apply_orientation(map, jr.orientation);
  std::vector<EvalRow> rows;
  for (const auto& [edit_name, edit] : edits()) {
    Scene gt = edit(base);
    REGAIN_TRY(jpeg, encode_jpeg(to_image(gt.sdr), {95, true}));
    auto run = [&](const std::string& method) -> Result<ImageF> {
      std::vector<uint8_t> out;
      if (method == "reference" || method == "predictive") {
        ProcessOptions po;
        po.predictor = predictor;
        auto r = process_image(jpeg, method == "reference" ? std::optional<std::span<const uint8_t>>(file) : std::nullopt, po);
        if (!r) return tl::unexpected(r.error());
        out = std::move(r->output);
      } else if (method == "oracle") {
        // The truth's own gain, written the way Reference mode writes a map: the ceiling any
        // method can reach through an 8-bit map and the re-encoded base.
        ImageF g(gt.ratio.cols, gt.ratio.rows, 1);
        float gmin = 0, gmax = 0;
        for (int r = 0; r < gt.ratio.rows; ++r)
          for (int c = 0; c < gt.ratio.cols; ++c) {
            const float v = std::log2(gt.ratio.at<float>(r, c));
            g.at(c, r) = v;
            gmin = std::min(gmin, v);
            gmax = std::max(gmax, v);
          }
        ComputeOptions co;
        co.min_log2 = gmin;
        co.max_log2 = std::max(double(gmax), double(gmin) + 1.0 / 64);
        REGAIN_TRY(cg, quantize_gain_map(g, co));
        REGAIN_TRY(p, package_jpegr(jpeg, cg.map, cg.meta));
        out = std::move(p);
      } else {
        REGAIN_TRY(p, package_jpegr(jpeg, shown_map, *iso_jr.metadata));
        out = std::move(p);
      }
      REGAIN_TRY(d, decode_jpegr_hdr(out));
      return std::move(d.rgb);
    };
    for (const char* method : {"reference", "reembed", "predictive", "oracle"}) {
      REGAIN_TRY(h, run(method));
      if (h.width() != gt.sdr.cols || h.height() != gt.sdr.rows)
        return fail(ErrorCode::Internal, "evaluation: output size differs from the edit");
      Score s = score(h, gt);
      rows.push_back({name, edit_name, method, s.psnr_u, s.psnr_e, s.log_u});
    }
  }
  return rows;
}

nlohmann::json eval_rows_to_json(const std::vector<EvalRow>& rows) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& r : rows)
    j.push_back({{"file", r.file}, {"edit", r.edit}, {"method", r.method}, {"pu_psnr_unedited", r.pu_psnr_unedited},
                 {"pu_psnr_edited", r.pu_psnr_edited < 0 ? nlohmann::json(nullptr) : nlohmann::json(r.pu_psnr_edited)},
                 {"log_lum_unedited", r.log_lum_unedited}});
  return j;
}

}  // namespace regain
