// `regain master`: real HDR sources (../shared/corpus/hdr-source: two scene-linear EXRs and
// an HLG PNG) made into PQ P3 TIFF masters here, then exported. Checks: the three seed-named
// HEICs with the right nclx and ICC, the gain-map files reproducing the master at full
// headroom (< 0.1 stop mean |log2 luminance| error), PQ code values after our own decode,
// labels identical in SDR and HDR, LUT bases, input-space detection, the gallery page.
// Inputs are downscaled (long side ~480 px) to keep the suite fast under ASan.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>

#include "container/heif_decode.h"
#include "pipeline/master_base.h"
#include "regain/icc.h"
#include "regain/label.h"
#include "regain/master.h"
#include "regain/pipeline.h"
#include "test_support.h"

using namespace regain;

namespace {

ImageF box_down(const ImageF& src, int f) {
  ImageF out(src.width() / f, src.height() / f, 3);
  for (int y = 0; y < out.height(); ++y)
    for (int x = 0; x < out.width(); ++x)
      for (int c = 0; c < 3; ++c) {
        float s = 0;
        for (int j = 0; j < f; ++j)
          for (int i = 0; i < f; ++i) s += src.at(x * f + i, y * f + j, c);
        out.at(x, y, c) = s / float(f * f);
      }
  return out;
}

// A 16-bit PQ P3-D65 TIFF with our HDR_P3_D65_ST2084 ICC, made from a corpus EXR (1.0 = 203
// cd/m2), long side about 480 px. Cached per process.
const std::vector<uint8_t>& pq_tiff_from(const std::string& exr) {
  static std::map<std::string, std::vector<uint8_t>> cache;
  auto it = cache.find(exr);
  if (it != cache.end()) return it->second;
  auto hdr = read_hdr_image(test::corpus_bytes("hdr-source/" + exr));
  EXPECT_TRUE(hdr) << exr << ": " << (hdr ? "" : hdr.error().message);
  if (!hdr) return cache[exr];
  const int f = std::max(1, std::max(hdr->rgb.width(), hdr->rgb.height()) / 400);
  ImageF small = box_down(hdr->rgb, f);
  const Mat3 m = gamut_matrix(hdr->primaries, Primaries::DisplayP3);
  for (int y = 0; y < small.height(); ++y)
    for (int x = 0; x < small.width(); ++x) {
      Vec3 v = mul(m, Vec3{small.at(x, y, 0), small.at(x, y, 1), small.at(x, y, 2)});
      for (int c = 0; c < 3; ++c) small.at(x, y, c) = std::max(v[c], 0.f);
    }
  auto tiff = encode_tiff16(encode_pq(small, 16), make_hdr_icc(HdrIccProfile::HdrP3D65St2084));
  EXPECT_TRUE(tiff);
  return cache[exr] = tiff ? *tiff : std::vector<uint8_t>{};
}

// The HLG PNG at half size, re-encoded as a 16-bit HLG PNG with its cICP (the reader path
// stays the PNG one).
const std::vector<uint8_t>& hlg_png() {
  static const std::vector<uint8_t> bytes = test::corpus_bytes("hdr-source/hdr_room_bt2020_hlg16.png");
  return bytes;
}

// Mean |log2| luminance ratio over all pixels outside `skip`, with a 1/64 (3 cd/m2) floor
// so that sensor-black noise does not dominate (the gain maps' own offset).
double mean_log2_error(const ImageF& got, const ImageF& want, const std::optional<LabelRect>& skip) {
  const Vec3 w = luminance_weights(Primaries::DisplayP3);
  double sum = 0;
  size_t n = 0;
  for (int y = 0; y < want.height(); ++y)
    for (int x = 0; x < want.width(); ++x) {
      if (skip && skip->contains(x, y)) continue;
      const float* a = &got.at(x, y);
      const float* b = &want.at(x, y);
      const double ya = w[0] * a[0] + w[1] * a[1] + w[2] * a[2];
      const double yb = w[0] * b[0] + w[1] * b[1] + w[2] * b[2];
      sum += std::abs(std::log2((ya + 1.0 / 64) / (yb + 1.0 / 64)));
      ++n;
    }
  return n ? sum / double(n) : 1e9;
}

const MasterFile* find(const MasterResult& r, MasterExport e) {
  for (const auto& f : r.files)
    if (f.kind == e) return &f;
  return nullptr;
}

MasterOptions all_exports() {
  MasterOptions o;
  o.exports = {MasterExport::Pq, MasterExport::PqCompat, MasterExport::GainMapHeic, MasterExport::GainMapJpeg,
               MasterExport::GainMapAvif};
  return o;
}

}  // namespace

