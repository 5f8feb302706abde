// BT.2446-1 Method A tone mapping: the published curve values, a monotonic bounded grey
// ramp, peak and black, documented diffuse-white level, and hue kept on saturated ramps
// (measured as ICtCp hue angle, BT.2100) without per-channel clipping plateaus.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "regain/tonemap.h"

using namespace regain;

namespace {

Vec3 grey(float nits) { float v = nits / kSdrWhiteNits; return {v, v, v}; }

// ICtCp (ITU-R BT.2100) from BT.2020 linear RGB in cd/m2. `physical` is cleared when the
// colour has negative cone responses (outside the spectral locus), where hue means little.
Vec3 ictcp(Vec3 c, bool* physical = nullptr) {
  float l = (1688 * c[0] + 2146 * c[1] + 262 * c[2]) / 4096, m = (683 * c[0] + 2951 * c[1] + 462 * c[2]) / 4096,
        s = (99 * c[0] + 309 * c[1] + 3688 * c[2]) / 4096;
  if (physical) *physical = l >= 0 && m >= 0 && s >= 0;
  float lp = linear_to_pq(std::max(l, 0.f) / 10000), mp = linear_to_pq(std::max(m, 0.f) / 10000),
        sp = linear_to_pq(std::max(s, 0.f) / 10000);
  return {0.5f * (lp + mp), (6610 * lp - 13613 * mp + 7003 * sp) / 4096, (17933 * lp - 17390 * mp - 543 * sp) / 4096};
}

float luminance(Vec3 c, Primaries p) {
  Vec3 w = luminance_weights(p);
  return w[0] * c[0] + w[1] * c[1] + w[2] * c[2];
}

// Hue angle difference in degrees between an HDR input (extended SDR, BT.2020) and an SDR
// output (target primaries). Hue of a chromaticity shifts with absolute level in ICtCp, so
// the output is compared at the input's luminance: only its chromaticity counts.
float hue_drift(Vec3 in2020, Vec3 out, Primaries out_p, float* out_chroma) {
  Vec3 o = mul(gamut_matrix(out_p, Primaries::BT2020), out);
  float yi = luminance(in2020, Primaries::BT2020), yo = luminance(o, Primaries::BT2020);
  Vec3 a = ictcp({in2020[0] * kSdrWhiteNits, in2020[1] * kSdrWhiteNits, in2020[2] * kSdrWhiteNits});
  float k = yi / yo * kSdrWhiteNits;
  Vec3 b = ictcp({o[0] * k, o[1] * k, o[2] * k});
  *out_chroma = std::hypot(b[1], b[2]);
  float d = std::atan2(b[2], b[1]) - std::atan2(a[2], a[1]);
  d = std::remainder(d, 2 * float(M_PI));
  return std::fabs(d) * 180.f / float(M_PI);
}

}  // namespace

TEST(ToneMap, LumaCurveMatchesPublishedMethodA) {
  ToneMapper tm(Primaries::BT2020, Primaries::BT709);
  EXPECT_NEAR(tm.luma_curve(0.f), 0.f, 1e-7);
  EXPECT_NEAR(tm.luma_curve(1.f), 1.f, 1e-5);
  // 203 cd/m2 on a 1000 cd/m2 master: Y' = 0.203^(1/2.4) = 0.5146, worked by hand through
  // rho_HDR = 13.260, Y'p = 0.7696, knee 0.8284, rho_SDR = 5.697 -> Y'sdr = 0.687.
  EXPECT_NEAR(tm.luma_curve(std::pow(0.203f, 1 / 2.4f)), 0.687f, 2e-3);
  // The knee segments join (continuity at Y'p = 0.7399 and 0.9909, values in the Report).
  float prev = 0.f;
  for (int i = 1; i <= 20000; ++i) {
    float v = tm.luma_curve(i / 20000.f);
    ASSERT_GE(v, prev) << i;
    ASSERT_LT(v - prev, 2e-3f) << "jump at " << i;
    prev = v;
  }
}

TEST(ToneMap, GreyRampIsMonotonicBoundedAndGrey) {
  for (Primaries in : {Primaries::BT2020, Primaries::DisplayP3})
    for (Primaries out : {Primaries::BT709, Primaries::DisplayP3}) {
      ToneMapper tm(in, out);
      float prev = -1.f;
      for (int i = 0; i <= 4000; ++i) {
        float nits = i == 0 ? 0.f : 0.01f * std::pow(1e6f, i / 4000.f);  // 0.01 .. 10000 cd/m2
        Vec3 o = tm.map(grey(nits));
        ASSERT_GE(o[0], prev) << nits;
        ASSERT_GE(o[0], 0.f);
        ASSERT_LE(o[0], 1.f);
        ASSERT_NEAR(o[1], o[0], 1e-5) << nits;
        ASSERT_NEAR(o[2], o[0], 1e-5) << nits;
        prev = o[0];
      }
    }
}

