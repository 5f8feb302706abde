// The learned predictor at inference: one pass over the SDR to map resolution (linear RGB
// and clipped share), a second small average to the work image, features, the network at
// work resolution, then guided upsampling (He & Sun's fast guided filter: the local linear
// model gain = a * lightness + b is fitted at work resolution and applied at map resolution)
// so the map follows the SDR's edges without running the network on every map pixel.
#include <algorithm>
#include <cmath>

#include "predict/learned_features.h"
#include "regain/learned.h"
#include "util/area_average.h"
#include "util/bilinear_taps.h"
#include "util/orientation.h"
#include "util/parallel.h"

namespace regain::learned {

namespace {

// sRGB-encoded luminance of a 4-channel linear average: the guide.
std::vector<float> lightness(const ImageF& rgbc, Primaries p) {
  const Vec3 k = luminance_weights(p);
  std::vector<float> v(size_t(rgbc.width()) * rgbc.height());
  for (size_t i = 0; i < v.size(); ++i) {
    const float* s = rgbc.data() + 4 * i;
    v[i] = linear_to_srgb(std::clamp(k[0] * s[0] + k[1] * s[1] + k[2] * s[2], 0.f, 1.f));
  }
  return v;
}

class LearnedPredictor : public Predictor {
 public:
  explicit LearnedPredictor(std::shared_ptr<const Model> m) : m_(std::move(m)) {}
  std::string name() const override {
    return "learned:" + m_->name();
  }

  Result<Prediction> predict(const Image8& sdr, const PredictOptions& opt) const override {
    if (sdr.channels() != 3 || sdr.empty()) return fail(ErrorCode::InvalidInput, "predictor: SDR must be RGB");
    if (opt.scale < 1 || opt.scale > 16) return fail(ErrorCode::InvalidInput, "predictor: scale must be 1..16");
    if (opt.boost && !(*opt.boost > 0 && *opt.boost <= 8))
      return fail(ErrorCode::InvalidInput, "boost must be in (0, 8] stops");
    const Model& m = *m_;
    const int s = opt.scale, W = sdr.width(), H = sdr.height();
    const int mw = (W + s - 1) / s, mh = (H + s - 1) / s;
    // Map-resolution average, stored orientation; the work image from it.
    const ImageF mid = average_rgbc(sdr, mw, mh, opt.threads);
    // Plain variables, not a structured binding: lambdas below capture them (clang 14).
    const std::pair<int, int> work_dims = work_size(mw, mh, m.work_side);
    const int ww = work_dims.first, wh = work_dims.second;
    const ImageF work_stored = average_float(mid, ww, wh);
    WorkImage work = to_work(work_stored, opt.orientation);
    if (opt.opacity && opt.opacity->width() == W && opt.opacity->height() == H) {
      const ImageF a = apply_orientation(area_average(*opt.opacity, ww, wh, opt.threads), opt.orientation);
      work.opacity.assign(a.data(), a.data() + a.size());
    }
    const FeatureImage f = compute_features(work, opt.primaries);
    std::vector<float> raw(work.size());
    forward(m, f.x.data(), work.size(), raw.data(), opt.threads);
    for (auto& v : raw)
      if (!std::isfinite(v)) v = 0.f;
    pull_to_median(m, f.lit, raw);
    ImageF g_shown(work.width, work.height, 1);
    std::copy(raw.begin(), raw.end(), g_shown.data());
    const ImageF g = apply_orientation(g_shown, inverse_orientation(opt.orientation));

    // Fast guided filter: fit at work resolution, apply at map resolution.
    std::vector<float> I = lightness(work_stored, opt.primaries);
    std::vector<float> p(g.data(), g.data() + g.size());
    const size_t n = I.size();
    std::vector<float> Ip(n), II(n);
    for (size_t i = 0; i < n; ++i) {
      Ip[i] = I[i] * p[i];
      II[i] = I[i] * I[i];
    }
    const int r = m.guide_radius;
    std::vector<float> mI = I, mp = p;
    box_plane(mI, ww, wh, r);
    box_plane(mp, ww, wh, r);
    box_plane(Ip, ww, wh, r);
    box_plane(II, ww, wh, r);
    std::vector<float> a(n), b(n);
    for (size_t i = 0; i < n; ++i) {
      const float var = std::max(0.f, II[i] - mI[i] * mI[i]), cov = Ip[i] - mI[i] * mp[i];
      a[i] = cov / (var + m.guide_eps);
      b[i] = mp[i] - a[i] * mI[i];
    }
    box_plane(a, ww, wh, r);
    box_plane(b, ww, wh, r);
    const std::vector<float> Ihi = lightness(mid, opt.primaries);
    const BilinearTaps bx(mw, ww), by(mh, wh);
    Prediction out;
    out.log2_gain = ImageF(mw, mh, 1);
    parallel_for(mh, opt.threads, [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) {
        const size_t r0 = size_t(by.i0[size_t(y)]) * ww, r1 = size_t(by.i1[size_t(y)]) * ww;
        const float ty = by.t[size_t(y)];
        float* o = out.log2_gain.row(y);
        for (int x = 0; x < mw; ++x) {
          const size_t c0 = size_t(bx.i0[size_t(x)]), c1 = size_t(bx.i1[size_t(x)]);
          const float tx = bx.t[size_t(x)];
          auto lerp2 = [&](const std::vector<float>& v) {
            const float top = v[r0 + c0] + (v[r0 + c1] - v[r0 + c0]) * tx;
            const float bot = v[r1 + c0] + (v[r1 + c1] - v[r1 + c0]) * tx;
            return top + (bot - top) * ty;
          };
          o[x] = lerp2(a) * Ihi[size_t(y) * mw + x] + lerp2(b);
        }
      }
    });

