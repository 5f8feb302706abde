// Writing JPEG_R: structure, determinism, round trips, repair, and hostile inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "container/jpeg_segments.h"
#include "container/mpf.h"
#include "regain/icc.h"
#include "regain/jpegr.h"
#include "regain/pipeline.h"
#include "regain/synthetic.h"
#include "test_support.h"

using namespace regain;
using regain::test::corpus_bytes;

namespace {

std::vector<uint8_t> make_file(int w = 320, int h = 240, EncodeOptions o = {}) {
  ImageF hdr = synthetic_hdr_scene(w, h, SceneKind::Sunset);
  Image8 sdr = tone_map_to_sdr(hdr);
  auto r = encode_jpegr(sdr, hdr, o);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : std::vector<uint8_t>{};
}

}  // namespace

TEST(JpegrWrite, StructureAndBothFlavours) {
  auto file = make_file();
  auto jr = read_jpegr(file);
  ASSERT_TRUE(jr) << jr.error().message;
  ASSERT_TRUE(jr->gain_map);
  EXPECT_TRUE(jr->warnings.empty()) << jr->warnings[0];
  EXPECT_FALSE(jr->repair_would_help);
  EXPECT_TRUE(jr->primary.mpf && jr->primary.xmp_hdrgm && jr->primary.xmp_container && jr->primary.iso_version);
  EXPECT_TRUE(jr->gain_map->xmp_hdrgm && jr->gain_map->iso_full);
  EXPECT_FALSE(jr->gain_map->exif);
  ASSERT_TRUE(jr->iso_metadata && jr->xmp_metadata);
  EXPECT_EQ(*jr->iso_metadata, *jr->xmp_metadata);
  EXPECT_EQ(jr->gain_map->width, 80);  // 1/4 scale
  // MPF: primary entry offset 0 and size = primary; gain map right after it.
  ASSERT_EQ(jr->mpf_entries.size(), 2u);
  EXPECT_EQ(jr->mpf_entries[0].size, jr->primary.size);
  EXPECT_EQ(jr->mpf_entries[1].file_offset, jr->primary.size);
  EXPECT_EQ(jr->mpf_entries[1].size, jr->gain_map->size);
  EXPECT_EQ(jr->primary.size + jr->gain_map->size, file.size());
  // JFIF stays first, ICC present.
  EXPECT_EQ(jr->primary.segments[1].kind, "JFIF");
  EXPECT_TRUE(jr->primary.icc);
}

TEST(JpegrWrite, Deterministic) {
  EXPECT_EQ(make_file(), make_file());
}

TEST(JpegrWrite, DecodeReproducesHdr) {
  const int w = 400, h = 300;
  ImageF hdr = synthetic_hdr_scene(w, h, SceneKind::Interior);
  Image8 sdr = tone_map_to_sdr(hdr);
  EncodeOptions o;
  o.gain.scale = 1;
  o.base_quality = 100;
  o.map_quality = 100;
  auto file = encode_jpegr(sdr, hdr, o);
  ASSERT_TRUE(file);
  auto d = decode_jpegr_hdr(*file);
  ASSERT_TRUE(d) << d.error().message;
  double err = 0;
  int n = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      auto Y = [](const float* p) { return 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]; };
      double a = Y(&hdr.at(x, y)), b = Y(&d->rgb.at(x, y));
      if (a < 0.02) continue;
      err += std::fabs(std::log2(b / a));
      ++n;
    }
  EXPECT_LT(err / n, 0.08);
  // At headroom 0 the HDR decode equals the SDR base.
  DecodeOptions sdr_only;
  sdr_only.headroom = 0;
  auto d0 = decode_jpegr_hdr(*file, sdr_only);
  ASSERT_TRUE(d0);
  EXPECT_LE(*std::max_element(d0->rgb.span().begin(), d0->rgb.span().end()), 1.0f + 1e-4f);
}

