// HEIF / AVIF pixels: every corpus file decodes at its displayed size; the primary matches an
// independent decoder (Debian's heif-convert, libheif 1.15) where that decoder can read the
// file; our HEIC and AVIF gain-map files read back with the same metadata and pixels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>

#include "container/heif_decode.h"
#include "container/heif_gainmap.h"
#include "container/heif_structure.h"
#include "regain/heif.h"
#include "regain/pipeline.h"
#include "regain/synthetic.h"
#include "test_support.h"

using namespace regain;
using regain::test::corpus_bytes;

namespace {

double psnr8(const Image8& a, const Image8& b) {
  double se = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = double(a.data()[i]) - b.data()[i];
    se += d * d;
  }
  const double mse = se / double(a.size());
  return mse == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 / mse);
}

Image8 decode_primary8(const std::vector<uint8_t>& bytes) {
  auto hf = read_heif(bytes);
  EXPECT_TRUE(hf) << (hf ? "" : hf.error().message);
  if (!hf) return {};
  auto pic = decode_heif_item(*hf, bytes, hf->primary);
  EXPECT_TRUE(pic) << (pic ? "" : pic.error().message);
  if (!pic) return {};
  return heif_to_8bit(*pic);
}

struct Expect {
  const char* file;
  int width, height;  // displayed
  bool gain_map;
};

}  // namespace

TEST(HeifPixels, CorpusDecodesAtDisplayedSize) {
  const Expect files[] = {
      {"heif/iphone13pro_ios16_apple_v1.heic", 4032, 3024, true},
      {"heif/iphone15pro_ios18_tmap_rotated.heic", 3024, 4032, true},
      {"heif/iphone15promax_ios18_tmap.heic", 4284, 5712, true},
      {"heif/iphone8plus_no_gainmap.heic", 3024, 4032, false},
      {"heif/samsung_s25u_tmap_3ch.heic", 4000, 1848, true},
      {"heif/seine_sdr_gainmap_srgb.avif", 400, 300, true},
      {"heif/seine_hdr_gainmap_srgb.avif", 400, 300, true},
      {"heif/seine_hdr_rec2020.avif", 400, 300, false},
  };
  for (const auto& e : files) {
    SCOPED_TRACE(e.file);
    const auto bytes = corpus_bytes(e.file);
    auto hdr = decode_heif_hdr(bytes);
    if (e.gain_map) {
      ASSERT_TRUE(hdr) << hdr.error().message;
      EXPECT_EQ(hdr->rgb.width(), e.width);
      EXPECT_EQ(hdr->rgb.height(), e.height);
      // A gain map lifts something above SDR white somewhere (SDR-base files) or the HDR
      // base already is (HDR-base files).
      float peak = 0;
      for (float v : hdr->rgb.span()) peak = std::max(peak, v);
      EXPECT_GT(peak, 1.05f);  // the Samsung shot (a dim wall) peaks at 1.12
    } else {
      ASSERT_FALSE(hdr);
      EXPECT_EQ(hdr.error().code, ErrorCode::NotFound);
      auto hf = read_heif(bytes);
      ASSERT_TRUE(hf);
      auto pic = decode_heif_item(*hf, bytes, hf->primary);
      ASSERT_TRUE(pic) << pic.error().message;
      EXPECT_EQ(pic->pixels.width(), e.width);
      EXPECT_EQ(pic->pixels.height(), e.height);
    }
  }
}

