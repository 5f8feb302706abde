// Colour and gain-map math against hand-worked values.
#include <gtest/gtest.h>

#include <cmath>

#include "regain/color.h"
#include "regain/gainmap.h"
#include "regain/synthetic.h"

using namespace regain;

TEST(Transfer, ReferencePoints) {
  EXPECT_NEAR(linear_to_pq(203.f / 10000.f), 0.5807f, 2e-4);
  EXPECT_NEAR(linear_to_pq(100.f / 10000.f), 0.5081f, 2e-4);
  EXPECT_NEAR(linear_to_pq(1000.f / 10000.f), 0.7518f, 2e-4);
  EXPECT_NEAR(pq_to_linear(0.5807f) * 10000.f, 203.f, 0.5f);
  EXPECT_NEAR(srgb_to_linear(0.5f), 0.214041f, 1e-5);
  EXPECT_NEAR(linear_to_srgb(0.214041f), 0.5f, 1e-5);
  EXPECT_NEAR(hlg_to_linear(0.5f), 1.f / 12.f, 1e-6);
  EXPECT_NEAR(linear_to_hlg(1.f), 1.f, 1e-5);
  EXPECT_NEAR(bt709_to_linear(linear_to_bt709(0.3f)), 0.3f, 1e-5);
  for (Transfer t : {Transfer::SRGB, Transfer::BT709, Transfer::Gamma22, Transfer::PQ, Transfer::HLG})
    for (float v : {0.f, 0.01f, 0.2f, 0.5f, 0.9f, 1.f}) EXPECT_NEAR(from_linear(t, to_linear(t, v)), v, 1e-4) << int(t);
}

TEST(Transfer, HlgOotfRoundTrip) {
  Vec3 s{0.2f, 0.5f, 0.1f};
  Vec3 d = hlg_ootf(s, 1000.f);
  Vec3 back = hlg_inverse_ootf(d, 1000.f);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(back[c], s[c], 1e-5);
  // Reference white: 203 cd/m2 on a 1000-nit display sits at ~75% HLG signal.
  float scene = hlg_inverse_ootf({0.203f, 0.203f, 0.203f})[0];
  EXPECT_NEAR(linear_to_hlg(scene), 0.75f, 0.01f);
}

TEST(Primaries, MatricesMatchPublishedValues) {
  Mat3 m = rgb_to_xyz(Primaries::BT709);
  EXPECT_NEAR(m[0], 0.412391f, 1e-5);
  EXPECT_NEAR(m[4], 0.715169f, 1e-5);
  Vec3 p3 = luminance_weights(Primaries::DisplayP3);
  EXPECT_NEAR(p3[0], 0.2289746f, 1e-5);
  EXPECT_NEAR(p3[1], 0.6917385f, 1e-5);
  Mat3 g = gamut_matrix(Primaries::BT709, Primaries::BT2020);
  EXPECT_NEAR(g[0], 0.627404f, 1e-5);
  EXPECT_NEAR(g[1], 0.329283f, 1e-5);
  EXPECT_NEAR(g[2], 0.043313f, 1e-5);
  Mat3 back = mul(gamut_matrix(Primaries::BT2020, Primaries::BT709), g);
  EXPECT_TRUE(is_identity(back, 1e-5f));
  EXPECT_EQ(identify_primaries(chromaticities(Primaries::DisplayP3)), Primaries::DisplayP3);
}

TEST(Weight, IsoRules) {
  GainMapMetadata m;
  m.base_headroom = 0;
  m.alternate_headroom = 2;
  EXPECT_DOUBLE_EQ(gain_map_weight(m, 0), 0);
  EXPECT_DOUBLE_EQ(gain_map_weight(m, 1), 0.5);
  EXPECT_DOUBLE_EQ(gain_map_weight(m, 5), 1);
  m.base_headroom = 1.3;  // HDR base: the map goes down to SDR
  m.alternate_headroom = 0;
  EXPECT_DOUBLE_EQ(gain_map_weight(m, 1.3), 0);
  EXPECT_DOUBLE_EQ(gain_map_weight(m, 0), -1);
  EXPECT_NEAR(gain_map_weight(m, 0.65), -0.5, 1e-12);
}

TEST(Compute, HandWorkedQuantisation) {
  // One pixel, SDR 50% grey, HDR exactly 4x its linear value, offsets 0, min 0, max 4:
  // log2 gain 2 -> r 0.5 -> code floor(127.5 + 0.5) = 128.
  Image8 sdr(1, 1, 3);
  sdr.fill(128);
  ImageF hdr(1, 1, 3);
  hdr.fill(srgb8_to_linear_lut()[128] * 4.f);
  ComputeOptions o;
  o.scale = 1;
  o.base_offset = o.alternate_offset = 0;
  o.min_log2 = 0;
  o.max_log2 = 4;
  auto r = compute_gain_map(sdr, hdr, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->map.at(0, 0), 128);
  o.gamma = 2.0;  // stored = r^gamma = 0.25 -> 64
  r = compute_gain_map(sdr, hdr, o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->map.at(0, 0), 64);
}

