// Every JPEG in ../shared/corpus read with the values of its README table, and decoded to HDR.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "regain/jpegr.h"
#include "regain/pipeline.h"
#include "regain/report.h"
#include "util/json_text.h"
#include "test_support.h"

using namespace regain;
using regain::test::corpus_bytes;

namespace {

struct Expect {
  const char* file;
  int width, height;          // stored primary size
  int map_w, map_h, map_ch;   // 0 = no gain map
  MetadataSource source;
  double cap_max;             // alternate headroom (log2)
  std::array<double, 3> max;  // gain_map_max per channel
};

const Expect kFiles[] = {
    {"jpeg/seine_sdr_gainmap_srgb.jpg", 400, 300, 400, 300, 3, MetadataSource::Xmp, 1.3, {1.277177, 1.277203, 1.277969}},
    {"jpeg/paris_exif_xmp_gainmap_littleendian.jpg", 403, 302, 512, 384, 1, MetadataSource::Xmp, 3.5, {3.5, 3.6, 3.7}},
    {"jpeg/paris_exif_xmp_gainmap_bigendian.jpg", 403, 302, 512, 384, 1, MetadataSource::Xmp, 3.5, {3.5, 3.6, 3.7}},
    {"jpeg/paris_exif_xmp_icc.jpg", 403, 302, 0, 0, 0, MetadataSource::None, 0, {}},
    {"jpeg/apple_gainmap_old.jpg", 384, 512, 192, 256, 1, MetadataSource::Apple, 3.0, {3.0, 3.0, 3.0}},
    {"jpeg/pixel6pro_ultrahdr_01.jpg", 4080, 3072, 1020, 768, 1, MetadataSource::Xmp, 2.656715, {2.656715, 2.656715, 2.656715}},
    {"jpeg/acr17_iso_xmp_3ch_small.jpg", 600, 400, 600, 400, 3, MetadataSource::Iso, 3.947876, {3.8396, 3.822845, 3.947876}},
    {"jpeg/acr16_xmp_only_3ch.jpg", 4534, 3023, 4534, 3023, 3, MetadataSource::Xmp, 4.4, {4.43563, 4.210847, 4.305444}},
    {"edited-pair/original_iphone15promax.jpg", 768, 1024, 384, 512, 1, MetadataSource::Iso, 2.681641, {2.681641, 2.681641, 2.681641}},
    {"edited-pair/edited_by_ai_editor.jpg", 864, 1184, 0, 0, 0, MetadataSource::None, 0, {}},
    {"edited-pair/peer_pipeline_output.jpg", 864, 1184, 216, 296, 1, MetadataSource::Iso, -1, {-1, -1, -1}},
};

}  // namespace

class CorpusJpeg : public ::testing::TestWithParam<Expect> {};

TEST_P(CorpusJpeg, ReadsExpectedValues) {
  const Expect& e = GetParam();
  auto bytes = corpus_bytes(e.file);
  ASSERT_FALSE(bytes.empty()) << e.file;
  auto jr = read_jpegr(bytes);
  ASSERT_TRUE(jr) << jr.error().message;
  EXPECT_EQ(jr->primary.width, e.width);
  EXPECT_EQ(jr->primary.height, e.height);
  if (!e.map_w) {
    EXPECT_FALSE(jr->gain_map.has_value());
    EXPECT_FALSE(jr->metadata.has_value());
    auto hdr = decode_jpegr_hdr(bytes);
    ASSERT_FALSE(hdr);
    EXPECT_EQ(hdr.error().code, ErrorCode::NotFound);
    return;
  }
  ASSERT_TRUE(jr->gain_map.has_value());
  EXPECT_EQ(jr->gain_map->width, e.map_w);
  EXPECT_EQ(jr->gain_map->height, e.map_h);
  EXPECT_EQ(jr->gain_map->components, e.map_ch);
  ASSERT_TRUE(jr->metadata.has_value()) << e.file;
  EXPECT_EQ(jr->source, e.source);
  if (e.cap_max >= 0) {
    EXPECT_NEAR(jr->metadata->alternate_headroom, e.cap_max, 1e-5);
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(jr->metadata->channel[c].max, e.max[c], 1e-5) << c;
  }
  // Decoding to HDR works, is finite, and brightens where the map says so.
  auto hdr = decode_jpegr_hdr(bytes);
  ASSERT_TRUE(hdr) << hdr.error().message;
  float peak = 0;
  for (float v : hdr->rgb.span()) {
    ASSERT_TRUE(std::isfinite(v));
    peak = std::max(peak, v);
  }
  EXPECT_GT(peak, 1.05f) << e.file;
}

