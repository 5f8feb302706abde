// Predictive-mode evaluation: the SDR base of a real gain-map photo through a predictor, the
// map quantised and applied exactly as `regain process` writes and a reader displays it, the
// HDR compared with the photo's own HDR rendition. Scored in log2 luminance at 512 px wide
// over the pixels above 0.5 % of SDR white: abs = mean |error|, struc = the same after
// removing the median error (the scene's overall level), and PU21 PSNR.
#include <algorithm>
#include <cmath>

#include "predict/learned_features.h"
#include "regain/evaluate.h"
#include "regain/pipeline.h"

namespace regain {

namespace {

struct Scored {
  double abs = 0, struc = 0, pu = 0, level = 0;
};

// Luminance of a linear RGB image averaged to w x h.
std::vector<float> luminance_at(const ImageF& rgb, int w, int h, Primaries p) {
  const ImageF small = learned::average_float(rgb, w, h);
  const Vec3 k = luminance_weights(p);
  std::vector<float> y(size_t(w) * h);
  for (size_t i = 0; i < y.size(); ++i) {
    const float* s = small.data() + 3 * i;
    y[i] = std::max(0.f, k[0] * s[0] + k[1] * s[1] + k[2] * s[2]);
  }
  return y;
}

Scored score(const std::vector<float>& pred, const std::vector<float>& truth, const std::vector<float>& sdr) {
  std::vector<float> d;
  double se = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    if (!(sdr[i] > 0.005f)) continue;
    d.push_back(std::log2(std::max(pred[i], 1e-6f)) - std::log2(std::max(truth[i], 1e-6f)));
    const double e = pu21_encode(pred[i] * kSdrWhiteNits) - pu21_encode(truth[i] * kSdrWhiteNits);
    se += e * e;
  }
  Scored s;
  if (d.empty()) return s;
  std::vector<float> sorted = d;
  std::nth_element(sorted.begin(), sorted.begin() + long(sorted.size() / 2), sorted.end());
  const float med = sorted[sorted.size() / 2];
  for (float e : d) {
    s.abs += std::abs(e);
    s.struc += std::abs(e - med);
  }
  s.level = med;
  s.abs /= double(d.size());
  s.struc /= double(d.size());
  const double peak = pu21_encode(10000.0);
  s.pu = 10 * std::log10(peak * peak / std::max(se / double(d.size()), 1e-12));
  return s;
}

}  // namespace

HdrError compare_hdr(const ImageF& pred, const ImageF& truth, const Image8& sdr, Primaries primaries) {
  const int w = std::min(512, sdr.width());
  const int h = std::max(1, int(std::lround(double(sdr.height()) * w / sdr.width())));
  const ImageF sdr_small = learned::average_rgbc(sdr, w, h, 0);
  std::vector<float> ys(size_t(w) * h);
  const Vec3 k = luminance_weights(primaries);
  for (size_t i = 0; i < ys.size(); ++i) {
    const float* s = sdr_small.data() + 4 * i;
    ys[i] = k[0] * s[0] + k[1] * s[1] + k[2] * s[2];
  }
  const Scored s = score(luminance_at(pred, w, h, primaries), luminance_at(truth, w, h, primaries), ys);
  return {s.abs, s.struc, s.pu, s.level};
}

Result<std::vector<PredictiveRow>> evaluate_predictive_file(const std::string& name, std::span<const uint8_t> file,
                                                            const std::vector<const Predictor*>& predictors,
                                                            std::vector<ImageF>* renditions) {
  REGAIN_TRY(truth, decode_gainmap_hdr(file));
  if (truth.meta.base_is_hdr()) return fail(ErrorCode::Unsupported, "the base rendition is HDR");
  REGAIN_TRY(sdr, decode_gainmap_sdr(file));
  if (sdr.width() != truth.rgb.width() || sdr.height() != truth.rgb.height())
    return fail(ErrorCode::InvalidInput, "SDR and HDR renditions differ in size");
  std::vector<PredictiveRow> rows;
  const int sw = std::min(512, sdr.width()), sh = std::max(1, int(std::lround(double(sdr.height()) * sw / sdr.width())));
  auto keep = [&](const ImageF& img) {
    if (renditions) renditions->push_back(learned::average_float(img, sw, sh));
  };
  {
    ImageF lin(sdr.width(), sdr.height(), 3);
    const auto& lut = srgb8_to_linear_lut();
    for (size_t i = 0; i < lin.size(); ++i) lin.data()[i] = lut[sdr.data()[i]];
    const HdrError none = compare_hdr(lin, truth.rgb, sdr, truth.primaries);
    keep(lin);
    keep(truth.rgb);
    rows.push_back({name, "none", none.abs, none.struc, none.pu_psnr, 0.0, none.level});
  }
  for (const Predictor* p : predictors) {
    PredictOptions po;
    po.primaries = truth.primaries;
    REGAIN_TRY(pred, p->predict(sdr, po));
    REGAIN_TRY(cg, quantize_gain_map_exact(pred.log2_gain, truth.primaries));
    REGAIN_TRY(hdr, apply_gain_map(sdr, cg.map, cg.meta));
    const HdrError s = compare_hdr(hdr, truth.rgb, sdr, truth.primaries);
    keep(hdr);
    rows.push_back({name, p->name(), s.abs, s.struc, s.pu_psnr, pred.boost, s.level});
  }
  return rows;
}

}  // namespace regain
