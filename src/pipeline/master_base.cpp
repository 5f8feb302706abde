// The SDR base and gain map of `regain master`, and the labels in every rendition.
#include "pipeline/master_base.h"

#include <algorithm>
#include <cmath>

#include "regain/label.h"
#include "regain/tonemap.h"
#include "util/parallel.h"

namespace regain {

namespace {

// Linear [0,1] -> 8-bit sRGB code: 16384 steps in linear light put the table's error below
// a quarter code even on the steep part of the curve near black.
const std::array<uint8_t, 16385>& srgb_encode_table() {
  static const auto table = [] {
    std::array<uint8_t, 16385> t{};
    for (int i = 0; i <= 16384; ++i) t[size_t(i)] = uint8_t(linear_to_srgb(float(i) / 16384.f) * 255.f + 0.5f);
    return t;
  }();
  return table;
}

inline uint8_t encode_srgb8(float v) {
  return srgb_encode_table()[size_t(std::clamp(v, 0.f, 1.f) * 16384.f + 0.5f)];
}

}  // namespace

Image8 tone_map_base(const ImageF& master_p3, Primaries primaries, double sdr_exposure, int threads) {
  ImageF sdr = tone_map(master_p3, Primaries::DisplayP3, primaries, {}, threads);
  Image8 out(sdr.width(), sdr.height(), 3);
  // The optional lift (a departure from Method A, off by default): luminance Y -> kY/(1+(k-1)Y),
  // k = 2^sdr_exposure. Slope k at black (shadows and mid-tones gain up to sdr_exposure
  // stops), 1 -> 1 with slope 1/k, so highlights keep Method A's roll-off and nothing clips;
  // RGB is scaled by one factor per pixel (hue kept) and put back into the cube by the same
  // constant-hue compression the tone mapper uses.
  const float k = float(std::exp2(sdr_exposure));
  const bool lift = sdr_exposure != 0;
  const Vec3 w = luminance_weights(primaries);
  const GamutCompressor gamut(primaries);
  parallel_for(sdr.height(), threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* s = sdr.row(y);
      uint8_t* d = out.row(y);
      for (int x = 0; x < sdr.width(); ++x, s += 3, d += 3) {
        Vec3 v{s[0], s[1], s[2]};
        if (lift) {
          const float Y = w[0] * v[0] + w[1] * v[1] + w[2] * v[2];
          if (Y > 0.f) {
            const float f = k / (1.f + (k - 1.f) * std::min(Y, 1.f));
            v = gamut({v[0] * f, v[1] * f, v[2] * f});
          }
        }
        d[0] = encode_srgb8(v[0]), d[1] = encode_srgb8(v[1]), d[2] = encode_srgb8(v[2]);
      }
    }
  });
  return out;
}

Image8 lut_base(const ImageF& master_p3, const CubeLut& lut, int threads) {
  Image8 out(master_p3.width(), master_p3.height(), 3);
  // The LUT reads the PQ signal: the same table-driven encoding as the PQ exports, at full
  // 16-bit precision (no 10-bit rounding before the LUT).
  const Image16 pq = encode_pq(master_p3, 16, threads);
  parallel_for(pq.height(), threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const uint16_t* s = pq.row(y);
      uint8_t* d = out.row(y);
      for (int x = 0; x < pq.width(); ++x, s += 3, d += 3) {
        const Vec3 o = lut_tetrahedral(lut, {s[0] / 65535.f, s[1] / 65535.f, s[2] / 65535.f});
        for (int c = 0; c < 3; ++c) d[c] = uint8_t(std::clamp(std::isfinite(o[c]) ? o[c] : 0.f, 0.f, 1.f) * 255.f + 0.5f);
      }
    }
  });
  return out;
}