TEST(JpegrWrite, SingleFlavourAndRepairAddsTheOther) {
  for (bool iso_only : {true, false}) {
    EncodeOptions o;
    o.container.write_xmp = !iso_only;
    o.container.write_iso = iso_only;
    auto file = make_file(160, 120, o);
    auto jr = read_jpegr(file);
    ASSERT_TRUE(jr && jr->metadata);
    EXPECT_EQ(jr->source, iso_only ? MetadataSource::Iso : MetadataSource::Xmp);
    EXPECT_TRUE(jr->repair_would_help);
    auto fixed = repair_jpegr(file);
    ASSERT_TRUE(fixed) << fixed.error().message;
    auto jr2 = read_jpegr(fixed->bytes);
    ASSERT_TRUE(jr2 && jr2->iso_metadata && jr2->xmp_metadata);
    EXPECT_FALSE(jr2->repair_would_help);
    EXPECT_TRUE(jr2->warnings.empty());
  }
}

TEST(JpegrWrite, RepairPeerPipelineKeepsPixels) {
  auto bytes = corpus_bytes("edited-pair/peer_pipeline_output.jpg");
  auto fixed = repair_jpegr(bytes);
  ASSERT_TRUE(fixed) << fixed.error().message;
  auto before = read_jpegr(bytes);
  auto after = read_jpegr(fixed->bytes);
  ASSERT_TRUE(after && after->gain_map);
  EXPECT_TRUE(after->warnings.empty());
  EXPECT_EQ(after->mpf_entries[1].file_offset, after->gain_map->offset);
  // Pixels untouched: scan data of both images is byte-identical.
  auto scan = [](std::span<const uint8_t> jpeg) {
    auto s = parse_jpeg_stream(jpeg);
    return std::vector<uint8_t>(jpeg.begin() + s->first_sos, jpeg.begin() + s->end);
  };
  EXPECT_EQ(scan(before->primary_bytes), scan(after->primary_bytes));
  EXPECT_EQ(scan(before->gain_map_bytes), scan(after->gain_map_bytes));
  EXPECT_EQ(*before->metadata, *after->metadata);
}

TEST(JpegrWrite, RepairAppleOnlyConvertsToIso) {
  auto bytes = corpus_bytes("jpeg/apple_gainmap_old.jpg");
  auto fixed = repair_jpegr(bytes);
  ASSERT_TRUE(fixed) << fixed.error().message;
  auto a = decode_jpegr_hdr(bytes);
  auto b = decode_jpegr_hdr(fixed->bytes);
  ASSERT_TRUE(a && b);
  // Same rendering within re-quantisation error.
  double err = 0;
  for (size_t i = 0; i < a->rgb.size(); ++i) err += std::fabs(std::log2((a->rgb.data()[i] + 1e-3) / (b->rgb.data()[i] + 1e-3)));
  EXPECT_LT(err / a->rgb.size(), 0.03);
}

TEST(JpegrWrite, PackageExistingMapRoundTrip) {
  auto src = corpus_bytes("jpeg/pixel6pro_ultrahdr_01.jpg");
  auto jr = read_jpegr(src);
  ASSERT_TRUE(jr && jr->metadata);
  auto map = decode_jpeg(jr->gain_map_bytes);
  ASSERT_TRUE(map);
  auto out = package_jpegr(jr->primary_bytes, *map, *jr->metadata);
  ASSERT_TRUE(out) << out.error().message;
  auto back = read_jpegr(*out);
  ASSERT_TRUE(back && back->metadata);
  EXPECT_EQ(*back->metadata, *jr->metadata);
  EXPECT_TRUE(back->warnings.empty());
}

TEST(JpegrHostile, TruncationsAndBitFlipsNeverCrash) {
  auto file = make_file(96, 64);
  const size_t n = file.size();
  for (size_t len = 0; len < n; len += std::max<size_t>(1, n / 300)) {
    std::span<const uint8_t> part(file.data(), len);
    auto jr = read_jpegr(part);
    auto d = decode_jpegr_hdr(part);
    (void)jr;
    (void)d;
  }
  std::mt19937 rng(1);
  for (int i = 0; i < 400; ++i) {
    auto copy = file;
    for (int k = 0; k < 3; ++k) copy[rng() % n] ^= uint8_t(1u << (rng() % 8));
    auto jr = read_jpegr(copy);
    auto d = decode_jpegr_hdr(copy);
    auto r = repair_jpegr(copy);
    (void)jr; (void)d; (void)r;
  }
}

