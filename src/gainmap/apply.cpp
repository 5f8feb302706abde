// Applying a gain map: out = (base + k_base) * 2^(lerp(min, max, g^(1/gamma)) * W) - k_alt,
// with the map resampled on the fly (bilinear, centre-aligned) so no full-size map is
// materialised. The per-code factor comes from a table at quarter-code resolution.
#include <algorithm>
#include <cmath>
#include <vector>

#include "regain/gainmap.h"
#include "util/parallel.h"

namespace regain {

namespace {

constexpr int kSteps = 4;                    // table entries per 8-bit code
constexpr int kLutSize = 255 * kSteps + 1;

struct ChannelLut {
  std::vector<float> factor = std::vector<float>(kLutSize);
  float base_offset = 0, alternate_offset = 0;
};

ChannelLut build_lut(const GainMapMetadata& m, int c, double w) {
  ChannelLut lut;
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
    lut.factor[i] = float(f);
  }
  lut.base_offset = float(ch.base_offset);
  lut.alternate_offset = float(ch.alternate_offset);
  return lut;
}

// Horizontal sampling positions of a resampling from `src` to `dst` samples.
struct Taps {
  std::vector<int> i0, i1;
  std::vector<float> w1;
};
Taps make_taps(int dst, int src) {
  Taps t;
  t.i0.resize(dst); t.i1.resize(dst); t.w1.resize(dst);
  double scale = double(src) / dst;
  for (int x = 0; x < dst; ++x) {
    double f = (x + 0.5) * scale - 0.5;
    f = std::clamp(f, 0.0, double(src - 1));
    int i = int(f);
    t.i0[x] = i;
    t.i1[x] = std::min(i + 1, src - 1);
    t.w1[x] = float(f - i);
  }
  return t;
}

// Fills `out` (dst_w * channels, in quarter-code units) with the map sampled for output row y.
void sample_map_row(const Image8& map, const Taps& tx, const Taps& ty, int y, float* out) {
  const int ch = map.channels();
  const uint8_t* r0 = map.row(ty.i0[y]);
  const uint8_t* r1 = map.row(ty.i1[y]);
  const float wy = ty.w1[y];
  const int n = int(tx.i0.size());
  for (int x = 0; x < n; ++x) {
    const int a = tx.i0[x] * ch, b = tx.i1[x] * ch;
    const float wx = tx.w1[x];
    for (int c = 0; c < ch; ++c) {
      float top = r0[a + c] + (r0[b + c] - r0[a + c]) * wx;
      float bot = r1[a + c] + (r1[b + c] - r1[a + c]) * wx;
      out[x * ch + c] = (top + (bot - top) * wy) * kSteps;
    }
  }
}

template <class BaseRow>
Result<ImageF> apply_impl(int W, int H, BaseRow&& base_row, const Image8& map,
                          const GainMapMetadata& m, const ApplyOptions& opt) {
  if (map.empty() || (map.channels() != 1 && map.channels() != 3))
    return fail(ErrorCode::InvalidInput, "gain map must have 1 or 3 channels");
  REGAIN_CHECK(validate(m));
  const double w = gain_map_weight(m, opt.display_headroom);
  const int mc = map.channels();
  ChannelLut luts[3] = {build_lut(m, 0, w), build_lut(m, m.multichannel ? 1 : 0, w),
                        build_lut(m, m.multichannel ? 2 : 0, w)};
  const Taps tx = make_taps(W, map.width()), ty = make_taps(H, map.height());
  ImageF out(W, H, 3);
  parallel_for(H, opt.threads, [&](int y0, int y1) {
    std::vector<float> g(size_t(W) * mc);
    std::vector<float> lin(size_t(W) * 3);
    for (int y = y0; y < y1; ++y) {
      sample_map_row(map, tx, ty, y, g.data());
      base_row(y, lin.data());
      float* o = out.row(y);
      if (mc == 1 && !m.multichannel) {
        const ChannelLut& l = luts[0];
        for (int x = 0; x < W; ++x) {
          const float f = l.factor[int(g[x] + 0.5f)];
          for (int c = 0; c < 3; ++c) {
            const ChannelLut& lc = luts[c];
            o[3 * x + c] = std::max((lin[3 * x + c] + lc.base_offset) * f - lc.alternate_offset, 0.f);
          }
        }
      } else {
        // Also covers a 1-channel map with per-channel metadata (seen in Adobe files): the
        // one code drives three different curves.
        const int step = mc == 3 ? 1 : 0;
        for (int x = 0; x < W; ++x)
          for (int c = 0; c < 3; ++c) {
            const ChannelLut& l = luts[c];
            const float f = l.factor[int(g[mc * x + c * step] + 0.5f)];
            o[3 * x + c] = std::max((lin[3 * x + c] + l.base_offset) * f - l.alternate_offset, 0.f);
          }
      }
    }
  });
  return out;
}

}  // namespace

Result<ImageF> apply_gain_map(const Image8& base, const Image8& map, const GainMapMetadata& m,
                              const ApplyOptions& opt, Transfer base_transfer) {
  if (base.channels() != 3) return fail(ErrorCode::InvalidInput, "base image must be RGB");
  std::array<float, 256> lut{};
  for (int i = 0; i < 256; ++i) lut[i] = to_linear(base_transfer, i / 255.f);
  const int W = base.width();
  return apply_impl(
      W, base.height(),
      [&](int y, float* lin) {
        const uint8_t* p = base.row(y);
        for (int i = 0; i < W * 3; ++i) lin[i] = lut[p[i]];
      },
      map, m, opt);
}

Result<ImageF> apply_gain_map(const ImageF& base, const Image8& map, const GainMapMetadata& m,
                              const ApplyOptions& opt) {
  if (base.channels() != 3) return fail(ErrorCode::InvalidInput, "base image must be RGB");
  const int W = base.width();
  return apply_impl(
      W, base.height(),
      [&](int y, float* lin) { std::copy(base.row(y), base.row(y) + W * 3, lin); }, map, m, opt);
}

Image8 resample_map(const Image8& map, int width, int height) {
  const Taps tx = make_taps(width, map.width()), ty = make_taps(height, map.height());
  Image8 out(width, height, map.channels());
  std::vector<float> row(size_t(width) * map.channels());
  for (int y = 0; y < height; ++y) {
    sample_map_row(map, tx, ty, y, row.data());
    uint8_t* o = out.row(y);
    for (size_t i = 0; i < row.size(); ++i) o[i] = uint8_t(row[i] / kSteps + 0.5f);
  }
  return out;
}

}  // namespace regain