TEST(MasterExports, PqTiffGivesTheThreeSeedNamedHeics) {
  const auto& tiff = pq_tiff_from("Desk.exr");
  auto r = master_image(tiff, "Desk", {});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->files.size(), 3u);
  EXPECT_EQ(r->files[0].name, "Desk_HDR_P3_D65_ST2084.heic");
  EXPECT_EQ(r->files[1].name, "Desk_P3_PQ.heic");
  EXPECT_EQ(r->files[2].name, "Desk_HDR_gain_map.heic");
  EXPECT_EQ(r->meta["input"]["space_from"], "ICC cicp");

  for (int i = 0; i < 2; ++i) {
    auto hf = read_heif(r->files[size_t(i)].bytes);
    ASSERT_TRUE(hf) << hf.error().message;
    ASSERT_TRUE(hf->primary.nclx);
    EXPECT_EQ(hf->primary.nclx->primaries, 12);
    EXPECT_EQ(hf->primary.nclx->transfer, 16);
    EXPECT_EQ(hf->primary.nclx->matrix, 0);
    EXPECT_TRUE(hf->primary.nclx->full_range);
    EXPECT_EQ(hf->primary.bit_depth, 10);
    auto tags = read_icc_tags(hf->primary.icc);
    ASSERT_TRUE(tags) << tags.error().message;
    if (i == 0) {
      EXPECT_EQ(tags->description, "HDR_P3_D65_ST2084");
      ASSERT_TRUE(tags->cicp);
      EXPECT_EQ(tags->cicp->colour_primaries, 12);
      EXPECT_EQ(tags->cicp->transfer_characteristics, 16);
    } else {
      EXPECT_EQ(tags->description, "P3_PQ");
      EXPECT_FALSE(tags->cicp);
    }
    EXPECT_FALSE(hf->gain_map);
  }
  auto gm = read_heif(r->files[2].bytes);
  ASSERT_TRUE(gm) << gm.error().message;
  EXPECT_TRUE(gm->gain_map);
  EXPECT_TRUE(gm->tmap_item);
  EXPECT_TRUE(gm->apple_aux_item);
  ASSERT_TRUE(gm->apple_headroom);
  EXPECT_GT(*gm->apple_headroom, 2.0);  // a 1000-nit master over an SDR base
}

// Our own HEVC decode of the PQ HEIC against the master's 10-bit PQ codes (labels excluded).
TEST(MasterExports, PqHeicHoldsTheMastersCodeValues) {
  const auto& tiff = pq_tiff_from("StillLife.exr");
  MasterOptions o;
  o.exports = {MasterExport::Pq};
  auto r = master_image(tiff, "StillLife", o);
  ASSERT_TRUE(r) << r.error().message;
  auto m = load_master(tiff);
  ASSERT_TRUE(m);
  const Image16 want = encode_pq(m->rgb, 10);
  auto hf = read_heif(r->files[0].bytes);
  ASSERT_TRUE(hf);
  auto pic = decode_heif_item(*hf, r->files[0].bytes, hf->primary);
  ASSERT_TRUE(pic) << pic.error().message;
  ASSERT_EQ(pic->bit_depth, 10);
  ASSERT_EQ(pic->pixels.width(), want.width());
  auto box = label_rect("HDR_P3_D65_ST2084", want.width(), want.height());
  ASSERT_TRUE(box);
  double sum = 0;
  size_t n = 0, over4 = 0;
  for (int y = 0; y < want.height(); ++y)
    for (int x = 0; x < want.width(); ++x) {
      if (box->contains(x, y)) continue;
      for (int c = 0; c < 3; ++c) {
        const int d = std::abs(int(pic->pixels.at(x, y, c)) - int(want.at(x, y, c)));
        sum += d;
        over4 += d > 4;
        ++n;
      }
    }
  const double mean = sum / double(n);
  std::printf("StillLife PQ HEIC: mean |code error| %.3f (10-bit), %.3f%% over 4 codes\n", mean, 100.0 * over4 / n);
  EXPECT_LT(mean, 1.5);
  EXPECT_LT(double(over4) / double(n), 0.02);
}