TEST(JpegrHostile, BadMpfOffsetsAndAbsurdMetadata) {
  auto file = make_file(96, 64);
  auto jr = read_jpegr(file);
  ASSERT_TRUE(jr);
  // Point the gain-map entry far past the end of the file.
  auto stream = parse_jpeg_stream(file);
  ASSERT_TRUE(stream);
  const auto* mpf_seg = stream->find_app(0xE2, kMpfSig);
  ASSERT_TRUE(mpf_seg);
  auto copy = file;
  size_t entry1 = mpf_seg->offset + 8 + 50 + 16 + 8;  // offset field of entry 1
  copy[entry1] = 0x7F;
  auto bad = read_jpegr(copy);
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->warnings.empty());
  // Corrupt every hdrgm/ISO number: metadata is rejected, never applied with garbage.
  GainMapMetadata m = *jr->metadata;
  m.channel[0].max = 1e30;
  EXPECT_FALSE(package_jpegr(jr->primary_bytes, *decode_jpeg(jr->gain_map_bytes), m));
}

TEST(JpegrHostile, HugeDimensionsAreRefusedBeforeAllocating) {
  // A tiny JPEG whose SOF claims 65000 x 65000.
  auto file = make_file(16, 16);
  auto s = parse_jpeg_stream(file);
  ASSERT_TRUE(s);
  for (const auto& seg : s->segments)
    if (seg.marker == 0xC0) {
      size_t p = seg.offset + 5;
      file[p] = 0xFD; file[p + 1] = 0xE8; file[p + 2] = 0xFD; file[p + 3] = 0xE8;
      break;
    }
  auto d = decode_jpeg(std::span(file).subspan(0, s->end));
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::TooLarge);
}

TEST(JpegrRead, PlainJpegIsNotAnError) {
  auto jr = read_jpegr(corpus_bytes("jpeg/paris_exif_xmp_icc.jpg"));
  ASSERT_TRUE(jr);
  EXPECT_FALSE(jr->gain_map);
  EXPECT_FALSE(read_jpegr(std::vector<uint8_t>{1, 2, 3}));
  EXPECT_FALSE(read_jpegr(std::vector<uint8_t>{}));
}

TEST(JpegrWrite, RewriteKeepsForeignXmpAndAppleProperties) {
  auto bytes = corpus_bytes("edited-pair/original_iphone15promax.jpg");
  auto fixed = repair_jpegr(bytes);
  ASSERT_TRUE(fixed) << fixed.error().message;
  auto jr = read_jpegr(fixed->bytes);
  ASSERT_TRUE(jr && jr->gain_map);
  EXPECT_TRUE(jr->gain_map->apple_xmp);         // Apple HDRGainMap kept beside hdrgm
  EXPECT_TRUE(jr->gain_map->xmp_hdrgm);
  EXPECT_EQ(jr->apple_version, 131072);
  EXPECT_TRUE(jr->primary.xmp_container);
  // The user's own XMP text (the iPhone writes photoshop:DateCreated) is still there.
  std::string all(fixed->bytes.begin(), fixed->bytes.begin() + jr->primary.size);
  EXPECT_NE(all.find("DateCreated"), std::string::npos);
}

