// ICC profiles: the ones we embed are identified again, converted pixels match our maths,
// and the real iPhone profile is recognised as Display P3.
#include <gtest/gtest.h>

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