// The bar: at full headroom the gain-map files reproduce the master within 0.1 stop.
struct RoundTripCase {
  const char* name;
  bool hlg;
};
class MasterRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(MasterRoundTrip, GainMapFilesReproduceTheMaster) {
  const auto& c = GetParam();
  const std::vector<uint8_t>& input = c.hlg ? hlg_png() : pq_tiff_from(c.name);
  MasterOptions o = all_exports();
  auto r = master_image(input, "x", o);
  ASSERT_TRUE(r) << r.error().message;
  auto m = load_master(input);
  ASSERT_TRUE(m);
  auto box = label_rect("HDR_gain_map", m->rgb.width(), m->rgb.height());
  ASSERT_TRUE(box);
  for (MasterExport e : {MasterExport::GainMapHeic, MasterExport::GainMapJpeg, MasterExport::GainMapAvif}) {
    const MasterFile* f = find(*r, e);
    ASSERT_TRUE(f);
    auto hdr = decode_gainmap_hdr(f->bytes);
    ASSERT_TRUE(hdr) << f->name << ": " << hdr.error().message;
    EXPECT_EQ(hdr->primaries, Primaries::DisplayP3);
    ASSERT_EQ(hdr->rgb.width(), m->rgb.width());
    const double err = mean_log2_error(hdr->rgb, m->rgb, *box);
    std::printf("%s %s: mean |log2 Y| error at full headroom %.4f stops (headroom %.3f)\n", c.name, f->name.c_str(),
                err, hdr->headroom);
    EXPECT_LT(err, 0.1) << f->name;
  }
}

INSTANTIATE_TEST_SUITE_P(MasterCorpus, MasterRoundTrip,
                         ::testing::Values(RoundTripCase{"Desk.exr", false}, RoundTripCase{"StillLife.exr", false},
                                           RoundTripCase{"hdr_room_bt2020_hlg16.png", true}),
                         [](const auto& info) { return std::string(info.param.hlg ? "HlgPng" : info.index == 0 ? "Desk" : "StillLife"); });

// The label is the same light in the SDR base and in the HDR rendition at any headroom.
TEST(MasterLabel, SameInSdrAndHdrRenditions) {
  const auto& tiff = pq_tiff_from("Desk.exr");
  MasterOptions o;
  o.exports = {MasterExport::GainMapHeic, MasterExport::GainMapJpeg};
  auto r = master_image(tiff, "Desk", o);
  ASSERT_TRUE(r) << r.error().message;
  for (const auto& f : r->files) {
    auto sdr = decode_gainmap_sdr(f.bytes);
    ASSERT_TRUE(sdr);
    auto box = label_rect("HDR_gain_map", sdr->width(), sdr->height());
    ASSERT_TRUE(box);
    for (double headroom : {0.5, 1e9}) {
      DecodeOptions d;
      d.headroom = headroom;
      auto hdr = decode_gainmap_hdr(f.bytes, d);
      ASSERT_TRUE(hdr);
      // In 8-bit signal terms: the HDR rendition re-encoded with sRGB is within half a code of
      // the SDR base (what is left is lossy coding of the map around the zeroed area).
      double worst = 0;
      for (int y = box->y; y < box->y + box->height; ++y)
        for (int x = box->x; x < box->x + box->width; ++x)
          for (int c = 0; c < 3; ++c)
            worst = std::max(worst, std::abs(linear_to_srgb(hdr->rgb.at(x, y, c)) * 255.0 - sdr->at(x, y, c)));
      std::printf("%s headroom %g: label HDR vs SDR worst %.3f codes\n", f.name.c_str(), headroom, worst);
      EXPECT_LT(worst, 0.5) << f.name << " headroom " << headroom;
    }
    // Text is there: mid-grey on black in the SDR base.
    int text = 0, black = 0, brightest = 0;
    for (int y = box->y; y < box->y + box->height; ++y)
      for (int x = box->x; x < box->x + box->width; ++x) {
        const int v = sdr->at(x, y, 1);
        text += v >= 48;
        black += v <= 6;
        brightest = std::max(brightest, v);
      }
    EXPECT_GT(text, 20) << f.name;
    EXPECT_NEAR(brightest, 128, 16) << f.name;  // 8-px text rarely covers a pixel fully
    EXPECT_GT(black, box->width * box->height / 2) << f.name;
  }
}

