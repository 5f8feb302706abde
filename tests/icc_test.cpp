// ICC profiles: the ones we embed are identified again, converted pixels match our maths,
// and the real iPhone profile is recognised as Display P3.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "container/jpeg_segments.h"
#include "regain/icc.h"
#include "test_support.h"

using namespace regain;

TEST(Icc, GeneratedProfilesIdentifyAsTheirGamut) {
  for (Primaries p : {Primaries::BT709, Primaries::DisplayP3, Primaries::BT2020}) {
    auto icc = make_display_icc(p);
    ASSERT_GT(icc.size(), 300u);
    auto info = inspect_icc(icc);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->primaries, p);
    EXPECT_TRUE(info->matrix_shaper);
    EXPECT_FALSE(info->description.empty());
  }
}

TEST(Icc, ConversionToLinearMatchesOurTransferAndGamut) {
  auto icc = make_display_icc(Primaries::DisplayP3);
  std::vector<uint8_t> px = {255, 0, 0, 128, 128, 128, 0, 0, 0};
  auto lin = icc_to_linear(icc, px, Primaries::BT709);
  ASSERT_TRUE(lin) << lin.error().message;
  // P3 red in BT.709 is out of gamut: R > 1, G and B negative (no clipping in float).
  Mat3 m = gamut_matrix(Primaries::DisplayP3, Primaries::BT709);
  EXPECT_NEAR((*lin)[0], m[0], 2e-3);
  EXPECT_NEAR((*lin)[1], m[3], 2e-3);
  EXPECT_NEAR((*lin)[4], srgb_to_linear(128 / 255.f), 2e-3);
  EXPECT_NEAR((*lin)[8], 0.f, 1e-4);
}

TEST(Icc, RealIphoneProfileIsDisplayP3) {
  auto bytes = test::corpus_bytes("edited-pair/original_iphone15promax.jpg");
  auto s = parse_jpeg_stream(bytes);
  ASSERT_TRUE(s);
  auto icc = collect_icc(bytes, *s);
  ASSERT_FALSE(icc.empty());
  auto info = inspect_icc(icc);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->primaries, Primaries::DisplayP3);
}

TEST(Icc, GarbageIsAnError) {
  std::vector<uint8_t> junk(200, 0x41);
  EXPECT_FALSE(inspect_icc(junk));
  EXPECT_FALSE(inspect_icc(std::vector<uint8_t>(10)));
}

TEST(Icc, GeneratedProfilesAreByteStable) {
  // lcms writes the creation time into the header; ours must not change between calls.
  auto a = make_display_icc(Primaries::DisplayP3);
  auto b = make_display_icc(Primaries::DisplayP3);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a[24], 0x07);
  EXPECT_EQ(a[25], 0xEA);  // year 2026
}

TEST(Icc, EightBitToSrgbMatchesTheFloatPath) {
  // The preview path (one 8-bit lcms2 transform, threaded) against our own maths on every
  // 6th code of the cube in Display P3, a real iPhone profile included: within 1 code,
  // out-of-gamut colours clipped, garbage refused.
  std::vector<uint8_t> px;
  for (int r = 0; r < 256; r += 6)
    for (int g = 0; g < 256; g += 6)
      for (int b = 0; b < 256; b += 6) px.insert(px.end(), {uint8_t(r), uint8_t(g), uint8_t(b)});
  auto bytes = test::corpus_bytes("edited-pair/original_iphone15promax.jpg");
  auto s = parse_jpeg_stream(bytes);
  ASSERT_TRUE(s);
  for (const auto& icc : {make_display_icc(Primaries::DisplayP3), collect_icc(bytes, *s)}) {
    auto out = icc_to_srgb8(icc, px, 2);
    ASSERT_TRUE(out) << out.error().message;
    const Mat3 m = gamut_matrix(Primaries::DisplayP3, Primaries::BT709);
    int worst = 0;
    for (size_t i = 0; i < px.size(); i += 3) {
      float lin[3], o[3];
      for (int c = 0; c < 3; ++c) lin[c] = srgb_to_linear(px[i + c] / 255.f);
      for (int c = 0; c < 3; ++c) {
        o[c] = m[3 * c] * lin[0] + m[3 * c + 1] * lin[1] + m[3 * c + 2] * lin[2];
        const int want = int(std::lround(linear_to_srgb(std::clamp(o[c], 0.f, 1.f)) * 255.f));
        worst = std::max(worst, std::abs(want - int((*out)[i + c])));
      }
    }
    EXPECT_LE(worst, 1);
  }
  EXPECT_FALSE(icc_to_srgb8(std::vector<uint8_t>(200, 0x41), px));
}