TEST(ToneMap, PeakBlackAndDiffuseWhiteLevels) {
  ToneMapper tm(Primaries::BT2020, Primaries::BT709);
  EXPECT_NEAR(tm.map(grey(1000.f))[0], 1.f, 1e-4);  // master peak -> SDR peak
  EXPECT_GT(tm.map(grey(900.f))[0], 0.95f);          // and a smooth roll-off just below
  EXPECT_LT(tm.map(grey(900.f))[0], tm.map(grey(1000.f))[0]);
  EXPECT_EQ(tm.map(grey(4000.f))[0], tm.map(grey(1000.f))[0]);  // above the master peak: held
  EXPECT_EQ(tm.map(grey(10000.f))[0], tm.map(grey(1000.f))[0]);
  Vec3 black = tm.map({0.f, 0.f, 0.f});
  EXPECT_EQ(black[0], 0.f);
  EXPECT_EQ(black[1], 0.f);
  EXPECT_EQ(black[2], 0.f);
  EXPECT_EQ(tm.map({-1.f, -0.5f, -2.f})[0], 0.f);
  EXPECT_EQ(tm.map({NAN, NAN, NAN})[0], 0.f);
  // The levels documented in tonemap.h.
  EXPECT_NEAR(tm.map(grey(203.f))[0], 0.406f, 3e-3);    // HDR Reference White
  EXPECT_NEAR(tm.map(grey(26.f))[0], 0.0722f, 1e-3);    // BT.2408 18% grey
  EXPECT_NEAR(tm.map(grey(36.5f))[0], 0.0967f, 1e-3);   // 18% of reference white
  EXPECT_NEAR(tm.map(grey(80.f))[0], 0.188f, 2e-3);     // skin-tone luminance
}

TEST(ToneMap, NonsenseParametersFallBackToDefaults) {
  ToneMapParams bad;
  bad.master_peak_nits = 0.f;
  bad.sdr_peak_nits = NAN;
  bad.hdr_white_nits = -5.f;
  ToneMapper a(Primaries::BT2020, Primaries::BT709, bad), b(Primaries::BT2020, Primaries::BT709);
  EXPECT_EQ(a.map(grey(203.f))[0], b.map(grey(203.f))[0]);
  // A 4000-nit master keeps 1000 cd/m2 below the SDR peak.
  ToneMapParams p4k;
  p4k.master_peak_nits = 4000.f;
  ToneMapper c(Primaries::BT2020, Primaries::BT709, p4k);
  EXPECT_LT(c.map(grey(1000.f))[0], 0.9f);
  EXPECT_NEAR(c.map(grey(4000.f))[0], 1.f, 1e-4);
}

TEST(ToneMap, P3InputEqualsItsBt2020Equivalent) {
  ToneMapper p3(Primaries::DisplayP3, Primaries::BT709), r2020(Primaries::BT2020, Primaries::BT709);
  Mat3 m = gamut_matrix(Primaries::DisplayP3, Primaries::BT2020);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.f, 4.f);
  for (int i = 0; i < 500; ++i) {
    Vec3 c{u(rng), u(rng), u(rng)};
    Vec3 a = p3.map(c), b = r2020.map(mul(m, c));
    for (int k = 0; k < 3; ++k) ASSERT_NEAR(a[k], b[k], 2e-4);
  }
}

TEST(ToneMap, SaturatedRampsKeepHueWithoutPlateaus) {
  const Vec3 colours[] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 0}, {0, 1, 1}, {1, 0, 1}};
  const char* names[] = {"red", "green", "blue", "yellow", "cyan", "magenta"};
  for (Primaries out : {Primaries::BT709, Primaries::DisplayP3}) {
    ToneMapper tm(Primaries::BT2020, out);
    for (int k = 0; k < 6; ++k) {
      const int steps = 200;
      int moving = 0, compared = 0;
      float worst = 0.f;
      Vec3 prev{-1, -1, -1};
      for (int i = 1; i <= steps; ++i) {
        float nits = 1000.f * std::pow(i / float(steps), 2.f);  // channel level 0.025 .. 1000 cd/m2
        Vec3 in{colours[k][0] * nits / kSdrWhiteNits, colours[k][1] * nits / kSdrWhiteNits,
                colours[k][2] * nits / kSdrWhiteNits};
        Vec3 o = tm.map(in);
        for (float v : o) {
          ASSERT_GE(v, 0.f);
          ASSERT_LE(v, 1.f);
        }
        float chroma = 0.f;
        float d = hue_drift(in, o, out, &chroma);
        // Near SDR white a colour has (almost) no chroma left and no meaningful hue.
        if (chroma > 0.01f) {
          worst = std::max(worst, d);
          ++compared;
        }
        if (std::fabs(o[0] - prev[0]) + std::fabs(o[1] - prev[1]) + std::fabs(o[2] - prev[2]) > 1e-4f) ++moving;
        prev = o;
      }
      EXPECT_LT(worst, 3.f) << names[k] << " into " << primaries_name(out);
      EXPECT_GT(compared, steps * 9 / 10) << names[k];
      // Per-channel clipping would park the ramp on the same primary for most of its range.
      EXPECT_GT(moving, steps * 9 / 10) << names[k] << " into " << primaries_name(out);
    }
  }
}