TEST(MasterLabel, NoLabelLeavesTheCornerAlone) {
  const auto& tiff = pq_tiff_from("Desk.exr");
  MasterOptions o;
  o.exports = {MasterExport::Pq};
  o.label = false;
  auto r = master_image(tiff, "Desk", o);
  ASSERT_TRUE(r);
  auto m = load_master(tiff);
  const Image16 want = encode_pq(m->rgb, 10);
  auto hf = read_heif(r->files[0].bytes);
  auto pic = decode_heif_item(*hf, r->files[0].bytes, hf->primary);
  ASSERT_TRUE(pic);
  auto box = label_rect("HDR_P3_D65_ST2084", want.width(), want.height());
  double sum = 0;
  for (int y = box->y; y < box->y + box->height; ++y)
    for (int x = box->x; x < box->x + box->width; ++x) sum += std::abs(int(pic->pixels.at(x, y, 1)) - int(want.at(x, y, 1)));
  EXPECT_LT(sum / (box->width * box->height), 2.0);
}

// "No gain" decodes to a factor of exactly 1 under the label, whatever the map's range.
TEST(MasterGainMap, ZeroGainIsAnExactCodeUnderTheLabel) {
  ImageF hdr(256, 200, 3);
  Image8 sdr(256, 200, 3);
  for (int y = 0; y < 200; ++y)
    for (int x = 0; x < 256; ++x)
      for (int c = 0; c < 3; ++c) {
        sdr.at(x, y, c) = uint8_t(x);
        // gains from -1 to +3 stops across the image
        hdr.at(x, y, c) = srgb8_to_linear_lut()[size_t(x)] * std::exp2(-1.f + 4.f * float(y) / 199.f);
      }
  LabelRect box{20, 150, 60, 30};
  auto cg = master_gain_map(sdr, hdr, Primaries::BT709, 2, box);
  ASSERT_TRUE(cg) << cg.error().message;
  const auto& ch = cg->meta.channel[0];
  EXPECT_LT(ch.min, 0);
  const MapRange mr = map_pixels_under(box, 256, 200, cg->map.width(), cg->map.height());
  EXPECT_LE(mr.x0, box.x / 2 - 1);
  EXPECT_GE(mr.x1, (box.x + box.width) / 2 + 1);
  for (int y = mr.y0; y < mr.y1; ++y)
    for (int x = mr.x0; x < mr.x1; ++x) {
      const double g = ch.min + (ch.max - ch.min) * cg->map.at(x, y) / 255.0;
      EXPECT_NEAR(g, 0.0, 1e-4) << x << "," << y;
    }
}

TEST(MasterBase, LutBaseReadsThePqSignal) {
  // An identity 17^3 LUT: the base is then the master's PQ signal itself.
  CubeLut lut;
  lut.size = 17;
  lut.table.resize(size_t(17) * 17 * 17 * 3);
  for (int b = 0; b < 17; ++b)
    for (int g = 0; g < 17; ++g)
      for (int r = 0; r < 17; ++r) {
        float* e = lut.table.data() + 3 * ((size_t(b) * 17 + g) * 17 + r);
        e[0] = r / 16.f, e[1] = g / 16.f, e[2] = b / 16.f;
      }
  auto m = load_master(pq_tiff_from("Desk.exr"));
  ASSERT_TRUE(m);
  const Image8 base = lut_base(m->rgb, lut);
  const Image16 pq = encode_pq(m->rgb, 16);
  int worst = 0;
  for (size_t i = 0; i < base.size(); ++i)
    worst = std::max(worst, std::abs(int(base.data()[i]) - int(pq.data()[i] / 257.0 + 0.5)));
  EXPECT_LE(worst, 1);

  // And with a LUT base the gain map still takes the file back to the master.
  MasterOptions o;
  o.exports = {MasterExport::GainMapJpeg};
  o.lut = std::make_shared<const CubeLut>(lut);
  o.lut_output = Primaries::DisplayP3;
  auto r = master_image(pq_tiff_from("Desk.exr"), "Desk", o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->meta["tone_mapper"]["method"], "lut");
  auto hdr = decode_gainmap_hdr(r->files[0].bytes);
  ASSERT_TRUE(hdr);
  auto box = label_rect("HDR_gain_map", m->rgb.width(), m->rgb.height());
  EXPECT_LT(mean_log2_error(hdr->rgb, m->rgb, *box), 0.1);
}

