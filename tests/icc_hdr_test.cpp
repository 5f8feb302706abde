// HDR (PQ) ICC profiles: they parse back with lcms, carry the documented descriptions,
// versions and cicp code points, and their TRC follows the 203 cd/m2 convention.
#include <gtest/gtest.h>
#include <lcms2.h>

#include "regain/icc.h"

using namespace regain;

namespace {

struct Closer {
  void operator()(void* p) const { if (p) cmsCloseProfile(p); }
};
using Profile = std::unique_ptr<void, Closer>;

Profile open(const std::vector<uint8_t>& icc) {
  return Profile(cmsOpenProfileFromMem(icc.data(), cmsUInt32Number(icc.size())));
}

const HdrIccProfile kBoth[] = {HdrIccProfile::HdrP3D65St2084, HdrIccProfile::P3Pq};

}  // namespace

TEST(IccHdr, ProfilesParseBackWithDescriptionsAndVersions) {
  auto a = read_icc_tags(make_hdr_icc(HdrIccProfile::HdrP3D65St2084));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->description, "HDR_P3_D65_ST2084");
  EXPECT_NEAR(a->version, 4.3, 1e-9);
  auto b = read_icc_tags(make_hdr_icc(HdrIccProfile::P3Pq));
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->description, "P3_PQ");
  EXPECT_NEAR(b->version, 2.4, 1e-9);
  for (auto which : kBoth) {
    auto icc = make_hdr_icc(which);
    auto h = open(icc);
    ASSERT_TRUE(h);
    EXPECT_EQ(cmsGetDeviceClass(h.get()), cmsSigDisplayClass);
    EXPECT_EQ(cmsGetColorSpace(h.get()), cmsSigRgbData);
    EXPECT_EQ(cmsGetPCS(h.get()), cmsSigXYZData);
    // The existing identification sees Display P3 colorants in both.
    auto info = inspect_icc(icc);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->primaries, Primaries::DisplayP3);
    EXPECT_TRUE(info->matrix_shaper);
  }
}

TEST(IccHdr, DescriptionTagTypesFollowTheVersion) {
  // v4: multiLocalizedUnicode; v2: textDescriptionType ('mluc' vs 'desc' tag data).
  auto tag_type = [](const std::vector<uint8_t>& icc, uint32_t sig) -> uint32_t {
    uint32_t count = uint32_t(icc[128]) << 24 | icc[129] << 16 | icc[130] << 8 | icc[131];
    for (uint32_t i = 0; i < count; ++i) {
      const uint8_t* e = icc.data() + 132 + 12 * i;
      uint32_t s = uint32_t(e[0]) << 24 | e[1] << 16 | e[2] << 8 | e[3];
      uint32_t off = uint32_t(e[4]) << 24 | e[5] << 16 | e[6] << 8 | e[7];
      if (s == sig) return uint32_t(icc[off]) << 24 | icc[off + 1] << 16 | icc[off + 2] << 8 | icc[off + 3];
    }
    return 0;
  };
  EXPECT_EQ(tag_type(make_hdr_icc(HdrIccProfile::HdrP3D65St2084), cmsSigProfileDescriptionTag), 0x6D6C7563u);  // mluc
  EXPECT_EQ(tag_type(make_hdr_icc(HdrIccProfile::P3Pq), cmsSigProfileDescriptionTag), 0x64657363u);  // desc
  EXPECT_EQ(tag_type(make_hdr_icc(HdrIccProfile::HdrP3D65St2084), cmsSigcicpTag), 0x63696370u);  // cicp
  EXPECT_EQ(tag_type(make_hdr_icc(HdrIccProfile::P3Pq), cmsSigcicpTag), 0u);
}

TEST(IccHdr, CicpPresentOnlyInTheHdrProfile) {
  auto a = read_icc_tags(make_hdr_icc(HdrIccProfile::HdrP3D65St2084));
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->cicp.has_value());
  EXPECT_EQ(a->cicp->colour_primaries, 12);
  EXPECT_EQ(a->cicp->transfer_characteristics, 16);
  EXPECT_EQ(a->cicp->matrix_coefficients, 0);
  EXPECT_TRUE(a->cicp->full_range);
  auto b = read_icc_tags(make_hdr_icc(HdrIccProfile::P3Pq));
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->cicp.has_value());
  // An SDR profile has none either.
  auto sdr = read_icc_tags(make_display_icc(Primaries::DisplayP3));
  ASSERT_TRUE(sdr);
  EXPECT_FALSE(sdr->cicp.has_value());
}

