// Gain-map computation: box-averaged linear renditions per map pixel, log2 ratio with
// offsets, robust min/max, gamma, 8-bit quantisation (ISO 21496-1 / Ultra HDR encoder math).
#include <algorithm>
#include <cmath>
#include <vector>

#include "regain/gainmap.h"
#include "util/parallel.h"

namespace regain {

namespace {

bool valid_scale(int s) { return s == 1 || s == 2 || s == 4 || s == 8; }

// Negative offsets (allowed by ISO) can drive a sum to <= 0; keep the ratio finite.
inline float safe_log2_ratio(float num, float den) {
  return std::log2(std::max(num, 1e-10f) / std::max(den, 1e-10f));
}

// Value at the given percentile of `values` via a 0.005-stop histogram (exact enough for
// metadata, O(n) instead of a sort of up to 12M values).
double percentile(const std::vector<float>& values, double pct) {
  constexpr double lo = -32, hi = 32, step = 0.005;
  const int bins = int((hi - lo) / step) + 1;
  std::vector<uint32_t> hist(bins, 0);
  for (float v : values) hist[size_t(std::clamp((double(v) - lo) / step, 0.0, double(bins - 1)))]++;
  uint64_t target = uint64_t(std::ceil(pct / 100.0 * double(values.size())));
  target = std::clamp<uint64_t>(target, 1, values.size());
  uint64_t acc = 0;
  for (int i = 0; i < bins; ++i) {
    acc += hist[i];
    if (acc >= target) return lo + (i + 0.5) * step;
  }
  return hi;
}

// Adds one row into the column sums: contiguous, branch-free loops (-O3 vectorises the
// second; the first is table lookups, which measured no faster as AVX2 gathers).
void add_sdr_row(const uint8_t* __restrict sp, const float* __restrict lut, float* __restrict cs, size_t n) {
  for (size_t i = 0; i < n; ++i) cs[i] += lut[sp[i]];
}
void add_hdr_row(const float* __restrict hp, float* __restrict ch, size_t n) {
  for (size_t i = 0; i < n; ++i) ch[i] += hp[i] > 0.f ? hp[i] : 0.f;  // NaN -> 0 too
}

}  // namespace

Result<ComputedGainMap> quantize_gain_map(const ImageF& g, const ComputeOptions& opt) {
  const int ch = g.channels();
  if (g.empty() || (ch != 1 && ch != 3))
    return fail(ErrorCode::InvalidInput, "gain map: need a 1- or 3-channel log2 gain image");
  if (!(opt.gamma > 0) || !std::isfinite(opt.gamma))
    return fail(ErrorCode::InvalidInput, "gain map: gamma must be > 0");

  GainMapMetadata meta;
  meta.multichannel = ch == 3;
  meta.use_base_colour_space = true;
  meta.base_headroom = 0;
  std::vector<float> values(size_t(g.width()) * g.height());
  double overall_max = 0;
  for (int c = 0; c < ch; ++c) {
    for (size_t i = 0; i < values.size(); ++i) {
      float v = g.data()[i * ch + c];
      values[i] = std::isfinite(v) ? v : 0.f;
    }
    double mn = opt.min_log2 ? *opt.min_log2 : percentile(values, opt.low_percentile);
    double mx = opt.max_log2 ? *opt.max_log2 : percentile(values, opt.high_percentile);
    if (!opt.min_log2 && !opt.max_log2) {
      // A map that never darkens keeps 0 as its floor so flat areas land exactly on code 0.
      mn = std::min(mn, 0.0);
    }
    if (mx - mn < 1e-3) mx = mn + 1e-3;  // a flat map still needs a non-empty range
    // Snap outward to a 1/65536-stop grid: such values are exact as ISO fractions and as
    // decimal XMP text, so both flavours carry bit-identical metadata.
    mn = std::floor(mn * 65536.0) / 65536.0;
    mx = std::ceil(mx * 65536.0) / 65536.0;
    meta.channel[c] = {mn, mx, opt.gamma, opt.base_offset, opt.alternate_offset};
    overall_max = std::max(overall_max, mx);
  }
  if (ch == 1) meta.channel[1] = meta.channel[2] = meta.channel[0];
  meta.alternate_headroom = opt.alternate_headroom ? *opt.alternate_headroom
                                                   : std::max(overall_max, 1.0 / 128);
  REGAIN_CHECK(validate(meta));

  Image8 map(g.width(), g.height(), ch);
  const bool linear_gamma = opt.gamma == 1.0;
  parallel_for(g.height(), opt.threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* src = g.row(y);
      uint8_t* dst = map.row(y);
      for (int x = 0; x < g.width(); ++x)
        for (int c = 0; c < ch; ++c) {
          const auto& m = meta.channel[c];
          const float v = src[x * ch + c];
          double r = std::isfinite(v) ? std::clamp((v - m.min) / (m.max - m.min), 0.0, 1.0) : 0.0;
          if (!linear_gamma) r = std::pow(r, m.gamma);
          dst[x * ch + c] = uint8_t(r * 255.0 + 0.5);
        }
    }
  });
  return ComputedGainMap{std::move(map), meta};
}