TEST(MasterBase, SdrExposureLiftsMidTonesKeepsPeak) {
  ImageF ramp(64, 1, 3);
  for (int x = 0; x < 64; ++x)
    for (int c = 0; c < 3; ++c) ramp.at(x, 0, c) = 10000.f / 203.f * float(x) / 63.f * float(x) / 63.f;
  const Image8 a = tone_map_base(ramp, Primaries::DisplayP3, 0);
  const Image8 b = tone_map_base(ramp, Primaries::DisplayP3, 1);
  for (int x = 1; x < 64; ++x) {
    EXPECT_GE(b.at(x, 0), a.at(x, 0));
    EXPECT_GE(b.at(x, 0), b.at(x - 1, 0));  // still monotonic
  }
  EXPECT_EQ(b.at(63, 0), a.at(63, 0));
  // Diffuse white (1.0): Method A puts it at code ~171; one stop of lift brings it up.
  ImageF white(1, 1, 3);
  white.fill(1.f);
  const int w0 = tone_map_base(white, Primaries::DisplayP3, 0).at(0, 0);
  const int w1 = tone_map_base(white, Primaries::DisplayP3, 1).at(0, 0);
  EXPECT_NEAR(w0, 171, 4);
  EXPECT_GT(w1, w0 + 20);
}

TEST(MasterInput, ColourSpaceSources) {
  auto m = load_master(pq_tiff_from("Desk.exr"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->space_from, "ICC cicp");
  EXPECT_EQ(m->source_transfer, Transfer::PQ);
  EXPECT_EQ(m->source_primaries, Primaries::DisplayP3);

  // Same pixels with the P3_PQ profile (no cicp): colorants give P3, PQ assumed, warned.
  auto small = load_master(pq_tiff_from("Desk.exr"));
  const Image16 px = encode_pq(small->rgb, 16);
  auto compat = encode_tiff16(px, make_hdr_icc(HdrIccProfile::P3Pq));
  ASSERT_TRUE(compat);
  auto c = load_master(*compat);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->space_from, "ICC colorants");
  EXPECT_EQ(c->source_primaries, Primaries::DisplayP3);
  EXPECT_FALSE(c->warnings.empty());

  // No ICC: P3 PQ by default; --input-space bt2020-pq overrides.
  auto bare = encode_tiff16(px);
  ASSERT_TRUE(bare);
  auto d = load_master(*bare);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->space_from, "default");
  EXPECT_EQ(d->source_primaries, Primaries::DisplayP3);
  MasterOptions o;
  o.input_space = parse_input_space("bt2020-pq");
  ASSERT_TRUE(o.input_space);
  auto e = load_master(*bare, o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->source_primaries, Primaries::BT2020);
  EXPECT_EQ(e->space_from, "--input-space");

  // HLG PNG: its cICP.
  auto h = load_master(hlg_png());
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->space_from, "PNG cICP");
  EXPECT_EQ(h->source_transfer, Transfer::HLG);
  EXPECT_EQ(h->source_primaries, Primaries::BT2020);

  EXPECT_FALSE(parse_input_space("p3"));
  EXPECT_FALSE(parse_input_space("xyz-pq"));
  EXPECT_TRUE(parse_input_space("bt709-linear"));
}

TEST(MasterInput, ExrExposureScalesSceneLight) {
  auto exr = test::corpus_bytes("hdr-source/Desk.exr");
  auto a = load_master(exr);
  MasterOptions o;
  o.exposure = 1;
  auto b = load_master(exr, o);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->space_from, "EXR");
  // Compare a mid-grey-ish pixel well below the PQ ceiling.
  size_t checked = 0;
  for (size_t i = 0; i < a->rgb.size() && checked < 1000; i += 997) {
    const float va = a->rgb.data()[i];
    if (va > 0.05f && va < 10.f) {
      EXPECT_NEAR(b->rgb.data()[i], 2 * va, 1e-4f * va);
      ++checked;
    }
  }
  EXPECT_GT(checked, 100u);
}