TEST(Apply, HandWorked) {
  Image8 base(2, 1, 3);
  base.fill(128);
  Image8 map(1, 1, 1);
  map.fill(255);
  GainMapMetadata m;
  m.alternate_headroom = 2;
  for (auto& c : m.channel) c = {0, 2, 1, 0, 0};
  auto out = apply_gain_map(base, map, m);
  ASSERT_TRUE(out);
  const float lin = srgb8_to_linear_lut()[128];
  EXPECT_NEAR(out->at(0, 0, 0), lin * 4, 1e-5);
  ApplyOptions half;
  half.display_headroom = 1;  // W = 0.5 -> 2^(2*0.5)
  out = apply_gain_map(base, map, m, half);
  EXPECT_NEAR(out->at(1, 0, 2), lin * 2, 1e-5);
  // gamma 2: code 64/255 -> r = sqrt(0.251) ~ 0.501 -> factor 2^(2*0.501)
  map.fill(64);
  for (auto& c : m.channel) c.gamma = 2;
  out = apply_gain_map(base, map, m);
  EXPECT_NEAR(out->at(0, 0, 0), lin * std::exp2(2 * std::sqrt(64 / 255.0)), 2e-3);
  // Offsets: (base + 1/64) * 2^g - 1/64
  map.fill(255);
  for (auto& c : m.channel) c = {0, 1, 1, 1.0 / 64, 1.0 / 64};
  out = apply_gain_map(base, map, m);
  EXPECT_NEAR(out->at(0, 0, 1), (lin + 1.0 / 64) * 2 - 1.0 / 64, 1e-5);
}

TEST(Apply, AppleCurve) {
  Image8 base(1, 1, 3);
  base.fill(255);
  Image8 map(1, 1, 1);
  map.fill(255);
  auto m = apple_metadata(8.0);
  auto out = apply_gain_map(base, map, m);
  ASSERT_TRUE(out);
  EXPECT_NEAR(out->at(0, 0), 8.0, 1e-3);
  map.fill(0);
  out = apply_gain_map(base, map, m);
  EXPECT_NEAR(out->at(0, 0), 1.0, 1e-5);
  // Half-way code: 1 + 7 * bt709_inverse(0.5)
  map.fill(128);
  out = apply_gain_map(base, map, m);
  EXPECT_NEAR(out->at(0, 0), 1 + 7 * bt709_to_linear(128 / 255.f), 1e-3);
}

TEST(Apply, OneChannelMapWithPerChannelMetadata) {
  Image8 base(1, 1, 3);
  base.fill(255);
  Image8 map(1, 1, 1);
  map.fill(255);
  GainMapMetadata m;
  m.multichannel = true;
  m.alternate_headroom = 3.7;
  m.channel[0] = {0, 1, 1, 0, 0};
  m.channel[1] = {0, 2, 1, 0, 0};
  m.channel[2] = {0, 3, 1, 0, 0};
  auto out = apply_gain_map(base, map, m);
  ASSERT_TRUE(out);
  EXPECT_NEAR(out->at(0, 0, 0), 2, 1e-4);
  EXPECT_NEAR(out->at(0, 0, 1), 4, 1e-4);
  EXPECT_NEAR(out->at(0, 0, 2), 8, 1e-4);
}

TEST(Resample, NonIntegerAndLargerMaps) {
  Image8 map(512, 384, 1);
  map.fill(77);
  Image8 r = resample_map(map, 403, 302);
  EXPECT_EQ(r.width(), 403);
  for (auto v : r.span()) ASSERT_EQ(v, 77);
  // A horizontal ramp stays monotonic when upsampled by 2.5x.
  Image8 ramp(10, 1, 1);
  for (int x = 0; x < 10; ++x) ramp.at(x, 0) = uint8_t(x * 25);
  Image8 up = resample_map(ramp, 25, 3);
  for (int x = 1; x < 25; ++x) EXPECT_GE(up.at(x, 1), up.at(x - 1, 1));
  EXPECT_EQ(up.at(0, 0), 0);
  EXPECT_EQ(up.at(24, 2), 225);
}

TEST(RoundTrip, ComputeThenApplyRecoversHdr) {
  ImageF hdr = synthetic_hdr_scene(320, 240, SceneKind::Sunset);
  Image8 sdr = tone_map_to_sdr(hdr);
  for (bool multi : {false, true}) {
    ComputeOptions o;
    o.scale = 1;
    o.multichannel = multi;
    o.low_percentile = 0;
    o.high_percentile = 100;
    auto cg = compute_gain_map(sdr, hdr, o);
    ASSERT_TRUE(cg) << cg.error().message;
    auto out = apply_gain_map(sdr, cg->map, cg->meta);
    ASSERT_TRUE(out);
    // Luminance error in stops, where the SDR is not black.
    double err = 0;
    int n = 0;
    for (int y = 0; y < hdr.height(); ++y)
      for (int x = 0; x < hdr.width(); ++x) {
        auto Y = [](const float* p) { return 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]; };
        double a = Y(&hdr.at(x, y)), b = Y(&out->at(x, y));
        if (a < 0.01) continue;
        err += std::fabs(std::log2(b / a));
        ++n;
      }
    EXPECT_LT(err / n, multi ? 0.03 : 0.06) << "multichannel=" << multi;
  }
}

