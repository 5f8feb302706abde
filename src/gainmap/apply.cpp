// Applying a gain map: out = (base + k_base) * 2^(lerp(min, max, g^(1/gamma)) * W) - k_alt.
// The map is resampled on the fly (bilinear, centre-aligned, in the code domain as the
// standard asks): rows are blended vertically at map resolution once per output row, then
// each output pixel interpolates horizontally and looks its factor up in a quarter-code
// table. No full-size map is ever materialised.
#include <algorithm>
#include <cmath>
#include <vector>

#include "regain/gainmap.h"
#include "util/parallel.h"

namespace regain {

namespace {

constexpr int kSteps = 4;  // table entries per 8-bit code
constexpr int kLutSize = 255 * kSteps + 1;

std::vector<float> build_factors(const GainMapMetadata& m, int c, double w) {
  std::vector<float> lut(kLutSize);
  const auto& ch = m.channel[c];
  for (int i = 0; i < kLutSize; ++i) {
    double g = double(i) / (kLutSize - 1);
    double f;
    if (m.curve == GainCurve::AppleLinear) {
      double headroom = std::exp2(ch.max);
      f = std::pow(1.0 + (headroom - 1.0) * bt709_to_linear(float(g)), w);
    } else {
      double r = ch.gamma == 1.0 ? g : std::pow(g, 1.0 / ch.gamma);
      f = std::exp2((ch.min * (1 - r) + ch.max * r) * w);
    }
    lut[i] = float(f);
  }
  return lut;
}

template <class Taps>
Taps make_taps(int dst, int src) {
  Taps t;
  t.i0.resize(dst);
  t.i1.resize(dst);
  t.w1.resize(dst);
  const double scale = double(src) / dst;
  for (int x = 0; x < dst; ++x) {
    double f = std::clamp((x + 0.5) * scale - 0.5, 0.0, double(src - 1));
    int i = int(f);
    t.i0[x] = i;
    t.i1[x] = std::min(i + 1, src - 1);
    t.w1[x] = float(f - i);
  }
  return t;
}

}  // namespace

Result<GainMapApplier> GainMapApplier::create(int width, int height, const Image8& map, const GainMapMetadata& m,
                                              double display_headroom, Transfer base_transfer) {
  if (width <= 0 || height <= 0) return fail(ErrorCode::InvalidInput, "base image is empty");
  if (map.empty() || (map.channels() != 1 && map.channels() != 3))
    return fail(ErrorCode::InvalidInput, "gain map must have 1 or 3 channels");
  REGAIN_CHECK(validate(m));
  GainMapApplier a;
  a.width_ = width;
  a.height_ = height;
  a.map_ = map;
  // A 1-channel map with per-channel metadata (seen in Adobe files) drives three curves.
  a.mono_ = map.channels() == 1 && !m.multichannel;
  a.tx_ = make_taps<Taps>(width, map.width());
  a.ty_ = make_taps<Taps>(height, map.height());
  const double w = gain_map_weight(m, display_headroom);
  for (int c = 0; c < 3; ++c) {
    const int src = m.multichannel ? c : 0;
    a.factor_[c] = build_factors(m, src, w);
    a.base_offset_[c] = float(m.channel[src].base_offset);
    a.alt_offset_[c] = float(m.channel[src].alternate_offset);
    for (int v = 0; v < 256; ++v) a.linb_[c][v] = to_linear(base_transfer, v / 255.f) + a.base_offset_[c];
  }
  return a;
}

// vrow = map rows around output row y blended vertically, in quarter-code units, +0.5 so
// that truncation rounds.
void GainMapApplier::blend_map_rows(int y, float* vrow) const {
  const uint8_t* r0 = map_.row(ty_.i0[y]);
  const uint8_t* r1 = map_.row(ty_.i1[y]);
  const float wy = ty_.w1[y];
  const size_t n = map_.row_elems();
  for (size_t k = 0; k < n; ++k) vrow[k] = (r0[k] + (float(r1[k]) - r0[k]) * wy) * kSteps + 0.5f;
}

template <class Out, class Pixel>
void GainMapApplier::run(int y0, int y1, Out&& out_row, Pixel&& lin) const {
  std::vector<float> vrow(map_.row_elems());
  const int W = width_, mc = map_.channels();
  const int* __restrict i0 = tx_.i0.data();
  const int* __restrict i1 = tx_.i1.data();
  const float* __restrict w1 = tx_.w1.data();
  const float* f0 = factor_[0].data();
  const float* f1 = factor_[1].data();
  const float* f2 = factor_[2].data();
  const float a0 = alt_offset_[0], a1 = alt_offset_[1], a2 = alt_offset_[2];
  for (int y = y0; y < y1; ++y) {
    blend_map_rows(y, vrow.data());
    const float* __restrict v = vrow.data();
    float* __restrict o = out_row(y);
    if (mono_) {
      for (int x = 0; x < W; ++x) {
        const float g = v[i0[x]] + (v[i1[x]] - v[i0[x]]) * w1[x];
        const float f = f0[int(g)];
        const auto p = lin(y, x);
        o[3 * x] = std::max(p[0] * f - a0, 0.f);
        o[3 * x + 1] = std::max(p[1] * f - a1, 0.f);
        o[3 * x + 2] = std::max(p[2] * f - a2, 0.f);
      }
    } else {
      const int step = mc == 3 ? 1 : 0;
      for (int x = 0; x < W; ++x) {
        const int k0 = i0[x] * mc, k1 = i1[x] * mc;
        const float wx = w1[x];
        const auto p = lin(y, x);
        const float g0 = v[k0] + (v[k1] - v[k0]) * wx;
        const float g1 = v[k0 + step] + (v[k1 + step] - v[k0 + step]) * wx;
        const float g2 = v[k0 + 2 * step] + (v[k1 + 2 * step] - v[k0 + 2 * step]) * wx;
        o[3 * x] = std::max(p[0] * f0[int(g0)] - a0, 0.f);
        o[3 * x + 1] = std::max(p[1] * f1[int(g1)] - a1, 0.f);
        o[3 * x + 2] = std::max(p[2] * f2[int(g2)] - a2, 0.f);
      }
    }
  }
}

void GainMapApplier::apply_rows(const Image8& base, int y0, int y1, ImageF& out) const {
  for (int y = y0; y < y1; ++y) apply_row(base, y, std::span<float>(out.row(y), size_t(3) * width_));
}

void GainMapApplier::apply_row(const Image8& base, int y, std::span<float> out) const {
  if (y < 0 || y >= height_ || base.width() != width_ || out.size() < size_t(3) * width_) return;
  const auto& l0 = linb_[0];
  const auto& l1 = linb_[1];
  const auto& l2 = linb_[2];
  run(y, y + 1, [&](int) { return out.data(); }, [&](int yy, int x) {
    const uint8_t* b = base.row(yy) + 3 * x;
    return std::array<float, 3>{l0[b[0]], l1[b[1]], l2[b[2]]};
  });
}

void GainMapApplier::apply_rows(const ImageF& base, int y0, int y1, ImageF& out) const {
  const float b0 = base_offset_[0], b1 = base_offset_[1], b2 = base_offset_[2];
  run(y0, y1, [&](int y) { return out.row(y); }, [&](int y, int x) {
    const float* b = base.row(y) + 3 * x;
    return std::array<float, 3>{b[0] + b0, b[1] + b1, b[2] + b2};
  });
}

Result<ImageF> apply_gain_map(const Image8& base, const Image8& map, const GainMapMetadata& m,
                              const ApplyOptions& opt, Transfer base_transfer) {
  if (base.channels() != 3) return fail(ErrorCode::InvalidInput, "base image must be RGB");
  REGAIN_TRY(a, GainMapApplier::create(base.width(), base.height(), map, m, opt.display_headroom, base_transfer));
  ImageF out(base.width(), base.height(), 3);
  parallel_for(base.height(), opt.threads, [&](int y0, int y1) { a.apply_rows(base, y0, y1, out); });
  return out;
}

Result<ImageF> apply_gain_map(const ImageF& base, const Image8& map, const GainMapMetadata& m,
                              const ApplyOptions& opt) {
  if (base.channels() != 3) return fail(ErrorCode::InvalidInput, "base image must be RGB");
  REGAIN_TRY(a, GainMapApplier::create(base.width(), base.height(), map, m, opt.display_headroom, Transfer::Linear));
  ImageF out(base.width(), base.height(), 3);
  parallel_for(base.height(), opt.threads, [&](int y0, int y1) { a.apply_rows(base, y0, y1, out); });
  return out;
}

Image8 resample_map(const Image8& map, int width, int height, int threads) {
  struct T {
    std::vector<int> i0, i1;
    std::vector<float> w1;
  };
  const T tx = make_taps<T>(width, map.width()), ty = make_taps<T>(height, map.height());
  const int ch = map.channels();
  Image8 out(width, height, ch);
  // Rows on all cores (a full-size map is 12 MP for a 12-MP preview); each row as before.
  parallel_for(height, threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const uint8_t* r0 = map.row(ty.i0[y]);
      const uint8_t* r1 = map.row(ty.i1[y]);
      const float wy = ty.w1[y];
      uint8_t* o = out.row(y);
      for (int x = 0; x < width; ++x)
        for (int c = 0; c < ch; ++c) {
          const int a = tx.i0[x] * ch + c, b = tx.i1[x] * ch + c;
          float top = r0[a] + (float(r0[b]) - r0[a]) * tx.w1[x];
          float bot = r1[a] + (float(r1[b]) - r1[a]) * tx.w1[x];
          o[x * ch + c] = uint8_t(top + (bot - top) * wy + 0.5f);
        }
    }
  });
  return out;
}

}  // namespace regain