TEST(MasterInput, BadInputsGiveClearErrors) {
  std::vector<uint8_t> junk(1000, 0x42);
  auto r = master_image(junk, "junk", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Unsupported);
  EXPECT_NE(r.error().message.find("16-bit TIFF"), std::string::npos) << r.error().message;

  // A truncated TIFF.
  auto tiff = pq_tiff_from("Desk.exr");
  tiff.resize(tiff.size() / 3);
  auto t = master_image(tiff, "cut", {});
  EXPECT_FALSE(t);

  // Bad options on a valid master.
  Image16 px(32, 32, 3);
  px.fill(128 * 257);
  auto eight = encode_tiff16(px);
  ASSERT_TRUE(eight);
  MasterOptions o;
  o.exports.clear();
  EXPECT_FALSE(master_image(*eight, "x", o));  // no exports
  o = {};
  o.map_scale = 3;
  EXPECT_FALSE(master_image(*eight, "x", o));
  o = {};
  o.sdr_exposure = -1;
  EXPECT_FALSE(master_image(*eight, "x", o));
}

TEST(MasterExports, NamesAndKeys) {
  EXPECT_EQ(master_file_name("IMG_1", MasterExport::Pq), "IMG_1_HDR_P3_D65_ST2084.heic");
  EXPECT_EQ(master_file_name("IMG_1", MasterExport::PqCompat), "IMG_1_P3_PQ.heic");
  EXPECT_EQ(master_file_name("IMG_1", MasterExport::GainMapHeic), "IMG_1_HDR_gain_map.heic");
  EXPECT_EQ(master_file_name("IMG_1", MasterExport::GainMapJpeg), "IMG_1_HDR_gain_map.jpg");
  EXPECT_EQ(master_file_name("IMG_1", MasterExport::GainMapAvif), "IMG_1_HDR_gain_map.avif");
  EXPECT_EQ(parse_master_export("pq-compat"), MasterExport::PqCompat);
  EXPECT_EQ(parse_master_export("gainmap"), MasterExport::GainMapHeic);
  EXPECT_FALSE(parse_master_export("png"));
}

TEST(MasterGallery, PreviewsAndAPageWithoutStackingContexts) {
  MasterOptions o = all_exports();
  o.previews = true;
  o.preview_size = 200;
  auto r = master_image(pq_tiff_from("Desk.exr"), "Desk", o);
  ASSERT_TRUE(r) << r.error().message;
  for (const auto& f : r->files) {
    auto png = decode_png(f.preview_png);
    ASSERT_TRUE(png) << f.name;
    EXPECT_LE(std::max(png->pixels.width(), png->pixels.height()), 200) << f.name;
    EXPECT_EQ(png->bit_depth, 8);
  }
  EXPECT_TRUE(decode_png(r->gain_map_png));

  GalleryRow row{"Desk", "Desk.tif", {}, "previews/Desk_gain_map.png", "", "previews/Desk_where_hdr.jpg"};
  for (const auto& f : r->files)
    row.entries.push_back({std::string(master_export_profile(f.kind)), f.name, "previews/" + f.name + ".png",
                           f.kind == MasterExport::GainMapJpeg || f.kind == MasterExport::GainMapAvif});
  GalleryRow bad{"b<x>", "b<x>.tif", {}, "", "not a master", ""};
  const std::string html = gallery_html({row, bad});
  EXPECT_NE(html.find("src=\"previews/Desk_where_hdr.jpg\""), std::string::npos) << "where-HDR overlay in the gallery";
  EXPECT_FALSE(r->where_hdr_jpeg.empty());
  for (const char* banned : {"overflow", "clip-path", "transform", "filter", "z-index", "opacity", "will-change",
                             "position:", "position :", "isolation", "contain", "mix-blend"})
    EXPECT_EQ(html.find(banned), std::string::npos) << banned;
  EXPECT_NE(html.find("<img class=\"hdr\" src=\"Desk_HDR_gain_map.jpg\""), std::string::npos);
  EXPECT_NE(html.find("<img class=\"hdr\" src=\"Desk_HDR_gain_map.avif\""), std::string::npos);
  EXPECT_NE(html.find("href=\"Desk_HDR_P3_D65_ST2084.heic\""), std::string::npos);
  EXPECT_NE(html.find("b&lt;x&gt;"), std::string::npos);
  EXPECT_EQ(html.find("b<x>"), std::string::npos);
  const std::string md = gallery_readme({row, bad});
  EXPECT_NE(md.find("](previews/Desk_HDR_gain_map.jpg.png)"), std::string::npos);
  EXPECT_NE(md.find("failed: not a master"), std::string::npos);
}
