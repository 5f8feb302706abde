// The built-in predictor: no model file, deterministic, fast (works at map resolution).
//
// What it lifts, in order of strength: clipped and near-white neutral regions (light
// sources, speculars, overcast sky, clouds), then bright saturated regions (sunset sky)
// somewhat less. What it leaves alone: mid-tones, shadows and skin. The per-pixel gain is
// then smoothed edge-aware with a guided filter (guide = SDR lightness) so halos do not
// spill across edges, and capped at the boost.
//
// Default boost (when --boost is not given), from the share f of bright pixels
// (sRGB lightness > 0.85): small bright areas (lamps, speculars, f <= 2%) get 2.6 stops;
// large bright areas (sky, snow, f >= 30%) get 1.6 stops so the picture does not glare;
// linear in between.
#include <algorithm>
#include <cmath>
#include <string>

#include "regain/predict.h"
#include "util/parallel.h"

namespace regain {

namespace {

float smoothstep(float e0, float e1, float x) {
  float t = std::clamp((x - e0) / (e1 - e0), 0.f, 1.f);
  return t * t * (3 - 2 * t);
}

class BuiltinPredictor : public Predictor {
 public:
  std::string name() const override { return "builtin-highlight-v1"; }

  Result<Prediction> predict(const Image8& sdr, const PredictOptions& opt) const override {
    if (sdr.channels() != 3 || sdr.empty()) return fail(ErrorCode::InvalidInput, "predictor: SDR must be RGB");
    if (opt.scale < 1 || opt.scale > 16) return fail(ErrorCode::InvalidInput, "predictor: scale must be 1..16");
    if (opt.boost && !(*opt.boost > 0 && *opt.boost <= 8))
      return fail(ErrorCode::InvalidInput, "boost must be in (0, 8] stops");
    const int s = opt.scale, W = sdr.width(), H = sdr.height();
    const int mw = (W + s - 1) / s, mh = (H + s - 1) / s;
    const auto& lut = srgb8_to_linear_lut();
    const Vec3 wts = luminance_weights(opt.primaries);

    // Map-resolution statistics: lightness (perceptual), saturation, clipping, skin-ness.
    ImageF light(mw, mh, 1), raw(mw, mh, 1);
    std::vector<float> clip(size_t(mw) * mh), satv(size_t(mw) * mh), skin(size_t(mw) * mh);
    parallel_for(mh, opt.threads, [&](int my0, int my1) {
      for (int my = my0; my < my1; ++my) {
        const int y0 = int(int64_t(my) * H / mh), y1 = std::max(y0 + 1, int(int64_t(my + 1) * H / mh));
        for (int mx = 0; mx < mw; ++mx) {
          const int x0 = int(int64_t(mx) * W / mw), x1 = std::max(x0 + 1, int(int64_t(mx + 1) * W / mw));
          float r = 0, g = 0, b = 0, clipped = 0;
          for (int y = y0; y < y1; ++y) {
            const uint8_t* p = sdr.row(y);
            for (int x = x0; x < x1; ++x) {
              r += lut[p[3 * x]];
              g += lut[p[3 * x + 1]];
              b += lut[p[3 * x + 2]];
              clipped += (p[3 * x] >= 250 || p[3 * x + 1] >= 250 || p[3 * x + 2] >= 250) ? 1.f : 0.f;
            }
          }
          const float n = float((x1 - x0) * (y1 - y0));
          r /= n; g /= n; b /= n;
          const size_t i = size_t(my) * mw + mx;
          const float Y = wts[0] * r + wts[1] * g + wts[2] * b;
          const float mx_c = std::max({r, g, b}), mn_c = std::min({r, g, b});
          light.data()[i] = linear_to_srgb(Y);
          satv[i] = mx_c > 1e-4f ? (mx_c - mn_c) / mx_c : 0.f;
          clip[i] = clipped / n;
          // Skin: warm hue (R > G > B), moderate saturation and lightness.
          const float v = light.data()[i];
          skin[i] = (r > g && g > b && satv[i] > 0.12f && satv[i] < 0.65f && v > 0.3f && v < 0.88f) ? 1.f : 0.f;
        }
      }
    });

    Prediction out;
    if (opt.boost) {
      out.boost = *opt.boost;
      out.boost_reason = "given";
    } else {
      size_t bright = 0;
      for (size_t i = 0; i < light.size(); ++i) bright += light.data()[i] > 0.85f;
      const double f = double(bright) / double(light.size());
      out.boost = 2.6 - std::clamp((f - 0.02) / (0.30 - 0.02), 0.0, 1.0) * 1.0;
      out.boost_reason = "scene: " + std::to_string(int(f * 1000) / 10.0).substr(0, 4) + "% bright pixels";
    }

    const float boost = float(out.boost);
    for (size_t i = 0; i < raw.size(); ++i) {
      const float v = light.data()[i];
      const float highlight = std::pow(smoothstep(0.55f, 0.98f, v), 1.5f);
      const float neutral = 1.f - smoothstep(0.2f, 0.7f, satv[i]);
      float g = highlight * (0.55f + 0.45f * neutral);
      g = std::max(g, smoothstep(0.05f, 0.6f, clip[i]));  // clipped: the SDR lost its peak
      g *= 1.f - 0.75f * skin[i];
      raw.data()[i] = g;
    }
    // Edge-aware smoothing; radius ~1.5% of the map's short side.
    const int radius = std::max(1, std::min(mw, mh) / 64);
    ImageF smooth = guided_filter(light, raw, radius, 1e-3f);
    out.log2_gain = ImageF(mw, mh, 1);
    for (size_t i = 0; i < raw.size(); ++i)
      out.log2_gain.data()[i] = std::clamp(smooth.data()[i], 0.f, 1.f) * boost;
    return out;
  }
};

}  // namespace

std::unique_ptr<Predictor> make_builtin_predictor() { return std::make_unique<BuiltinPredictor>(); }

}  // namespace regain