Result<LabelRect> paint_label_pq(Image16& pq, std::string_view text, int bits) {
  REGAIN_TRY(mask, render_label(text, pq.width(), pq.height()));
  // The label's light is its 8-bit SDR signal decoded with sRGB, at SDR white = 203 cd/m2:
  // the same cd/m2 as in the gain-map file's SDR base on a display whose SDR white is 203.
  std::array<uint16_t, 256> code{};
  const auto& lin = srgb8_to_linear_lut();
  for (int c = 0; c < 256; ++c)
    code[size_t(c)] = uint16_t(linear_to_pq(lin[size_t(LabelMask::signal(uint8_t(c)))] * kSdrWhiteNits / kPqMaxNits) *
                                   float((1 << bits) - 1) + 0.5f);
  for (int y = mask.box.y; y < mask.box.y + mask.box.height; ++y) {
    uint16_t* p = pq.row(y) + size_t(mask.box.x) * 3;
    for (int x = mask.box.x; x < mask.box.x + mask.box.width; ++x, p += 3) p[0] = p[1] = p[2] = code[mask.at(x, y)];
  }
  return mask.box;
}

constexpr int kNoGainMargin = 4;

MapRange map_pixels_under(const LabelRect& r, int image_w, int image_h, int map_w, int map_h) {
  // Readers upsample centre-aligned: image x samples map coordinate u = (x + 0.5) mw/W - 0.5
  // and its two bilinear neighbours floor(u), floor(u) + 1. One more map pixel on each side
  // covers wider (bicubic-like) reconstruction filters.
  auto span = [](int a, int b, int n, int m) {
    const double s = double(m) / n;
    int lo = int(std::floor((a + 0.5) * s - 0.5)) - kNoGainMargin;
    int hi = int(std::floor((b - 0.5) * s - 0.5)) + 1 + kNoGainMargin;
    return std::pair{std::clamp(lo, 0, m), std::clamp(hi + 1, 0, m)};
  };
  MapRange out;
  if (r.empty()) return out;
  std::tie(out.x0, out.x1) = span(r.x, r.x + r.width, image_w, map_w);
  std::tie(out.y0, out.y1) = span(r.y, r.y + r.height, image_h, map_h);
  // Out to whole 8x8 blocks: JPEG (and HEVC/AV1 transforms of that size) then code the area
  // as flat blocks, instead of blocks that mix it with real gains and ring across it.
  out.x0 = out.x0 / 8 * 8, out.y0 = out.y0 / 8 * 8;
  out.x1 = std::min(map_w, (out.x1 + 7) / 8 * 8), out.y1 = std::min(map_h, (out.y1 + 7) / 8 * 8);
  return out;
}

Result<ComputedGainMap> master_gain_map(const Image8& base, const ImageF& hdr, Primaries primaries, int scale,
                                        const std::optional<LabelRect>& no_gain, int threads) {
  ComputeOptions co;
  co.scale = scale;
  co.primaries = primaries;
  co.threads = threads;
  REGAIN_TRY(computer, GainMapComputer::create(base, hdr, co));
  parallel_for(computer.map_rows(), threads, [&](int a, int b) { computer.compute_rows(a, b); });
  ImageF& g = computer.log2_gain();
  if (no_gain) {
    const MapRange r = map_pixels_under(*no_gain, base.width(), base.height(), g.width(), g.height());
    for (int y = r.y0; y < r.y1; ++y)
      for (int x = r.x0; x < r.x1; ++x)
        for (int c = 0; c < g.channels(); ++c) g.at(x, y, c) = 0.f;
  }
  // Exact range of the map (a master's brightest highlight is its headroom, not an
  // outlier), with 0 on an exact code so "no gain" decodes to a factor of exactly 1 at
  // every display headroom: for a range [mn, mx] with mn < 0 < mx, code k represents 0
  // when mn = -k mx / (255 - k); the smallest such k that still covers mn is used.
  float mn = 0.f, mx = 0.f;
  for (float v : g.span())
    if (std::isfinite(v)) mn = std::min(mn, v), mx = std::max(mx, v);
  double hi = std::max(double(mx), 1.0 / 64);
  hi = std::ceil(hi * 65536.0) / 65536.0;  // the grid quantize_gain_map snaps to
  double lo = 0;
  if (mn < 0) {
    const int k = std::clamp(int(std::ceil(-double(mn) / (hi - mn) * 255.0)), 1, 254);
    lo = -double(k) * hi / (255 - k);
  }
  co.min_log2 = lo;
  co.max_log2 = hi;
  return quantize_gain_map(g, co);
}

}  // namespace regain
