// ITU-R BT.2446-1 Method A HDR -> SDR with soft gamut compression along constant ICtCp hue.
// The method, our adaptation and every constant are documented in include/regain/tonemap.h.
#include "regain/tonemap.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "util/parallel.h"

namespace regain {

namespace {

// BT.2020 non-constant-luminance luma and colour-difference scaling (ITU-R BT.2020 /
// BT.2100): Y' weights and the Cb/Cr divisors 2(1 - Kb), 2(1 - Kr).
constexpr float kKr = 0.2627f, kKg = 0.6780f, kKb = 0.0593f;
constexpr float kCb = 1.8814f, kCr = 1.4746f;

// Knee of Method A's perceptual domain (Report ITU-R BT.2446-1, 4.1).
inline float knee(float yp) {
  if (yp <= 0.7399f) return 1.077f * yp;
  if (yp <= 0.9909f) return (-1.1510f * yp + 2.7811f) * yp - 0.6302f;
  return 0.5f * yp + 0.5f;
}

inline float rho(float nits) { return 1.f + 32.f * std::pow(nits / 10000.f, 1.f / 2.4f); }

// The compression curve: identity up to k, then x / (1 + x) scaled into (k, 1): slope 1
// at the knee, limit 1 only as u -> infinity.
constexpr float kKnee = 0.8f;
inline float compress(float u) {
  if (u <= kKnee) return u;
  float x = (u - kKnee) / (1.f - kKnee);
  return kKnee + (1.f - kKnee) * x / (1.f + x);
}

// Relative saturation: how far c sits from the grey of its luminance y, with 1 = the first
// channel reaching 0 or 1 (the surface of the RGB cube).
inline float saturation(Vec3 c, float y) {
  if (!(y > 0.f)) return 0.f;
  if (y >= 1.f) return 1e9f;  // at/above SDR white: no room for any colour (callers
                              // handle greys there before asking)
  float u = 0.f;
  for (int i = 0; i < 3; ++i) {
    float d = c[i] - y;
    u = std::max(u, d < 0.f ? -d / y : d / (1.f - y));
  }
  return u;
}

// Speed: the per-pixel powers are read from 4097-entry tables with linear interpolation
// (12 MP through six powf() and a log/exp pair cost seconds). Measured worst errors:
// x^(1/2.4) 1.5e-7, x^2.4 1.3e-6 (on [0, 2]), PQ forward 1e-5 of signal, PQ inverse 7e-5
// relative -- under 16-bit quantisation (1.5e-5), and the PQ pair only steers the gamut
// solver, whose tolerance is 1e-4.
struct Table {
  static constexpr int kN = 4096;
  float lo = 0.f, hi = 1.f, scale = kN;
  std::array<float, kN + 1> v{};
  template <class F>
  Table(float lo_, float hi_, F f) : lo(lo_), hi(hi_), scale(kN / (hi_ - lo_)) {
    for (int i = 0; i <= kN; ++i) v[i] = f(lo + (hi - lo) * float(i) / kN);
  }
  // x must lie in [lo, hi].
  float operator()(float x) const {
    float t = (x - lo) * scale;
    int i = std::min(int(t), kN - 1);
    return v[i] + (t - float(i)) * (v[i + 1] - v[i]);
  }
};

// x^(1/2.4) on [0, 1], read through t = x^(1/4) so the table is not asked for the
// infinite slope at 0: x^(1/2.4) = t^(4/2.4).
inline float gamma_encode(float x) {
  static const Table t(0.f, 1.f, [](float q) { return std::pow(q, 4.f / 2.4f); });
  return t(std::sqrt(std::sqrt(x)));
}
// Signed x^2.4 (BT.1886 with zero black).
inline float eotf24(float v) {
  static const Table t(0.f, 2.f, [](float q) { return std::pow(q, 2.4f); });
  float a = std::fabs(v);
  float r = a <= 2.f ? t(a) : std::pow(a, 2.4f);
  return v >= 0.f ? r : -r;
}

// Sign-preserving PQ, so that slightly negative LMS (out-of-gamut input) stays invertible.
// The inverse runs in the compressor's inner loop, hence the table.
// The forward table is read through t = x^(1/8): PQ(x) ~ x^0.159 near black, so
// PQ(t^8) ~ t^1.27 has a finite slope at 0.
inline float spq(float v) {
  static const Table t(0.f, 1.f, [](float q) { return linear_to_pq(std::pow(q, 8.f)); });
  float a = std::sqrt(std::sqrt(std::sqrt(std::min(std::fabs(v), 1.f))));
  return v >= 0.f ? t(a) : -t(a);
}
inline float spq_inv(float v) {
  static const Table t(0.f, 1.f, [](float q) { return pq_to_linear(q); });
  float a = std::min(std::fabs(v), 1.f);
  return v >= 0.f ? t(a) : -t(a);
}

// Nonsense parameters (zero, negative, NaN) would turn every pixel into NaN; out-of-range
// ones fall back to the defaults (PQ, and so every luminance here, ends at 10000 cd/m2).
ToneMapParams sanitized(ToneMapParams p) {
  const ToneMapParams d;
  auto sane = [](float v, float fallback) { return v >= 1.f && v <= kPqMaxNits ? v : fallback; };
  p.master_peak_nits = sane(p.master_peak_nits, d.master_peak_nits);
  p.sdr_peak_nits = sane(p.sdr_peak_nits, d.sdr_peak_nits);
  p.hdr_white_nits = sane(p.hdr_white_nits, d.hdr_white_nits);
  return p;
}

Vec3 clamp01(Vec3 v) {
  for (float& x : v) x = std::clamp(x, 0.f, 1.f);
  return v;
}

}  // namespace

// ICtCp (ITU-R BT.2100): LMS from BT.2020 RGB with the integer/4096 matrix, PQ per channel,
// I = (L' + M') / 2. Grey has L' = M' = S' = I, and Ct, Cp are linear in L'M'S', so moving
// a colour towards (I, I, I) in L'M'S' keeps its ICtCp intensity and hue angle exactly and
// scales only its chroma.
GamutCompressor::GamutCompressor(Primaries target, float sdr_peak_nits) {
  const Mat3 lms_from_2020 = {1688 / 4096.f, 2146 / 4096.f, 262 / 4096.f,  //
                              683 / 4096.f,  2951 / 4096.f, 462 / 4096.f,  //
                              99 / 4096.f,   309 / 4096.f,  3688 / 4096.f};
  to_lms_ = mul(lms_from_2020, gamut_matrix(target, Primaries::BT2020));
  from_lms_ = inverse(to_lms_);
  weights_ = luminance_weights(target);
  scale_ = sdr_peak_nits / kPqMaxNits;
  white_intensity_ = spq(scale_ * (1.f - 1e-3f));
}

Vec3 GamutCompressor::operator()(Vec3 c) const {
  const float y = weights_[0] * c[0] + weights_[1] * c[1] + weights_[2] * c[2];
  if (!(y > 0.f)) return {0.f, 0.f, 0.f};  // also catches NaN
  // A grey at or above SDR white is white. The margins absorb the matrices' rounding,
  // which otherwise lets a grey at the master peak come out as 1 - 3e-6 or 1 at random.
  const float spread = std::max({std::fabs(c[0] - y), std::fabs(c[1] - y), std::fabs(c[2] - y)});
  if (y >= 1.f - 1e-5f && spread < 1e-4f) return {1.f, 1.f, 1.f};
  // Coloured and at/above white: u is "infinite" and the target is the cube surface,
  // reached along the same constant-hue path as everything else (no jump to white).
  const float u = saturation(c, y);
  if (u <= kKnee) return clamp01(c);
  const float target = compress(u);

  const Vec3 lms = mul(to_lms_, c);
  Vec3 p;
  for (int i = 0; i < 3; ++i) p[i] = spq(lms[i] * scale_);
  // The grey to move towards: same ICtCp intensity, unless that grey would be brighter
  // than SDR white (bright saturated colours), then just below white. Either way Ct and
  // Cp shrink by the same factor, so the hue angle is kept; the cap is continuous in I.
  const float intensity = std::min(0.5f * (p[0] + p[1]), white_intensity_);
  // The colour with chroma fraction s of the original, at the chosen grey's intensity.
  auto at = [&](float s) {
    Vec3 q;
    for (int i = 0; i < 3; ++i) q[i] = spq_inv(intensity + s * (p[i] - intensity)) / scale_;
    return mul(from_lms_, q);
  };
  auto excess = [&](Vec3 v) {
    return saturation(v, weights_[0] * v[0] + weights_[1] * v[1] + weights_[2] * v[2]) - target;
  };
  if (!(intensity > 0.f)) {
    // Negative cone responses (far outside the spectral locus, dark): no usable grey on
    // the ICtCp side; mix with the grey of equal luminance in linear light instead.
    const float s = target / u;
    for (float& v : c) v = y + s * (v - y);
    return clamp01(c);
  }
  // Solve saturation(at(s)) = target for s in (0, 1) by regula falsi (Illinois variant),
  // starting from the linear-light ratio, which is already close. Bisection while the
  // bracket's upper end is far out (colours at/above white), where secants are useless.
  float lo = 0.f, hi = 1.f, f_lo = -target, f_hi = u - target;
  float s = u < 1e8f ? target / u : 0.5f;
  Vec3 v = at(s);
  int side = 0;
  for (int it = 0; it < 20; ++it) {
    const float f = excess(v);
    if (std::fabs(f) < 1e-4f) break;
    if (f > 0.f) {
      hi = s, f_hi = f;
      if (side == 1) f_lo *= 0.5f;
      side = 1;
    } else {
      lo = s, f_lo = f;
      if (side == -1) f_hi *= 0.5f;
      side = -1;
    }
    s = f_hi > 4.f ? 0.5f * (lo + hi) : (lo * f_hi - hi * f_lo) / (f_hi - f_lo);
    v = at(s);
  }
  if (excess(v) > 1e-4f) v = at(lo);  // never end outside the target saturation
  return clamp01(v);
}

Vec3 soft_gamut_compress(Vec3 rgb, Primaries target, float sdr_peak_nits) {
  return GamutCompressor(target, sdr_peak_nits)(rgb);
}

ToneMapper::ToneMapper(Primaries input, Primaries output, ToneMapParams params)
    : gamut_(output, sanitized(params).sdr_peak_nits) {
  to2020_ = gamut_matrix(input, Primaries::BT2020);
  from2020_ = gamut_matrix(Primaries::BT2020, output);
  identity_in_ = input == Primaries::BT2020;
  params = sanitized(params);
  in_scale_ = params.hdr_white_nits / params.master_peak_nits;
  rho_hdr_ = rho(params.master_peak_nits);
  log_rho_hdr_ = std::log(rho_hdr_);
  rho_sdr_ = rho(params.sdr_peak_nits);
  log_rho_sdr_ = std::log(rho_sdr_);
  luma_.resize(kLumaEntries);
  for (int i = 0; i < kLumaEntries; ++i) luma_[i] = luma_curve(float(i) / (kLumaEntries - 1));
}

float ToneMapper::luma_curve(float y) const {
  float yp = std::log1p((rho_hdr_ - 1.f) * y) / log_rho_hdr_;
  float yc = knee(yp);
  return std::expm1(yc * log_rho_sdr_) / (rho_sdr_ - 1.f);
}

Vec3 ToneMapper::map(Vec3 rgb) const {
  Vec3 e = identity_in_ ? rgb : mul(to2020_, rgb);
  // Normalise to the master peak; outside BT.2020 (negative) -> 0; above peak -> scale the
  // vector, not the channels.
  float m = 0.f;
  for (float& v : e) {
    v = v > 0.f ? v * in_scale_ : 0.f;  // NaN -> 0 as well
    m = std::max(m, v);
  }
  if (m <= 0.f) return {0.f, 0.f, 0.f};
  if (m > 1.f) {
    // The brightest channel lands exactly on 1 (not 1 - ulp), so everything above the peak
    // maps to one output instead of jittering by rounding.
    float s = 1.f / m;
    for (float& v : e) v = v == m ? 1.f : std::min(v * s, 1.f);
  }
  // Gamma domain; Method A's chroma step can push a channel slightly below zero, and
  // eotf24 keeps that sign so the gamut step sees it as out of gamut.
  const float r = gamma_encode(e[0]), g = gamma_encode(e[1]), b = gamma_encode(e[2]);
  const float y = kKr * r + kKg * g + kKb * b;
  if (!(y > 0.f)) return {0.f, 0.f, 0.f};
  const float t = std::min(y, 1.f) * float(kLumaEntries - 1);
  const int i = std::min(int(t), kLumaEntries - 2);
  const float ysdr = luma_[i] + (t - float(i)) * (luma_[i + 1] - luma_[i]);
  const float f = ysdr / (1.1f * y);
  const float cb = f * (b - y) / kCb;
  const float cr = f * (r - y) / kCr;
  const float yt = ysdr - std::max(0.1f * cr, 0.f);
  const float rt = yt + kCr * cr;
  const float bt = yt + kCb * cb;
  const float gt = (yt - kKr * rt - kKb * bt) / kKg;
  Vec3 lin = {eotf24(rt), eotf24(gt), eotf24(bt)};
  return gamut_(mul(from2020_, lin));
}

ImageF tone_map(const ImageF& hdr, Primaries input, Primaries output, const ToneMapParams& params, int threads) {
  if (hdr.empty() || hdr.channels() < 3) return ImageF();
  ImageF out(hdr.width(), hdr.height(), hdr.channels());
  const ToneMapper tm(input, output, params);
  const int ch = hdr.channels();
  parallel_for(hdr.height(), threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* s = hdr.row(y);
      float* d = out.row(y);
      for (int x = 0; x < hdr.width(); ++x, s += ch, d += ch) {
        Vec3 o = tm.map({s[0], s[1], s[2]});
        d[0] = o[0];
        d[1] = o[1];
        d[2] = o[2];
        for (int c = 3; c < ch; ++c) d[c] = s[c];
      }
    }
  });
  return out;
}

}  // namespace regain