    // Headroom: the scene's own (99.9th percentile of the prediction) unless boost is given,
    // over the opaque part of a transparent edit (its background's gain is removed later).
    ImageF opaque;
    if (opt.opacity && opt.opacity->width() == W && opt.opacity->height() == H)
      opaque = area_average(*opt.opacity, mw, mh, opt.threads);
    auto counts = [&](size_t i) { return opaque.empty() || opaque.data()[i] >= 0.5f; };
    std::vector<float> sorted;
    sorted.reserve(out.log2_gain.size());
    for (size_t i = 0; i < out.log2_gain.size(); ++i)
      if (counts(i)) sorted.push_back(out.log2_gain.data()[i]);
    if (sorted.empty()) sorted.assign(out.log2_gain.data(), out.log2_gain.data() + out.log2_gain.size());
    const size_t k = std::min(sorted.size() - 1, size_t(0.999 * double(sorted.size() - 1)));
    std::nth_element(sorted.begin(), sorted.begin() + long(k), sorted.end());
    const float peak = std::max(0.f, sorted[k]);
    float scale = 1.f, cap = 6.f;
    if (opt.boost) {
      scale = opt.boost_caps_only ? 1.f : peak > 1e-3f ? std::min(2.f, float(*opt.boost) / peak) : 0.f;
      cap = float(*opt.boost);
      out.boost_reason = "given";
    } else {
      out.boost_reason = "learned model: scene peak " + std::to_string(peak).substr(0, 4) + " stops";
    }
    float mx = 0;
    for (size_t i = 0; i < out.log2_gain.size(); ++i) {
      float& v = out.log2_gain.data()[i];
      v = std::clamp(v * scale, 0.f, cap);
      if (counts(i)) mx = std::max(mx, v);
    }
    out.boost = opt.boost ? *opt.boost : double(mx);
    return out;
  }

 private:
  std::shared_ptr<const Model> m_;
};

}  // namespace

std::unique_ptr<Predictor> make_learned_predictor(std::shared_ptr<const Model> m) {
  return std::make_unique<LearnedPredictor>(std::move(m));
}

}  // namespace regain::learned

namespace regain {

std::unique_ptr<Predictor> make_default_predictor() {
  auto m = learned::default_model();
  if (!m) return make_builtin_predictor();
  return learned::make_learned_predictor(std::move(m));
}

}  // namespace regain