INSTANTIATE_TEST_SUITE_P(All, CorpusJpeg, ::testing::ValuesIn(kFiles), [](const auto& info) {
  std::string n = info.param.file;
  for (auto& c : n) if (!std::isalnum(uint8_t(c))) c = '_';
  return n;
});

TEST(CorpusJpegDetails, SeinePerChannelXmpValues) {
  auto jr = read_jpegr(corpus_bytes("jpeg/seine_sdr_gainmap_srgb.jpg"));
  ASSERT_TRUE(jr && jr->metadata);
  const auto& m = *jr->metadata;
  EXPECT_TRUE(m.multichannel);
  EXPECT_NEAR(m.channel[0].min, -0.256907, 1e-6);
  EXPECT_NEAR(m.channel[1].min, -0.261365, 1e-6);
  EXPECT_NEAR(m.channel[2].min, -0.280284, 1e-6);
  EXPECT_NEAR(m.channel[0].gamma, 0.953784, 1e-6);
  EXPECT_NEAR(m.channel[2].gamma, 0.919422, 1e-6);
  EXPECT_NEAR(m.channel[1].base_offset, 1.0 / 64, 1e-9);
  EXPECT_NEAR(m.base_headroom, 0.0, 1e-9);
}

TEST(CorpusJpegDetails, Acr17XmpFlavourAlsoRead) {
  auto jr = read_jpegr(corpus_bytes("jpeg/acr17_iso_xmp_3ch_small.jpg"));
  ASSERT_TRUE(jr && jr->xmp_metadata && jr->iso_metadata);
  const auto& x = *jr->xmp_metadata;
  EXPECT_NEAR(x.channel[0].min, -3.835419, 1e-6);
  EXPECT_NEAR(x.channel[1].min, -1.485931, 1e-6);
  EXPECT_NEAR(x.channel[2].gamma, 0.610173, 1e-6);
  EXPECT_TRUE(jr->primary.iso_version);
  EXPECT_TRUE(jr->gain_map->iso_full);
}

TEST(CorpusJpegDetails, Acr16AdobeLayoutWithoutContainer) {
  auto jr = read_jpegr(corpus_bytes("jpeg/acr16_xmp_only_3ch.jpg"));
  ASSERT_TRUE(jr && jr->metadata);
  EXPECT_FALSE(jr->primary.xmp_container);
  EXPECT_NEAR(jr->metadata->channel[0].min, -0.658889, 1e-6);
  EXPECT_NEAR(jr->metadata->channel[2].gamma, 0.357703, 1e-6);
}

TEST(CorpusJpegDetails, IphoneAllFlavours) {
  auto jr = read_jpegr(corpus_bytes("edited-pair/original_iphone15promax.jpg"));
  ASSERT_TRUE(jr && jr->metadata);
  const auto& m = *jr->metadata;
  EXPECT_TRUE(m.use_base_colour_space);
  EXPECT_NEAR(m.channel[0].min, -0.007401, 1e-9);
  EXPECT_NEAR(m.channel[0].gamma, 0.874512, 1e-9);
  EXPECT_NEAR(m.channel[0].base_offset, 1e-5, 1e-12);
  ASSERT_TRUE(jr->apple_headroom);
  EXPECT_NEAR(*jr->apple_headroom, 6.415851, 1e-5);
  EXPECT_EQ(jr->apple_version, 131072);
  ASSERT_TRUE(jr->apple_maker33 && jr->apple_maker48);
  EXPECT_NEAR(*jr->apple_maker33, 1.00999999, 1e-6);
  EXPECT_NEAR(*jr->apple_maker48, 0.004547884226, 1e-9);
  // Apple's headroom and the ISO headroom describe the same photo.
  EXPECT_NEAR(std::log2(*jr->apple_headroom), m.alternate_headroom, 1e-3);
  EXPECT_EQ(jpeg_primaries(jr->icc), Primaries::DisplayP3);
}