TEST(IccHdr, TrcIsPqRelativeToReferenceWhite) {
  for (auto which : kBoth) {
    auto h = open(make_hdr_icc(which));
    ASSERT_TRUE(h);
    auto* r = static_cast<cmsToneCurve*>(cmsReadTag(h.get(), cmsSigRedTRCTag));
    auto* b = static_cast<cmsToneCurve*>(cmsReadTag(h.get(), cmsSigBlueTRCTag));
    ASSERT_TRUE(r && b);
    EXPECT_EQ(cmsGetToneCurveEstimatedTableEntries(r), 4096u);
    EXPECT_NEAR(cmsEvalToneCurveFloat(r, 0.f), 0.f, 1e-6);
    // PQ 0.5807 = 203 cd/m2 = diffuse white = 1.0; PQ 0.5 = 92.2 cd/m2 = 0.454.
    EXPECT_NEAR(cmsEvalToneCurveFloat(r, 0.5807f), 1.f, 2e-3);
    EXPECT_NEAR(cmsEvalToneCurveFloat(r, 0.5f), 92.25f / 203.f, 1e-3);
    EXPECT_NEAR(cmsEvalToneCurveFloat(r, 0.25f), pq_to_linear(0.25f) * 10000.f / 203.f, 1e-4);
    // Above diffuse white the ICC curve can only clip.
    EXPECT_EQ(cmsEvalToneCurveFloat(r, 0.75f), 1.f);
    EXPECT_EQ(cmsEvalToneCurveFloat(r, 1.f), 1.f);
    EXPECT_EQ(cmsEvalToneCurveFloat(b, 0.4f), cmsEvalToneCurveFloat(r, 0.4f));
  }
  EXPECT_NEAR(hdr_icc_trc(0.5807f), 1.f, 2e-3);
  EXPECT_EQ(hdr_icc_trc(2.f), 1.f);
}

TEST(IccHdr, LcmsConversionShowsDiffuseWhiteAsWhite) {
  // A colour manager that ignores cicp (lcms) renders PQ 148/255 (~203 cd/m2) as white
  // and PQ 128/255 (~92 cd/m2) at 0.45 linear: an SDR-exposed picture, not a 5-stop-dark one.
  for (auto which : kBoth) {
    std::vector<uint8_t> px = {148, 148, 148, 128, 128, 128, 255, 255, 255};
    auto lin = icc_to_linear(make_hdr_icc(which), px, Primaries::DisplayP3);
    ASSERT_TRUE(lin) << lin.error().message;
    EXPECT_NEAR((*lin)[0], pq_to_linear(148 / 255.f) * 10000.f / 203.f, 5e-3);
    EXPECT_NEAR((*lin)[3], pq_to_linear(128 / 255.f) * 10000.f / 203.f, 5e-3);
    EXPECT_NEAR((*lin)[6], 1.f, 5e-3);
  }
}

TEST(IccHdr, BytesAreDeterministic) {
  for (auto which : kBoth) {
    auto a = make_hdr_icc(which), b = make_hdr_icc(which);
    ASSERT_GT(a.size(), 8000u);  // the 4096-entry TRC stored once (linked), not three times
    EXPECT_LT(a.size(), 10000u);
    EXPECT_EQ(a, b);
    EXPECT_EQ(a[24], 0x07);
    EXPECT_EQ(a[25], 0xEA);  // 2026-01-01, as make_display_icc
  }
  EXPECT_NE(make_hdr_icc(HdrIccProfile::HdrP3D65St2084), make_hdr_icc(HdrIccProfile::P3Pq));
}

TEST(IccHdr, ReadingGarbageFails) {
  EXPECT_FALSE(read_icc_tags(std::vector<uint8_t>(10)));
  EXPECT_FALSE(read_icc_tags(std::vector<uint8_t>(300, 0x41)));
}