// heif-convert (libheif 1.15 + libde265) is an independent reader for the files it accepts.
TEST(HeifPixels, PrimaryMatchesHeifConvert) {
  const char* files[] = {"heif/iphone13pro_ios16_apple_v1.heic", "heif/iphone8plus_no_gainmap.heic",
                         "heif/samsung_s25u_tmap_3ch.heic"};
  const auto dir = regain::test::scratch_dir("heif_convert");
  for (const char* f : files) {
    SCOPED_TRACE(f);
    const auto out = dir / "ref.png";
    const std::string cmd = "heif-convert '" + regain::test::corpus(f).string() + "' '" + out.string() + "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "heif-convert failed (is libheif-examples installed?)";
    std::ifstream in(out, std::ios::binary);
    std::vector<uint8_t> png((std::istreambuf_iterator<char>(in)), {});
    auto ref = decode_png(png);
    ASSERT_TRUE(ref) << ref.error().message;
    const Image8 theirs = png_to_8bit(*ref, 3);
    const Image8 ours = decode_primary8(corpus_bytes(f));
    ASSERT_EQ(ours.width(), theirs.width());
    ASSERT_EQ(ours.height(), theirs.height());
    // Both decode the same HEVC; the difference is YCbCr->RGB rounding and chroma upsampling.
    EXPECT_GT(psnr8(ours, theirs), 48.0);  // measured 52-64 dB
  }
}

namespace {

// A photo-like SDR + HDR pair from the project's synthetic scenes.
struct Pair {
  Image8 sdr;
  ComputedGainMap map;
};

Pair make_pair(int w, int h, bool multichannel) {
  const ImageF hdr = synthetic_hdr_scene(w, h, SceneKind::Sunset);
  Image8 sdr = tone_map_to_sdr(hdr);
  ComputeOptions co;
  co.scale = 2;
  co.multichannel = multichannel;
  auto cg = compute_gain_map(sdr, hdr, co);
  EXPECT_TRUE(cg) << (cg ? "" : cg.error().message);
  return {std::move(sdr), *cg};
}

void round_trip(bool avif, bool multichannel, int w, int h, uint32_t tile) {
  Pair p = make_pair(w, h, multichannel);
  HeifEncodeOptions opt;
  opt.avif = avif;
  opt.tile_size = tile;
  opt.exif = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0};
  auto bytes = encode_heif_gainmap(p.sdr, Primaries::DisplayP3, {}, p.map.map, p.map.meta, opt);
  ASSERT_TRUE(bytes) << bytes.error().message;
  auto hf = read_heif(*bytes);
  ASSERT_TRUE(hf) << hf.error().message;
  EXPECT_TRUE(hf->warnings.empty()) << hf->warnings.front();
  EXPECT_EQ(hf->kind, avif ? HeifKind::Avif : HeifKind::Heic);
  ASSERT_TRUE(hf->metadata);
  EXPECT_EQ(*hf->metadata, p.map.meta);  // bit-exact: fractions on a 1/65536 grid
  EXPECT_EQ(hf->source, MetadataSource::Iso);
  EXPECT_TRUE(hf->tmap_brand);
  EXPECT_TRUE(hf->altr_group);
  EXPECT_EQ(hf->primary.display_width, uint32_t(w));
  EXPECT_EQ(hf->primary.display_height, uint32_t(h));
  if (!avif) {
    EXPECT_TRUE(hf->apple_aux_item);
    ASSERT_TRUE(hf->apple_headroom);
    EXPECT_NEAR(*hf->apple_headroom, std::exp2(p.map.meta.alternate_headroom), 1e-6);
  }
  EXPECT_FALSE(hf->exif_tiff.empty());
  const Image8 back = decode_primary8(*bytes);
  ASSERT_EQ(back.width(), w);
  EXPECT_GT(psnr8(back, p.sdr), 36.0);
  auto gm = decode_heif_item(*hf, *bytes, *hf->gain_map);
  ASSERT_TRUE(gm) << gm.error().message;
  const Image8 map = heif_to_8bit(*gm);
  ASSERT_EQ(map.channels(), p.map.map.channels());
  EXPECT_GT(psnr8(map, p.map.map), 36.0);
  // And the whole HDR rendition through the pipeline.
  auto hdr = decode_heif_hdr(*bytes);
  ASSERT_TRUE(hdr) << hdr.error().message;
  EXPECT_EQ(hdr->primaries, Primaries::DisplayP3);
}

}  // namespace