TEST(CorpusJpegDetails, AppleOldHeadroomFromMakerNote) {
  auto jr = read_jpegr(corpus_bytes("jpeg/apple_gainmap_old.jpg"));
  ASSERT_TRUE(jr && jr->metadata);
  EXPECT_EQ(jr->apple_version, 65536);
  ASSERT_TRUE(jr->apple_headroom);
  EXPECT_NEAR(*jr->apple_headroom, 8.0, 1e-6);  // maker33 1.5189 >= 1, maker48 0 -> 3 stops
  EXPECT_EQ(jr->metadata->curve, GainCurve::AppleLinear);
}

TEST(CorpusJpegDetails, SeineThumbnailsAreNotTheGainMap) {
  auto bytes = corpus_bytes("jpeg/seine_sdr_gainmap_srgb.jpg");
  auto jr = read_jpegr(bytes);
  ASSERT_TRUE(jr && jr->gain_map);
  // The gain map is where MPF says, past the primary, not inside its EXIF.
  EXPECT_GE(jr->gain_map->offset, jr->primary.offset + jr->primary.size);
}

TEST(CorpusJpegDetails, PeerPipelineOffsetFromFileStartIsFlagged) {
  auto jr = read_jpegr(corpus_bytes("edited-pair/peer_pipeline_output.jpg"));
  ASSERT_TRUE(jr && jr->gain_map);
  bool flagged = false;
  for (const auto& w : jr->warnings) flagged = flagged || w.find("file start") != std::string::npos;
  EXPECT_TRUE(flagged);
  EXPECT_TRUE(jr->repair_would_help);
}

TEST(CorpusJpegDetails, TruncatedFileGivesCleanResult) {
  auto bytes = corpus_bytes("malformed/pixel6_truncated.jpg");
  auto jr = read_jpegr(bytes);
  if (jr) {
    EXPECT_FALSE(jr->gain_map.has_value());
    EXPECT_FALSE(jr->warnings.empty());
  }
  auto hdr = decode_jpegr_hdr(bytes);
  EXPECT_FALSE(hdr);
  auto rep = repair_jpegr(bytes);
  EXPECT_FALSE(rep);
}

TEST(CorpusJpegDetails, DamageIsAFieldNotAMessage) {
  auto jr = read_jpegr(corpus_bytes("malformed/pixel6_truncated.jpg"));
  ASSERT_TRUE(jr);
  EXPECT_TRUE(jr->damaged);
  EXPECT_FALSE(jr->damage.empty());
  auto plain = read_jpegr(corpus_bytes("jpeg/paris_exif_xmp_icc.jpg"));
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->damaged);
}

// Found by fuzz_jpegr/fuzz_heif_structure: text from a file (here an hdrgm value quoted in a
// warning) that is not UTF-8 made `inspect --json` throw while writing JSON. Documents built
// from files now hold valid UTF-8 (bad bytes become U+FFFD).
TEST(CorpusJpegDetails, InspectJsonOfNonUtf8XmpText) {
  auto bytes = corpus_bytes("jpeg/pixel6pro_ultrahdr_01.jpg");
  const std::string key = "hdrgm:GainMapMax=\"";
  auto it = std::search(bytes.begin(), bytes.end(), key.begin(), key.end());
  ASSERT_NE(it, bytes.end());
  it[key.size()] = 0xB5;  // same length: no segment length changes
  auto j = inspect_json(bytes);
  ASSERT_TRUE(j) << j.error().message;
  std::string text;
  ASSERT_NO_THROW(text = j->dump());  // strict: every string is valid UTF-8
  EXPECT_NE(text.find("\xEF\xBF\xBD"), std::string::npos);
  // Lone bytes, a good 3-byte sequence (the euro sign), an encoded surrogate (invalid).
  EXPECT_EQ(valid_utf8("a" "\xB5" "b" "\xE2\x82\xAC" "c" "\xED\xA0\x80"),
            "a" "\xEF\xBF\xBD" "b" "\xE2\x82\xAC" "c" "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}