TEST(ToneMap, GamutCompressionLeavesModestColoursAloneAndKeepsOrder) {
  GamutCompressor gc(Primaries::BT709);
  Vec3 modest{0.4f, 0.3f, 0.25f};
  Vec3 o = gc(modest);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(o[k], modest[k]);
  // A line of ever more saturated (eventually far out-of-gamut) reds at constant luminance
  // stays inside the cube, keeps its ICtCp hue, and stays ordered by saturation: no two
  // inputs collapse onto the boundary.
  Vec3 w = luminance_weights(Primaries::BT709);
  auto saturation = [&](Vec3 c) {
    float y = w[0] * c[0] + w[1] * c[1] + w[2] * c[2], u = 0.f;
    for (float v : c) u = std::max(u, v < y ? (y - v) / y : (v - y) / (1.f - y));
    return u;
  };
  Mat3 to2020 = gamut_matrix(Primaries::BT709, Primaries::BT2020);
  float y = 0.2f, prev_u = 0.f;
  int checked = 0;
  for (int i = 1; i <= 100; ++i) {
    float t = i / 25.f;  // up to ~4x the distance to the gamut surface
    Vec3 c{y + t * 0.6f, y - t * 0.6f * w[0] / (w[1] + w[2]), y - t * 0.6f * w[0] / (w[1] + w[2])};
    Vec3 r = gc(c);
    for (float v : r) {
      ASSERT_GE(v, 0.f);
      ASSERT_LE(v, 1.f);
    }
    float u = saturation(r);
    ASSERT_GT(u, prev_u) << i;
    ASSERT_LT(u, 1.f) << i;
    prev_u = u;
    // Same ICtCp hue as the input, at the SDR display's absolute level (100 cd/m2 peak),
    // where the compressor works.
    bool physical = true;
    Vec3 c2020 = mul(to2020, c), r2020 = mul(to2020, r);
    for (float& v : c2020) v *= 100.f;
    for (float& v : r2020) v *= 100.f;
    Vec3 a = ictcp(c2020, &physical), b = ictcp(r2020);
    float d = std::fabs(std::remainder(std::atan2(b[2], b[1]) - std::atan2(a[2], a[1]), 2 * float(M_PI)));
    if (physical) {
      EXPECT_LT(d * 180.f / float(M_PI), 1.5f) << i;
      ++checked;
    }
  }
  EXPECT_GT(checked, 25);  // well past the gamut surface (t = 1 at i = 25)
  EXPECT_EQ(gc({2.f, 2.f, 2.f})[0], 1.f);  // brighter than SDR white: white
  EXPECT_EQ(gc({-1.f, 0.f, 0.f})[0], 0.f);
}

TEST(ToneMap, ImageApiMatchesPixelApiAndCopiesAlpha) {
  ImageF img(37, 11, 4);
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(0.f, 6.f);
  for (float& v : img.span()) v = u(rng);
  ImageF out = tone_map(img, Primaries::DisplayP3, Primaries::BT709, {}, 2);
  ASSERT_EQ(out.width(), 37);
  ASSERT_EQ(out.channels(), 4);
  ToneMapper tm(Primaries::DisplayP3, Primaries::BT709);
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      Vec3 o = tm.map({img.at(x, y, 0), img.at(x, y, 1), img.at(x, y, 2)});
      for (int c = 0; c < 3; ++c) ASSERT_EQ(out.at(x, y, c), o[c]);
      ASSERT_EQ(out.at(x, y, 3), img.at(x, y, 3));
    }
  EXPECT_TRUE(tone_map(ImageF(4, 4, 1), Primaries::BT2020, Primaries::BT709).empty());
}

// Timing, run by hand: --gtest_also_run_disabled_tests --gtest_filter='*ToneMapSpeed*'
TEST(DISABLED_ToneMapSpeed, TwelveMegapixels) {
  ImageF img(4032, 3024, 3);
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int pass = 0; pass < 2; ++pass) {
    // pass 0: photo-like (mostly low saturation); pass 1: every pixel random, many saturated.
    for (int y = 0; y < img.height(); ++y)
      for (int x = 0; x < img.width(); ++x) {
        float lum = 0.01f * std::pow(500.f, u(rng));  // 2 .. 1000 cd/m2 in extended SDR
        float sat = pass == 0 ? 0.3f * u(rng) : u(rng);
        for (int c = 0; c < 3; ++c) img.at(x, y, c) = lum * (1.f - sat + sat * u(rng));
      }
    for (int run = 0; run < 2; ++run) {
      auto t0 = std::chrono::steady_clock::now();
      ImageF out = tone_map(img, Primaries::BT2020, Primaries::BT709);
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      std::printf("tone map 4032x3024 (%s): %.0f ms\n", pass == 0 ? "photo-like" : "random saturated", ms);
    }
  }
}