TEST(HeifWrite, HeicGridGainMapRoundTrip) { round_trip(false, false, 1200, 900, 512); }
TEST(HeifWrite, HeicSingleItemOddSize) { round_trip(false, false, 333, 201, 0); }
TEST(HeifWrite, HeicThreeChannelMap) { round_trip(false, true, 640, 480, 256); }
TEST(HeifWrite, AvifGainMapRoundTrip) { round_trip(true, false, 640, 480, 0); }
TEST(HeifWrite, AvifThreeChannelGrid) { round_trip(true, true, 700, 500, 256); }

TEST(HeifWrite, Deterministic) {
  Pair p = make_pair(300, 200, false);
  auto a = encode_heif_gainmap(p.sdr, Primaries::BT709, {}, p.map.map, p.map.meta);
  auto b = encode_heif_gainmap(p.sdr, Primaries::BT709, {}, p.map.map, p.map.meta);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
}

TEST(HeifWrite, PlainTenBitPq) {
  Image16 img(320, 240, 3);
  for (int y = 0; y < 240; ++y)
    for (int x = 0; x < 320; ++x)
      for (int c = 0; c < 3; ++c) img.at(x, y, c) = uint16_t((x * 3 + y * (c + 1)) % 1024);
  Nclx pq{12, 16, 0, true};
  auto bytes = encode_heif_image(img, 10, pq, {});
  ASSERT_TRUE(bytes) << bytes.error().message;
  auto hf = read_heif(*bytes);
  ASSERT_TRUE(hf) << hf.error().message;
  EXPECT_FALSE(hf->gain_map);
  ASSERT_TRUE(hf->primary.nclx);
  EXPECT_EQ(hf->primary.nclx->transfer, 16);
  EXPECT_EQ(hf->primary.bit_depth, 10);
  auto pic = decode_heif_item(*hf, *bytes, hf->primary);
  ASSERT_TRUE(pic) << pic.error().message;
  EXPECT_EQ(pic->bit_depth, 10);
  double se = 0;
  for (size_t i = 0; i < img.size(); ++i) se += std::pow(double(pic->pixels.data()[i]) - img.data()[i], 2);
  EXPECT_LT(std::sqrt(se / img.size()), 40.0);  // 10-bit codes; the pattern is noise-like
}