TEST(Compute, RejectsBadInputs) {
  Image8 sdr(4, 4, 3);
  ImageF hdr(5, 4, 3);
  EXPECT_FALSE(compute_gain_map(sdr, hdr));
  ImageF ok(4, 4, 3);
  ok.fill(1.f);
  sdr.fill(200);
  ComputeOptions o;
  o.scale = 3;
  EXPECT_FALSE(compute_gain_map(sdr, ok, o));
  o.scale = 2;
  auto r = compute_gain_map(sdr, ok, o);
  ASSERT_TRUE(r) << r.error().message;  // flat map still yields valid metadata
  EXPECT_EQ(r->map.width(), 2);
}

#include <array>
#include <random>

#include "regain/overlay.h"

namespace {
// The where-HDR overlay written per pixel, as it was before the per-code tables: the tables
// must give the same bytes.
Image8 overlay_per_pixel(const Image8& sdr, const Image8& m, const GainMapMetadata& meta) {
  static constexpr float kStops[5][3] = {
      {0.10f, 0.02f, 0.25f}, {0.55f, 0.08f, 0.55f}, {0.90f, 0.30f, 0.20f}, {1.00f, 0.65f, 0.05f}, {1.00f, 0.95f, 0.60f}};
  auto heat = [](float t) {
    const float f = std::clamp(t, 0.f, 1.f) * 4.f;
    const int i = std::min(int(f), 3);
    const float u = f - float(i);
    return std::array<float, 3>{kStops[i][0] + (kStops[i + 1][0] - kStops[i][0]) * u,
                                kStops[i][1] + (kStops[i + 1][1] - kStops[i][1]) * u,
                                kStops[i][2] + (kStops[i + 1][2] - kStops[i][2]) * u};
  };
  std::array<std::array<float, 256>, 3> stops{};
  for (int c = 0; c < 3; ++c) {
    const GainMapChannel& ch = meta.channel[meta.multichannel ? c : 0];
    for (int i = 0; i < 256; ++i) {
      const double g = ch.gamma > 0 ? std::pow(i / 255.0, 1.0 / ch.gamma) : i / 255.0;
      stops[size_t(c)][size_t(i)] = float(std::max(0.0, ch.min + (ch.max - ch.min) * g));
    }
  }
  Image8 out(sdr.width(), sdr.height(), 3);
  const int mc = m.channels();
  for (int y = 0; y < sdr.height(); ++y)
    for (int x = 0; x < sdr.width(); ++x) {
      const uint8_t* p = sdr.row(y) + 3 * x;
      const float grey = (0.2126f * p[0] + 0.7152f * p[1] + 0.0722f * p[2]) / 255.f;
      float st = 0;
      for (int c = 0; c < mc; ++c) st = std::max(st, stops[size_t(c)][m.row(y)[x * mc + c]]);
      const float a = std::clamp((st - 0.05f) * 2.2f, 0.f, 1.f);
      const auto h = heat(st / kOverlayFullStops);
      for (int c = 0; c < 3; ++c) {
        const float base = 0.12f + 0.5f * grey;
        out.row(y)[3 * x + c] = uint8_t(std::lround(std::clamp(base * (1 - a) + h[size_t(c)] * a, 0.f, 1.f) * 255.f));
      }
    }
  return out;
}
}  // namespace

TEST(GainOverlay, TablesGiveThePerPixelBytes) {
  std::mt19937 rng(11);
  for (int channels : {1, 3}) {
    Image8 sdr(1031, 1031, 3), map(1031, 1031, channels);  // ~3M values per case
    for (size_t i = 0; i < sdr.size(); ++i) sdr.data()[i] = uint8_t(rng());
    for (size_t i = 0; i < map.size(); ++i) map.data()[i] = uint8_t(rng());
    GainMapMetadata meta;
    meta.multichannel = channels == 3;
    const double mins[3] = {-1.0, 0.0, -0.5}, maxs[3] = {2.5, 1.7, 3.3}, gammas[3] = {1.0, 0.8, 2.2};
    for (int c = 0; c < 3; ++c) {
      meta.channel[size_t(c)].min = mins[c];
      meta.channel[size_t(c)].max = maxs[c];
      meta.channel[size_t(c)].gamma = gammas[c];
    }
    const Image8 got = gain_overlay(sdr, map, meta, 2), want = overlay_per_pixel(sdr, map, meta);
    size_t diff = 0;
    for (size_t i = 0; i < got.size(); ++i) diff += got.data()[i] != want.data()[i];
    EXPECT_EQ(diff, 0u) << channels << "-channel map";
  }
}