Result<GainMapComputer> GainMapComputer::create(const Image8& sdr, const ImageF& hdr, const ComputeOptions& opt) {
  if (sdr.channels() != 3 || hdr.channels() != 3)
    return fail(ErrorCode::InvalidInput, "gain map: SDR and HDR must be RGB");
  if (sdr.width() != hdr.width() || sdr.height() != hdr.height())
    return fail(ErrorCode::InvalidInput, "gain map: SDR " + std::to_string(sdr.width()) + "x" +
                                             std::to_string(sdr.height()) + " and HDR " +
                                             std::to_string(hdr.width()) + "x" +
                                             std::to_string(hdr.height()) + " differ in size");
  if (sdr.empty()) return fail(ErrorCode::InvalidInput, "gain map: empty image");
  if (!valid_scale(opt.scale))
    return fail(ErrorCode::InvalidInput, "gain map: scale must be 1, 2, 4 or 8");
  GainMapComputer c;
  c.sdr_ = &sdr;
  c.hdr_ = &hdr;
  c.opt_ = opt;
  const int s = opt.scale;
  c.gains_ = ImageF((sdr.width() + s - 1) / s, (sdr.height() + s - 1) / s, opt.multichannel ? 3 : 1);
  return c;
}

void GainMapComputer::compute_rows(int my0, int my1) {
  const Image8& sdr = *sdr_;
  const ImageF& hdr = *hdr_;
  const int W = sdr.width(), H = sdr.height();
  const int mw = gains_.width(), mh = gains_.height(), out_ch = gains_.channels();
  const auto& lut = srgb8_to_linear_lut();
  const Vec3 wts = luminance_weights(opt_.primaries);
  const float ks = float(opt_.base_offset), kh = float(opt_.alternate_offset);
  // Column sums over the block's rows first: contiguous, branch-free loops the compiler
  // vectorises; the horizontal reduction then touches only W*3 values per map row.
  const size_t n = size_t(W) * 3;
  std::vector<float> col_sdr(n), col_hdr(n);
  for (int my = my0; my < my1; ++my) {
    std::fill(col_sdr.begin(), col_sdr.end(), 0.f);
    std::fill(col_hdr.begin(), col_hdr.end(), 0.f);
    // Block edges on the exact W/mw grid, so each map pixel's centre is where decoders
    // (centre-aligned resampling by mw/W) look for it, also when W is not a multiple of
    // the scale.
    const int y0 = int(int64_t(my) * H / mh), y1 = std::max(y0 + 1, int(int64_t(my + 1) * H / mh));
    for (int y = y0; y < y1; ++y) {
      add_sdr_row(sdr.row(y), lut.data(), col_sdr.data(), n);
      add_hdr_row(hdr.row(y), col_hdr.data(), n);
    }
    float* out = gains_.row(my);
    for (int mx = 0; mx < mw; ++mx) {
      const int x0 = int(int64_t(mx) * W / mw), x1 = std::max(x0 + 1, int(int64_t(mx + 1) * W / mw));
      float a[6] = {0, 0, 0, 0, 0, 0};
      for (int x = x0; x < x1; ++x)
        for (int c = 0; c < 3; ++c) {
          a[c] += col_sdr[3 * x + c];
          a[3 + c] += col_hdr[3 * x + c];
        }
      const float inv = 1.f / float((x1 - x0) * (y1 - y0));
      if (out_ch == 1) {
        float ys = (wts[0] * a[0] + wts[1] * a[1] + wts[2] * a[2]) * inv;
        float yh = (wts[0] * a[3] + wts[1] * a[4] + wts[2] * a[5]) * inv;
        out[mx] = safe_log2_ratio(yh + kh, ys + ks);
      } else {
        for (int c = 0; c < 3; ++c) out[mx * 3 + c] = safe_log2_ratio(a[3 + c] * inv + kh, a[c] * inv + ks);
      }
    }
  }
}

Result<ComputedGainMap> GainMapComputer::finish() const { return quantize_gain_map(gains_, opt_); }

Result<ComputedGainMap> compute_gain_map(const Image8& sdr, const ImageF& hdr, const ComputeOptions& opt) {
  REGAIN_TRY(c, GainMapComputer::create(sdr, hdr, opt));
  parallel_for(c.map_rows(), opt.threads, [&](int a, int b) { c.compute_rows(a, b); });
  return c.finish();
}

Result<ComputedGainMap> quantize_gain_map_exact(const ImageF& log2_gain, Primaries primaries) {
  float gmin = 0, gmax = 0;
  for (float v : log2_gain.span()) {
    gmin = std::min(gmin, v);
    gmax = std::max(gmax, v);
  }
  ComputeOptions co;
  co.min_log2 = gmin;
  co.max_log2 = std::max(double(gmax), double(gmin) + 1.0 / 64);
  co.primaries = primaries;
  return quantize_gain_map(log2_gain, co);
}

}  // namespace regain