TEST(JpegrWrite, AlternateColourSpaceMathIsHonoured) {
  // use_base_colour_space = 0 with a Display P3 gain-map ICC on an sRGB base: the map must
  // be applied in P3 and the result reported in P3.
  ImageF hdr = synthetic_hdr_scene(64, 48, SceneKind::Interior);
  Image8 sdr = tone_map_to_sdr(hdr);
  auto base = encode_jpeg(sdr, {95, true});
  ASSERT_TRUE(base);
  Image8 map(16, 12, 1);
  map.fill(200);
  GainMapMetadata m;
  m.use_base_colour_space = false;
  m.alternate_headroom = 2;
  for (auto& c : m.channel) c = {0, 2, 1, 0, 0};
  EncodeOptions eo;
  eo.container.gain_map_icc = make_display_icc(Primaries::DisplayP3);
  auto file = package_jpegr(*base, map, m, eo);
  ASSERT_TRUE(file) << file.error().message;
  auto jr = read_jpegr(*file);
  ASSERT_TRUE(jr && jr->metadata);
  EXPECT_FALSE(jr->metadata->use_base_colour_space);
  EXPECT_FALSE(jr->gain_map_icc.empty());
  EXPECT_FALSE(jr->xmp_metadata);  // XMP cannot say this: ISO only
  auto d = decode_jpegr_hdr(*file);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->primaries, Primaries::DisplayP3);
  // Repair keeps the gain-map ICC and says honestly that no XMP was written.
  auto fixed = repair_jpegr(*file);
  ASSERT_TRUE(fixed);
  auto jr2 = read_jpegr(fixed->bytes);
  EXPECT_FALSE(jr2->gain_map_icc.empty());
  EXPECT_NE(fixed->fixes.back().find("no hdrgm XMP"), std::string::npos);
}

// Photoshop writes OffsetSDR = OffsetHDR = 10.308957 (gainmap-js test files 03.jpg, 05.jpg,
// which Chromium renders as HDR): such metadata is valid, survives both flavours, and the
// decoded HDR follows (sdr + o) * 2^g - o in double precision within float rounding.
TEST(JpegrWrite, LargeOffsetsArePhotoshopsAndExact) {
  const int w = 64, h = 48;
  Image8 sdr(w, h, 3), map(w, h, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) sdr.at(x, y, c) = uint8_t((x * 4 + y * 2 + c * 40) % 256);
      map.at(x, y) = uint8_t((x * 5 + y * 3) % 256);
    }
  GainMapMetadata m;
  m.base_headroom = 0;
  m.alternate_headroom = 2.3;
  for (auto& ch : m.channel) ch = {0.0, 2.3, 1.0, 10.308957, 10.308957};
  ASSERT_TRUE(validate(m));
  auto base = encode_jpeg(sdr, {95, false});
  ASSERT_TRUE(base);
  auto file = package_jpegr(*base, map, m);
  ASSERT_TRUE(file) << file.error().message;
  auto jr = read_jpegr(*file);
  ASSERT_TRUE(jr && jr->metadata && jr->iso_metadata && jr->xmp_metadata);
  EXPECT_NEAR(jr->iso_metadata->channel[0].base_offset, 10.308957, 1e-6);
  EXPECT_NEAR(jr->xmp_metadata->channel[0].alternate_offset, 10.308957, 1e-6);
  auto hdr = decode_jpegr_hdr(*file);
  ASSERT_TRUE(hdr) << hdr.error().message;
  // Expected from the decoded base and map codes, in double.
  auto b = decode_jpeg(jr->primary_bytes, {}, 3);
  auto g = decode_jpeg(jr->gain_map_bytes, {}, 1);
  ASSERT_TRUE(b && g);
  const GainMapChannel& ch = jr->metadata->channel[0];
  double worst = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double l2 = ch.min + (ch.max - ch.min) * std::pow(g->at(x, y) / 255.0, 1.0 / ch.gamma);
      for (int c = 0; c < 3; ++c) {
        const double s = srgb_to_linear(b->at(x, y, c) / 255.f);
        const double want = std::max(0.0, (s + ch.base_offset) * std::exp2(l2) - ch.alternate_offset);
        worst = std::max(worst, std::fabs(hdr->rgb.at(x, y, c) - want) / std::max(want, 0.01));
      }
    }
  EXPECT_LT(worst, 2e-3) << "relative error of the decoded HDR";
  // Offsets beyond what a fraction can carry, or not finite, stay invalid.
  for (double bad : {3e9, -3e9, std::nan("")}) {
    GainMapMetadata b2 = m;
    b2.channel[0].base_offset = bad;
    EXPECT_FALSE(validate(b2));
  }
}