// Damaged files through the whole pixel path (container, codecs, colour, transforms, gain-map
// math): truncated and bit-flipped copies must give a result or an error, never a crash
// (this suite also runs under ASan+UBSan). Small files keep it quick; the structure-only
// fuzzing of every corpus file lives in heif_reader_test.
TEST(HeifPixels, DamagedFilesNeverCrash) {
  std::vector<std::vector<uint8_t>> files = {corpus_bytes("heif/seine_sdr_gainmap_srgb.avif"),
                                             corpus_bytes("heif/seine_hdr_gainmap_srgb.avif")};
  for (bool three : {false, true}) {
    Pair p = make_pair(520, 300, three);
    HeifEncodeOptions opt;
    opt.tile_size = 256;
    auto b = encode_heif_gainmap(p.sdr, Primaries::BT709, {}, p.map.map, p.map.meta, opt);
    ASSERT_TRUE(b);
    files.push_back(*b);
  }
  std::mt19937 rng(1234);
  int results = 0, errors = 0;
  for (const auto& f : files) {
    for (int i = 0; i < 12; ++i) {
      std::vector<uint8_t> t(f.begin(), f.begin() + long(f.size() * i / 12));
      auto r = decode_heif_hdr(t);
      r ? ++results : ++errors;
    }
    for (int i = 0; i < 30; ++i) {
      std::vector<uint8_t> m = f;
      const int flips = 1 + int(rng() % 4);
      for (int k = 0; k < flips; ++k) m[rng() % m.size()] ^= uint8_t(1u << (rng() % 8));
      auto r = decode_heif_hdr(m);
      r ? ++results : ++errors;
      auto s = decode_heif_sdr(m);
      s ? ++results : ++errors;
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_GT(results, 0);
}

// Grids are assembled as displayed (irot/imir folded into where each tile lands) and, when
// asked, narrowed to 8 bits as the tiles land: the same pixels as the 16-bit picture turned
// afterwards, on every corpus HEIC (rotated ones included).
TEST(HeifPixels, EightBitAssemblyMatchesSixteenBit) {
  for (const char* name : {"heif/iphone15pro_ios18_tmap_rotated.heic", "heif/iphone15promax_ios18_tmap.heic",
                           "heif/iphone13pro_ios16_apple_v1.heic", "heif/samsung_s25u_tmap_3ch.heic"}) {
    const auto bytes = test::corpus_bytes(name);
    auto hf = read_heif(bytes);
    ASSERT_TRUE(hf) << name;
    auto p16 = decode_heif_item(*hf, bytes, hf->primary);
    auto p8 = decode_heif_item(*hf, bytes, hf->primary, {}, 0, true);
    ASSERT_TRUE(p16 && p8) << name;
    EXPECT_TRUE(p8->pixels.empty());
    const Image8 want = heif_to_8bit(*p16);
    ASSERT_EQ(p8->pixels8.width(), want.width()) << name;
    ASSERT_EQ(p8->pixels8.height(), want.height()) << name;
    EXPECT_TRUE(std::equal(want.data(), want.data() + want.size(), p8->pixels8.data())) << name;
    EXPECT_EQ(p8->pixels8.width(), int(hf->primary.display_width)) << name;
  }
}

// A file shaped like a Galaxy S24-era HEIC (made with our writer: no such file may be copied
// into the repository): primary grid with irot (EXIF 6), the gain map a hidden Samsung aux
// grid without transforms of its own, stored in the primary's coded orientation, its values
// only in an hdrgm XMP item describing it. It must decode to the same HDR as the same pixels
// written the ISO way (tmap, the map with its own irot).
TEST(HeifPixels, SamsungS24LayoutReadsHdrgmXmpAndInheritsOrientation) {
  const int w = 96, h = 160;  // displayed (portrait)
  Image8 sdr(w, h, 3), map(w / 2, h / 2, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) sdr.at(x, y, c) = uint8_t(40 + (x + 2 * y + 30 * c) % 160);
  for (int y = 0; y < map.height(); ++y)
    for (int x = 0; x < map.width(); ++x) map.at(x, y) = uint8_t(x < 12 && y < 20 ? 255 : (x * 3) % 64);
  GainMapMetadata m;
  m.base_headroom = 0;
  m.alternate_headroom = 2.3;
  for (auto& ch : m.channel) ch = {0.0, 2.3, 1.0, 0.0, 0.0};
  HeifEncodeOptions iso;
  iso.tile_size = 64;  // grids, as phones write
  iso.rotation_ccw = 270;
  HeifEncodeOptions samsung = iso;
  samsung.samsung_layout = true;
  samsung.map_without_irot = true;
  auto a = encode_heif_gainmap(sdr, Primaries::DisplayP3, {}, map, m, iso);
  auto b = encode_heif_gainmap(sdr, Primaries::DisplayP3, {}, map, m, samsung);
  ASSERT_TRUE(a && b) << (a ? b.error().message : a.error().message);

  auto hf = read_heif(*b);
  ASSERT_TRUE(hf) << hf.error().message;
  EXPECT_FALSE(hf->tmap_item);
  ASSERT_TRUE(hf->samsung_aux_item && hf->gain_map && hf->metadata);
  EXPECT_EQ(hf->source, MetadataSource::Xmp);
  EXPECT_NEAR(hf->metadata->alternate_headroom, 2.3, 1e-6);
  EXPECT_NEAR(hf->metadata->channel[0].max, 2.3, 1e-6);
  EXPECT_TRUE(hf->gain_map_orientation_inherited);
  EXPECT_EQ(hf->primary.exif_orientation, 6);
  EXPECT_EQ(hf->gain_map->exif_orientation, 6);
  for (const auto& warning : hf->warnings) {
    EXPECT_EQ(warning.find("differ from the primary"), std::string::npos) << warning;
    EXPECT_EQ(warning.find("no usable metadata"), std::string::npos) << warning;
  }
  auto ha = decode_gainmap_hdr(*a);
  auto hb = decode_gainmap_hdr(*b);
  ASSERT_TRUE(ha && hb) << (ha ? hb.error().message : ha.error().message);
  ASSERT_EQ(hb->rgb.width(), w);
  ASSERT_EQ(hb->rgb.height(), h);
  EXPECT_TRUE(std::equal(ha->rgb.data(), ha->rgb.data() + ha->rgb.size(), hb->rgb.data()))
      << "the Samsung-layout map must land where the ISO one does";
  // `repair` adds the tmap (and gives the map the primary's irot): same HDR, same tiles.
  auto fixed = repair_heif(*b);
  ASSERT_TRUE(fixed) << fixed.error().message;
  auto hr = read_heif(fixed->bytes);
  ASSERT_TRUE(hr && hr->tmap_item && hr->iso_metadata && hr->gain_map);
  EXPECT_EQ(hr->source, MetadataSource::Iso);
  EXPECT_NEAR(hr->iso_metadata->channel[0].max, 2.3, 1e-6);
  EXPECT_FALSE(hr->gain_map_orientation_inherited);
  EXPECT_EQ(hr->gain_map->exif_orientation, 6);
  EXPECT_TRUE(hr->tmap_brand && hr->altr_group);
  auto hrd = decode_gainmap_hdr(fixed->bytes);
  ASSERT_TRUE(hrd) << hrd.error().message;
  EXPECT_TRUE(std::equal(hb->rgb.data(), hb->rgb.data() + hb->rgb.size(), hrd->rgb.data()));
  size_t coded = 0;
  for (const auto& it : hf->structure.items) {
    if (it.type != heif::fourcc("hvc1")) continue;
    auto before = heif::read_item_data(hf->structure, *b, it.id, b->size());
    auto after = heif::read_item_data(hr->structure, fixed->bytes, it.id, fixed->bytes.size());
    ASSERT_TRUE(before && after);
    EXPECT_EQ(*before, *after) << "item " << it.id;
    ++coded;
  }
  EXPECT_EQ(coded, 8u);  // 6 base tiles + 2 map tiles
  EXPECT_FALSE(repair_heif(fixed->bytes)) << "a second repair has nothing to add";
  {  // kept for independent readers (heif-convert, exiftool) to look at
    const auto dir = test::scratch_dir("samsung_layout");
    std::ofstream(dir / "s24_layout.heic", std::ios::binary).write(reinterpret_cast<const char*>(b->data()), long(b->size()));
    std::ofstream(dir / "s24_layout_repaired.heic", std::ios::binary)
        .write(reinterpret_cast<const char*>(fixed->bytes.data()), long(fixed->bytes.size()));
  }
  // The bright block of the map (top-left as displayed) lifts the top-left of the HDR.
  EXPECT_GT(hb->rgb.at(4, 4, 1) / std::max(1e-3f, srgb_to_linear(sdr.at(4, 4, 1) / 255.f)), 3.f);
  EXPECT_LT(hb->rgb.at(w - 4, h - 4, 1) / std::max(1e-3f, srgb_to_linear(sdr.at(w - 4, h - 4, 1) / 255.f)), 2.f);
}

TEST(HeifPixels, RepairRefusesWhatItCannotDoWithoutReencoding) {
  // Apple-curve maps would need re-encoding; tmap files need nothing.
  EXPECT_FALSE(repair_heif(test::corpus_bytes("heif/iphone13pro_ios16_apple_v1.heic")));
  EXPECT_FALSE(repair_heif(test::corpus_bytes("heif/iphone15pro_ios18_tmap_rotated.heic")));
  EXPECT_FALSE(repair_heif(test::corpus_bytes("heif/iphone8plus_no_gainmap.heic")));
}
