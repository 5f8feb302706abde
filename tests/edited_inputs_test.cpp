// Edited images as people export them: black-and-white JPEG/PNG edits, 8/16-bit TIFF, alpha,
// a grayscale ICC profile, WebP downloads. Each must give a gain-map JPEG whose base every reader accepts.
#include <gtest/gtest.h>
#include <lcms2.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>

#include <jpeglib.h>
#include <tiffio.h>
#include <webp/encode.h>
#include <webp/mux.h>
#include <zlib.h>

#include "container/exif.h"
#include "container/heif_gainmap.h"
#include "util/orientation.h"

#include "pipeline/transparency.h"
#include "regain/codec.h"
#include "regain/icc.h"
#include "regain/jpegr.h"
#include "regain/pipeline.h"
#include "regain/process.h"
#include "regain/synthetic.h"
#include "test_support.h"

using namespace regain;

namespace {

// A photo-like 8-bit RGB edit (the synthetic scene, tone-mapped by clipping).
Image8 scene_rgb(int w, int h) {
  const ImageF hdr = synthetic_hdr_scene(w, h);
  Image8 out(w, h, 3);
  for (size_t i = 0; i < out.size(); ++i)
    out.data()[i] = uint8_t(std::lround(linear_to_srgb(std::clamp(hdr.data()[i], 0.f, 1.f)) * 255.f));
  return out;
}

Image8 to_gray(const Image8& rgb) {
  Image8 g(rgb.width(), rgb.height(), 1);
  for (size_t i = 0; i < size_t(rgb.width()) * rgb.height(); ++i) {
    const uint8_t* p = rgb.data() + 3 * i;
    g.data()[i] = uint8_t((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
  }
  return g;
}

std::vector<std::string> warnings_of(const ProcessResult& r) {
  std::vector<std::string> w;
  if (r.meta.contains("warnings"))
    for (const auto& s : r.meta["warnings"]) w.push_back(s.get<std::string>());
  return w;
}

bool mentions(const std::vector<std::string>& w, std::string_view what) {
  for (const auto& s : w)
    if (s.find(what) != std::string::npos) return true;
  return false;
}

// One PNG chunk: length, type, data, CRC.
std::vector<uint8_t> png_chunk(const char* type, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> chunk(8 + data.size() + 4);
  const uint32_t len = uint32_t(data.size());
  for (int k = 0; k < 4; ++k) chunk[size_t(k)] = uint8_t(len >> (24 - 8 * k));
  std::memcpy(chunk.data() + 4, type, 4);
  std::copy(data.begin(), data.end(), chunk.begin() + 8);
  const uint32_t crc = uint32_t(crc32(0, chunk.data() + 4, uInt(4 + data.size())));
  for (int k = 0; k < 4; ++k) chunk[8 + data.size() + size_t(k)] = uint8_t(crc >> (24 - 8 * k));
  return chunk;
}

// A PNG with an eXIf chunk holding `tiff`, right after IHDR (where browsers read it).
std::vector<uint8_t> png_with_exif(const std::vector<uint8_t>& png, const std::vector<uint8_t>& tiff) {
  const auto chunk = png_chunk("eXIf", tiff);
  std::vector<uint8_t> bytes(png.begin(), png.end());
  bytes.insert(bytes.begin() + 8 + 25, chunk.begin(), chunk.end());  // after the signature and IHDR
  return bytes;
}

std::vector<uint8_t> gray_icc() {
  cmsToneCurve* g = cmsBuildGamma(nullptr, 2.2);
  cmsHPROFILE p = cmsCreateGrayProfile(cmsD50_xyY(), g);
  cmsFreeToneCurve(g);
  cmsUInt32Number n = 0;
  cmsSaveProfileToMem(p, nullptr, &n);
  std::vector<uint8_t> icc(n);
  cmsSaveProfileToMem(p, icc.data(), &n);
  cmsCloseProfile(p);
  return icc;
}

// One-component JPEGs the way other encoders write them (TurboJPEG's are all baseline, 1x1,
// table 0, no restarts).
struct GrayJpegStyle {
  const char* name;
  bool progressive = false, arithmetic = false;
  int restart_rows = 0, sampling = 1, table_slot = 0;
};

std::vector<uint8_t> libjpeg_gray(const Image8& g, const GrayJpegStyle& st) {
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = JDIMENSION(g.width());
  c.image_height = JDIMENSION(g.height());
  c.input_components = 1;
  c.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 85, TRUE);
  c.comp_info[0].h_samp_factor = c.comp_info[0].v_samp_factor = st.sampling;
  c.comp_info[0].quant_tbl_no = st.table_slot;
  c.restart_in_rows = st.restart_rows;
  c.arith_code = st.arithmetic ? TRUE : FALSE;
  if (st.progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(g.row(int(c.next_scanline)));
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::vector<uint8_t> out(buf, buf + size);
  std::free(buf);
  return out;
}

void expect_same_pixels(const std::vector<uint8_t>& gray_jpeg, const char* what) {
  auto ycc = gray_jpeg_to_ycc(gray_jpeg);
  ASSERT_TRUE(ycc) << what << ": " << ycc.error().message;
  auto info = jpeg_info(*ycc);
  ASSERT_TRUE(info) << what;
  EXPECT_EQ(info->components, 3) << what;
  auto a = decode_jpeg(gray_jpeg, {}, 3), b = decode_jpeg(*ycc, {}, 3);
  ASSERT_TRUE(a && b) << what;
  ASSERT_EQ(a->size(), b->size()) << what;
  EXPECT_TRUE(std::equal(a->data(), a->data() + a->size(), b->data())) << what;
}

}  // namespace

TEST(EditedInputs, GrayJpegsOfEveryStyleRepackLosslessly) {
  const Image8 gray = to_gray(scene_rgb(301, 203));
  const GrayJpegStyle styles[] = {{"baseline"},
                                  {"progressive", true},
                                  {"arithmetic", false, true},
                                  {"restart every 2 rows", false, false, 2},
                                  {"2x2 sampling declared", false, false, 0, 2},
                                  {"table slot 1", false, false, 0, 1, 1},
                                  {"progressive, arithmetic, restarts", true, true, 1}};
  for (const auto& st : styles) expect_same_pixels(libjpeg_gray(gray, st), st.name);
  // A table slot redefined after the scan (legal: the scan keeps the table it started with):
  // the re-packed luma must keep the table its coefficients were coded with.
  auto bytes = libjpeg_gray(gray, {"baseline"});
  ASSERT_GT(bytes.size(), 4u);
  std::vector<uint8_t> dqt = {0xFF, 0xDB, 0x00, 0x43, 0x00};
  dqt.insert(dqt.end(), 64, uint8_t(1));
  bytes.insert(bytes.end() - 2, dqt.begin(), dqt.end());
  expect_same_pixels(bytes, "table redefined after the scan");
}

TEST(EditedInputs, GrayJpegIsRepackedLosslesslyAsYcc) {
  const Image8 gray = to_gray(scene_rgb(333, 250));  // odd size: partial blocks at the edges
  auto jpeg = encode_jpeg(gray, {90, false});
  ASSERT_TRUE(jpeg);
  auto info = jpeg_info(*jpeg);
  ASSERT_TRUE(info);
  ASSERT_EQ(info->components, 1);
  // Same luma coefficients, zero chroma: the decode is the gray decode in all three channels.
  expect_same_pixels(*jpeg, "TurboJPEG gray");
  auto ycc = gray_jpeg_to_ycc(*jpeg);
  ASSERT_TRUE(ycc);
  EXPECT_LT(ycc->size(), jpeg->size() * 11 / 10);
  auto a = decode_jpeg(*jpeg, {}, 3);
  ASSERT_TRUE(a);

  // Through process: a gain-map JPEG with a 3-component base and the same pixels.
  ProcessOptions o;
  auto r = process_image(*jpeg, std::nullopt, o);
  ASSERT_TRUE(r) << r.error().message;
  auto jr = read_jpegr(r->output);
  ASSERT_TRUE(jr && jr->gain_map);
  EXPECT_EQ(jr->primary.components, 3);
  auto base = decode_jpeg(jr->primary_bytes, {}, 3);
  ASSERT_TRUE(base);
  ASSERT_EQ(base->size(), a->size());
  EXPECT_TRUE(std::equal(a->data(), a->data() + a->size(), base->data()));
  EXPECT_TRUE(mentions(warnings_of(*r), "grayscale JPEG"));
}

TEST(EditedInputs, RepackRefusesWhatItCannotDo) {
  auto rgb = encode_jpeg(scene_rgb(64, 48));
  ASSERT_TRUE(rgb);
  EXPECT_FALSE(gray_jpeg_to_ycc(*rgb));
  auto gray = encode_jpeg(to_gray(scene_rgb(256, 192)));
  ASSERT_TRUE(gray);
  // Cut short, junk, empty: errors, never a crash.
  for (size_t keep : {size_t(0), size_t(2), size_t(100), gray->size() / 2, gray->size() - 2}) {
    std::vector<uint8_t> cut(gray->begin(), gray->begin() + long(keep));
    EXPECT_FALSE(gray_jpeg_to_ycc(cut)) << keep;
  }
  Limits tight;
  tight.max_pixels = 1000;
  auto big = gray_jpeg_to_ycc(*gray, tight);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::TooLarge);
}

TEST(EditedInputs, GrayIccBecomesAnRgbProfileWithItsToneCurve) {
  const auto gray = gray_icc();  // gamma 2.2: mid-grey far from sRGB's
  auto rgb = rgb_icc_from_gray(gray);
  ASSERT_TRUE(rgb) << rgb.error().message;
  auto info = inspect_icc(*rgb);
  ASSERT_TRUE(info && info->primaries);
  EXPECT_EQ(*info->primaries, Primaries::BT709);
  // Neutral RGB through the new profile has the gray profile's luminance.
  cmsHPROFILE g = cmsOpenProfileFromMem(gray.data(), cmsUInt32Number(gray.size()));
  cmsHPROFILE r = cmsOpenProfileFromMem(rgb->data(), cmsUInt32Number(rgb->size()));
  cmsHPROFILE xyz = cmsCreateXYZProfile();
  ASSERT_TRUE(g && r && xyz);
  cmsHTRANSFORM tg = cmsCreateTransform(g, TYPE_GRAY_8, xyz, TYPE_XYZ_DBL, INTENT_RELATIVE_COLORIMETRIC, 0);
  cmsHTRANSFORM tr = cmsCreateTransform(r, TYPE_RGB_8, xyz, TYPE_XYZ_DBL, INTENT_RELATIVE_COLORIMETRIC, 0);
  ASSERT_TRUE(tg && tr);
  for (int v : {16, 64, 128, 200, 255}) {
    const uint8_t gv = uint8_t(v), rv[3] = {uint8_t(v), uint8_t(v), uint8_t(v)};
    cmsCIEXYZ a, b;
    cmsDoTransform(tg, &gv, &a, 1);
    cmsDoTransform(tr, rv, &b, 1);
    EXPECT_NEAR(b.Y, a.Y, 0.005 + 0.01 * a.Y) << v;
  }
  cmsDeleteTransform(tg);
  cmsDeleteTransform(tr);
  cmsCloseProfile(g);
  cmsCloseProfile(r);
  cmsCloseProfile(xyz);
  EXPECT_FALSE(rgb_icc_from_gray(make_display_icc(Primaries::BT709)));  // not gray
  std::vector<uint8_t> junk(200, 7);
  EXPECT_FALSE(rgb_icc_from_gray(junk));
}

TEST(EditedInputs, GrayIccProfileIsReplaced) {
  const Image8 gray = to_gray(scene_rgb(200, 150));
  auto jpeg = encode_jpeg(gray);
  ASSERT_TRUE(jpeg);
  const auto icc = gray_icc();
  ASSERT_GT(icc.size(), 128u);
  auto tagged = with_jpeg_metadata(*jpeg, {}, icc);
  ASSERT_TRUE(tagged) << tagged.error().message;
  auto r = process_image(*tagged, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(mentions(warnings_of(*r), "grayscale ICC"));
  auto jr = read_jpegr(r->output);
  ASSERT_TRUE(jr);
  // The output carries the RGB profile made from the gray one, never the gray one.
  auto want = rgb_icc_from_gray(icc);
  ASSERT_TRUE(want);
  EXPECT_EQ(jr->icc, *want);
}

TEST(EditedInputs, GrayAndAlphaPngs) {
  const Image8 rgb = scene_rgb(160, 120);
  auto gpng = encode_png8(to_gray(rgb));
  ASSERT_TRUE(gpng);
  auto r = process_image(*gpng, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(mentions(warnings_of(*r), "grayscale PNG"));
  auto sdr = decode_jpegr_sdr(r->output);
  ASSERT_TRUE(sdr);
  EXPECT_EQ(sdr->channels(), 3);

  Image8 rgba(160, 120, 4);
  for (size_t i = 0; i < size_t(160) * 120; ++i) {
    std::copy_n(rgb.data() + 3 * i, 3, rgba.data() + 4 * i);
    rgba.data()[4 * i + 3] = 200;
  }
  auto apng = encode_png8(rgba);
  ASSERT_TRUE(apng);
  r = process_image(*apng, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  // Translucent everywhere: flattened onto white (200/255 of the colour + 55).
  EXPECT_TRUE(mentions(warnings_of(*r), "transparent pixels (100.0 % of the image) flattened onto #ffffff"));
  sdr = decode_jpegr_sdr(r->output);
  ASSERT_TRUE(sdr);
  Image8 flat(160, 120, 3);
  for (size_t i = 0; i < flat.size(); ++i) flat.data()[i] = uint8_t((rgb.data()[i] * 200 + 55 * 255 + 127) / 255);
  double err = 0;
  for (size_t i = 0; i < flat.size(); ++i) err += std::abs(int(sdr->data()[i]) - int(flat.data()[i]));
  EXPECT_LT(err / double(flat.size()), 2.0);

  // RGBA whose alpha is all 255 (common): nothing to flatten, nothing said.
  for (size_t i = 0; i < size_t(160) * 120; ++i) rgba.data()[4 * i + 3] = 255;
  apng = encode_png8(rgba);
  ASSERT_TRUE(apng);
  r = process_image(*apng, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(mentions(warnings_of(*r), "transparent"));
  EXPECT_EQ(r->meta["input"]["transparent_share"], 0.0);
  EXPECT_TRUE(r->meta["input"]["background"].is_null());

  // Gray + alpha: gray pixels, the alpha kept.
  const Image8 g = to_gray(rgb);
  Image8 ga(160, 120, 2);
  for (size_t i = 0; i < g.size(); ++i) {
    ga.data()[2 * i] = g.data()[i];
    ga.data()[2 * i + 1] = i % 160 < 80 ? 255 : 0;
  }
  auto gapng = encode_png8(ga);
  ASSERT_TRUE(gapng);
  auto dec = decode_png8(*gapng, 3);
  ASSERT_TRUE(dec) << dec.error().message;
  EXPECT_EQ(dec->source_channels, 2);
  ASSERT_FALSE(dec->alpha.empty());
  EXPECT_EQ(dec->alpha.data()[0], 255);
  EXPECT_EQ(dec->alpha.data()[159], 0);
  EXPECT_EQ(dec->pixels.data()[3 * 5 + 1], g.data()[5]);
  r = process_image(*gapng, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(mentions(warnings_of(*r), "grayscale PNG"));
  EXPECT_NEAR(r->meta["input"]["transparent_share"].get<double>(), 0.5, 1e-9);
}

// A cut-out (a removed background): flattened onto the background colour, and the gain map
// adds nothing where the background shows, in both modes.
TEST(EditedInputs, TransparentEditGetsNoGainOnItsBackground) {
  const int W = 240, H = 160;
  const Image8 rgb = scene_rgb(W, H);
  Image8 rgba(W, H, 4);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const size_t i = size_t(y) * W + x;
      const bool inside = x < W / 2;
      for (int c = 0; c < 3; ++c) rgba.data()[4 * i + c] = inside ? rgb.data()[3 * i + c] : 0;  // black under alpha 0
      rgba.data()[4 * i + 3] = inside ? 255 : 0;
    }
  auto png = encode_png8(rgba);
  ASSERT_TRUE(png);
  ProcessOptions o;
  o.want_hdr = true;
  auto r = process_image(*png, std::nullopt, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(mentions(warnings_of(*r), "flattened onto #ffffff; no HDR gain"));
  EXPECT_NEAR(r->meta["input"]["transparent_share"].get<double>(), 0.5, 1e-9);
  EXPECT_EQ(r->meta["input"]["background"], "#ffffff");
  auto sdr = decode_jpegr_sdr(r->output);
  ASSERT_TRUE(sdr);
  ASSERT_TRUE(r->hdr);
  // Background (away from the edge, where map pixels are blended): white base, HDR = SDR white.
  double max_bg = 0, max_fg = 0;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const float* p = &r->hdr->data()[(size_t(y) * W + x) * 3];
      const double Y = std::max({p[0], p[1], p[2]});
      if (x >= W / 2 + 36) {  // past the map's JPEG blocks that straddle the edge
        for (int c = 0; c < 3; ++c) EXPECT_GE(sdr->data()[(size_t(y) * W + x) * 3 + c], 250) << x << "," << y;
        max_bg = std::max(max_bg, Y);
      } else if (x < W / 2 - 8) {
        max_fg = std::max(max_fg, Y);
      }
    }
  EXPECT_LT(max_bg, 1.03);  // no gain: SDR white is 1.0
  EXPECT_GT(max_fg, 1.2);   // the scene itself still gets HDR

  // Another background colour.
  o.want_hdr = false;
  o.background = {0, 0, 0};
  r = process_image(*png, std::nullopt, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->meta["input"]["background"], "#000000");
  sdr = decode_jpegr_sdr(r->output);
  ASSERT_TRUE(sdr);
  EXPECT_LE(sdr->data()[(size_t(H / 2) * W + W - 10) * 3], 5);

  auto bg = parse_background("#FFa500");
  ASSERT_TRUE(bg);
  EXPECT_EQ((*bg)[0], 255);
  EXPECT_EQ((*bg)[1], 165);
  EXPECT_EQ((*bg)[2], 0);
  EXPECT_TRUE(parse_background("white"));
  EXPECT_TRUE(parse_background("000000"));
  EXPECT_FALSE(parse_background("#12345"));
  EXPECT_FALSE(parse_background("red"));
  EXPECT_FALSE(parse_background("#12345g"));
}

TEST(EditedInputs, TransparentEditInReferenceMode) {
  // The corpus Lightroom file's SDR base with its right three quarters cut away: the kept part takes
  // the original's gain, the background none.
  const auto orig = test::corpus_bytes("jpeg/acr17_iso_xmp_3ch_small.jpg");
  auto base = decode_jpegr_sdr(orig);
  ASSERT_TRUE(base) << base.error().message;
  const int W = base->width(), H = base->height();
  Image8 rgba(W, H, 4);
  for (size_t i = 0; i < size_t(W) * H; ++i) {
    std::copy_n(base->data() + 3 * i, 3, rgba.data() + 4 * i);
    rgba.data()[4 * i + 3] = int(i % size_t(W)) < W / 4 ? 255 : 0;
  }
  auto png = encode_png8(rgba);
  ASSERT_TRUE(png);
  ProcessOptions o;
  o.want_hdr = true;
  auto r = process_image(*png, std::span<const uint8_t>(orig), o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->meta["mode"], "reference");
  // The kept part is not "edited" (the white backdrop must not skew the tone-curve fit) and
  // gets the gain the uncut edit gets.
  EXPECT_LT(r->meta["edited_share"].get<double>(), 0.05);
  auto whole_png = encode_png8(*base);
  ASSERT_TRUE(whole_png);
  auto whole = process_image(*whole_png, std::span<const uint8_t>(orig), o);
  ASSERT_TRUE(whole) << whole.error().message;
  ASSERT_TRUE(r->hdr && whole->hdr);
  double diff = 0;
  size_t count = 0;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W / 4 - 16; ++x) {
      const size_t i = (size_t(y) * W + x) * 3 + 1;
      diff += std::fabs(std::log2((r->hdr->data()[i] + 0.02) / (whole->hdr->data()[i] + 0.02)));
      ++count;
    }
  EXPECT_LT(diff / double(count), 0.02);
  const int HW = r->hdr->width();
  double max_bg = 0;
  for (int y = 0; y < r->hdr->height(); ++y)
    for (int x = HW / 4 + 16; x < HW; ++x) {
      const float* p = &r->hdr->data()[(size_t(y) * HW + x) * 3];
      max_bg = std::max<double>(max_bg, std::max({p[0], p[1], p[2]}));
    }
  EXPECT_LT(max_bg, 1.03);
}

// EXIF Orientation 6 with alpha: the alpha plane, the gains and Reference mode's analysis all
// follow the stored/displayed turn. The stored left quarter is kept; it is shown as the top.
TEST(EditedInputs, TransparentEditWithExifOrientation) {
  const auto orig = test::corpus_bytes("jpeg/acr17_iso_xmp_3ch_small.jpg");
  auto shown = decode_jpegr_sdr(orig);
  ASSERT_TRUE(shown) << shown.error().message;
  const Image8 stored = apply_orientation(*shown, inverse_orientation(6));
  const int W = stored.width(), H = stored.height();
  Image8 rgba(W, H, 4);
  for (size_t i = 0; i < size_t(W) * H; ++i) {
    std::copy_n(stored.data() + 3 * i, 3, rgba.data() + 4 * i);
    rgba.data()[4 * i + 3] = int(i % size_t(W)) < W / 2 ? 255 : 0;
  }
  auto cut = encode_png8(rgba);
  auto whole = encode_png8(stored);
  ASSERT_TRUE(cut && whole);
  const auto exif = make_orientation_exif(6);
  const auto cut6 = png_with_exif(*cut, exif), whole6 = png_with_exif(*whole, exif);
  for (const bool reference : {false, true}) {
    SCOPED_TRACE(reference ? "reference" : "predictive");
    ProcessOptions o;
    o.want_hdr = true;
    std::optional<std::span<const uint8_t>> ref;
    if (reference) ref = std::span<const uint8_t>(orig);
    auto r = process_image(cut6, ref, o);
    auto w = process_image(whole6, ref, o);
    ASSERT_TRUE(r && w);
    EXPECT_EQ(r->meta["mode"], reference ? "reference" : "predictive") << r->meta["alignment"].dump();
    EXPECT_EQ(r->meta["input"]["orientation"], 6);
    ASSERT_TRUE(r->hdr && w->hdr);
    const int DW = r->hdr->width(), DH = r->hdr->height();  // displayed: DH == W
    ASSERT_EQ(DH, W);
    double bg_max = 0, diff = 0;
    size_t count = 0;
    for (int y = 0; y < DH; ++y)
      for (int x = 0; x < DW; ++x) {
        const size_t i = (size_t(y) * DW + x) * 3 + 1;
        if (y >= W / 2 + 36) bg_max = std::max<double>(bg_max, r->hdr->data()[i]);
        if (y < W / 2 - 36) {
          diff += std::fabs(std::log2((r->hdr->data()[i] + 0.02) / (w->hdr->data()[i] + 0.02)));
          ++count;
        }
      }
    // No gain on the background, shown below the kept band (36 px = 9 map pixels away from
    // the edge: past the 8x8 blocks of the JPEG-coded map, whose ringing can reach that far).
    EXPECT_LT(bg_max, 1.03);
    // Reference mode: the kept band takes the uncut edit's gain exactly; Predictive mode
    // sees a different scene (less of it), so only its order of magnitude is checked.
    EXPECT_LT(diff / double(count), reference ? 0.02 : 0.5);
    if (reference) EXPECT_LT(r->meta["edited_share"].get<double>(), 0.05);
  }
}

// HEIC and AVIF with an alpha plane, as Debian's heif-enc writes them (an auxiliary image:
// HEVC "auxid:1" in HEIC, the MPEG-B URN in AVIF; --premultiplied-alpha adds a 'prem'
// reference). heif-enc comes with the test dependencies (libheif-examples).
TEST(EditedInputs, HeicAndAvifWithAlpha) {
  const int W = 256, H = 192;
  const Image8 rgb = scene_rgb(W, H);
  Image8 rgba(W, H, 4);
  for (size_t i = 0; i < size_t(W) * H; ++i) {
    const bool in = int(i % size_t(W)) < W / 2;
    for (int c = 0; c < 3; ++c) rgba.data()[4 * i + c] = in ? rgb.data()[3 * i + c] : 0;  // also valid premultiplied
    rgba.data()[4 * i + 3] = in ? 255 : 0;
  }
  auto png = encode_png8(rgba);
  ASSERT_TRUE(png);
  const auto dir = test::scratch_dir("heif_alpha");
  const std::string in = (dir / "cut.png").string();
  {
    std::ofstream f(in, std::ios::binary);
    f.write(reinterpret_cast<const char*>(png->data()), std::streamsize(png->size()));
  }
  struct Case {
    const char* name;
    const char* flags;
    bool premultiplied;
  };
  for (const Case& c : {Case{"cut.heic", "", false}, Case{"cut.avif", "-A", false}, Case{"prem.heic", "--premultiplied-alpha", true}}) {
    SCOPED_TRACE(c.name);
    const std::string out = (dir / c.name).string();
    const std::string cmd = std::string("heif-enc -q 90 ") + c.flags + " '" + in + "' -o '" + out + "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "heif-enc (libheif-examples) must be installed: " << cmd;
    std::ifstream f(out, std::ios::binary);
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    auto hf = read_heif(bytes);
    ASSERT_TRUE(hf) << hf.error().message;
    ASSERT_TRUE(hf->alpha.has_value());
    EXPECT_EQ(hf->alpha_premultiplied, c.premultiplied);
    ProcessOptions o;
    o.want_hdr = true;
    auto r = process_image(bytes, std::nullopt, o);
    ASSERT_TRUE(r) << r.error().message;
    // Lossy alpha: about half the frame, give or take the coding noise near the edge.
    const double share = r->meta["input"]["transparent_share"].get<double>();
    EXPECT_GT(share, 0.45);
    EXPECT_LT(share, 0.7);
    auto sdr = decode_jpegr_sdr(r->output);
    ASSERT_TRUE(sdr && r->hdr);
    double bg_max = 0;
    for (int y = 0; y < H; ++y)
      for (int x = W / 2 + 36; x < W; ++x) {
        EXPECT_GE(sdr->data()[(size_t(y) * W + x) * 3], 245) << x << "," << y;
        bg_max = std::max<double>(bg_max, r->hdr->data()[(size_t(y) * W + x) * 3 + 1]);
      }
    EXPECT_LT(bg_max, 1.03);
  }
}

TEST(EditedInputs, TiffEdits) {
  const Image8 rgb = scene_rgb(160, 120);
  // 16-bit RGB (a raw editor's export): reduced to 8 bits, then the base JPEG.
  Image16 wide(160, 120, 3);
  for (size_t i = 0; i < wide.size(); ++i) wide.data()[i] = uint16_t(std::min(65535, rgb.data()[i] * 257 + 100));
  auto tif = encode_tiff16(wide);
  ASSERT_TRUE(tif);
  auto r = process_image(*tif, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(mentions(warnings_of(*r), "16-bit TIFF"));
  auto sdr = decode_jpegr_sdr(r->output);
  ASSERT_TRUE(sdr);
  ASSERT_EQ(sdr->width(), 160);
  double err = 0;
  for (size_t i = 0; i < sdr->size(); ++i) err += std::abs(int(sdr->data()[i]) - int(rgb.data()[i]));
  EXPECT_LT(err / double(sdr->size()), 2.0);  // JPEG q95 of the same pixels

  // A gray 8-bit TIFF works; a float TIFF is HDR and is refused with a reason.
  Image16 g(160, 120, 1);
  const Image8 gray = to_gray(rgb);
  for (size_t i = 0; i < g.size(); ++i) g.data()[i] = uint16_t(gray.data()[i] * 257);
  tif = encode_tiff16(g);
  ASSERT_TRUE(tif);
  EXPECT_TRUE(process_image(*tif, std::nullopt));
  ImageF f(160, 120, 3);
  for (size_t i = 0; i < f.size(); ++i) f.data()[i] = 0.5f;
  auto ftif = encode_tiff_float(f);
  ASSERT_TRUE(ftif);
  auto bad = process_image(*ftif, std::nullopt);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::Unsupported);
  EXPECT_NE(bad.error().message.find("HDR"), std::string::npos);
  // A graded PQ master (16-bit TIFF whose ICC names PQ in its cicp tag) is HDR too.
  auto master = encode_tiff16(wide, make_hdr_icc(HdrIccProfile::HdrP3D65St2084));
  ASSERT_TRUE(master);
  bad = process_image(*master, std::nullopt);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::Unsupported);
  EXPECT_NE(bad.error().message.find("--ref"), std::string::npos);

  // RGBA (ExtraSamples = unassociated alpha): flattened, as a PNG is.
  Image16 rgba16(160, 120, 4);
  for (size_t i = 0; i < size_t(160) * 120; ++i) {
    std::copy_n(wide.data() + 3 * i, 3, rgba16.data() + 4 * i);
    rgba16.data()[4 * i + 3] = i % 160 < 40 ? 0 : 65535;
  }
  tif = encode_tiff16(rgba16);
  ASSERT_TRUE(tif);
  auto dt = decode_tiff(*tif);
  ASSERT_TRUE(dt);
  EXPECT_EQ(dt->extra, TiffImage::Extra::Alpha);
  r = process_image(*tif, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NEAR(r->meta["input"]["transparent_share"].get<double>(), 0.25, 1e-9);
  sdr = decode_jpegr_sdr(r->output);
  ASSERT_TRUE(sdr);
  EXPECT_GE(sdr->data()[3 * (60 * 160 + 10)], 250);
}

TEST(EditedInputs, FlattenStraightAndPremultipliedAlpha) {
  Image8 rgb(3, 1, 3), a(3, 1, 1);
  const uint8_t px[9] = {200, 100, 0, 200, 100, 0, 100, 50, 0};
  std::copy_n(px, 9, rgb.data());
  a.data()[0] = 255;
  a.data()[1] = 0;
  a.data()[2] = 128;
  Image8 straight = rgb;
  flatten_onto(straight, a, {255, 255, 255}, false, 1);
  EXPECT_EQ(straight.data()[0], 200);  // opaque: unchanged
  EXPECT_EQ(straight.data()[3], 255);  // transparent: the background
  EXPECT_EQ(straight.data()[6], (100 * 128 + 127 * 255 + 127) / 255);
  // Premultiplied: colour already scaled by alpha; only the background share is added.
  flatten_onto(rgb, a, {0, 0, 255}, true, 1);
  EXPECT_EQ(rgb.data()[6], 100);
  EXPECT_EQ(rgb.data()[8], (127 * 255 + 127) / 255);
  // Gains fade with the covered alpha: a 2x1 map over 4x1 pixels, alpha 255,255 | 255,0.
  ImageF g(2, 1, 1);
  g.data()[0] = g.data()[1] = 2.f;
  Image8 a4(4, 1, 1);
  a4.data()[0] = a4.data()[1] = a4.data()[2] = 255;
  a4.data()[3] = 0;
  fade_gain_by_alpha(g, a4, 1);
  EXPECT_FLOAT_EQ(g.data()[0], 2.f);
  EXPECT_FLOAT_EQ(g.data()[1], 1.f);
}

TEST(EditedInputs, HlgPngIsNotAnEdit) {
  auto r = process_image(test::corpus_bytes("hdr-source/hdr_room_bt2020_hlg16.png"), std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Unsupported);
  EXPECT_NE(r.error().message.find("HDR"), std::string::npos);
}

TEST(EditedInputs, HeicAndAvifEdits) {
  // A plain SDR iPhone HEIC (no gain map) as the edit: Predictive mode, the displayed picture
  // (HEIF transforms applied) as the base, its Display P3 profile kept.
  const auto heic = test::corpus_bytes("heif/iphone8plus_no_gainmap.heic");
  auto shown = decode_heif_sdr(heic);
  ASSERT_TRUE(shown) << shown.error().message;
  auto r = process_image(heic, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->meta["mode"], "predictive");
  EXPECT_EQ(r->meta["input"]["primaries"], "p3");
  auto sdr = decode_jpegr_sdr(r->output);
  ASSERT_TRUE(sdr);
  ASSERT_EQ(sdr->width(), shown->width());
  ASSERT_EQ(sdr->height(), shown->height());
  // Stored as a 4032x3024 grid with a rotation: the base is the picture as displayed.
  EXPECT_EQ(sdr->width(), 3024);
  EXPECT_EQ(sdr->height(), 4032);
  double err = 0;
  for (size_t i = 0; i < sdr->size(); i += 97) err += std::abs(int(sdr->data()[i]) - int(shown->data()[i]));
  EXPECT_LT(err / double(sdr->size() / 97), 3.0);

  // An AVIF that already has a gain map: replaced, with a warning.
  auto avif = process_image(test::corpus_bytes("heif/seine_sdr_gainmap_srgb.avif"), std::nullopt);
  ASSERT_TRUE(avif) << avif.error().message;
  EXPECT_TRUE(mentions(warnings_of(*avif), "already had a gain map"));

  // A PQ AVIF is HDR: not an edit, and the message says where it belongs.
  auto pq = process_image(test::corpus_bytes("heif/seine_hdr_rec2020.avif"), std::nullopt);
  ASSERT_FALSE(pq);
  EXPECT_EQ(pq.error().code, ErrorCode::Unsupported);
  EXPECT_NE(pq.error().message.find("--ref"), std::string::npos);
}

TEST(EditedInputs, HeicEditWithItsHeicOriginalIsReferenceMode) {
  // The iPhone HEIC as both edit and original: aligned as the identity, nothing edited.
  const auto heic = test::corpus_bytes("heif/iphone15pro_ios18_tmap_rotated.heic");
  auto r = process_image(heic, std::span<const uint8_t>(heic));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->meta["mode"], "reference");
  EXPECT_TRUE(r->meta["alignment"]["trusted"].get<bool>());
  EXPECT_NEAR(r->meta["alignment"]["scale"].get<double>(), 1.0, 1e-3);
  EXPECT_LT(r->meta["edited_share"].get<double>(), 0.01);
  // Its EXIF travels (camera, date), with Orientation 1: the base is written upright.
  auto jr = read_jpegr(r->output);
  ASSERT_TRUE(jr);
  auto info = parse_exif(jr->exif_tiff);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->make, "Apple");
  EXPECT_FALSE(info->date_time_original.empty());
  EXPECT_EQ(info->orientation, 1);
  EXPECT_EQ(jr->orientation, 1);
}

TEST(EditedInputs, TiffOrientationAndPngCicpPrimaries) {
  // A TIFF edit with Orientation 6 (rotate 90 CW to display): the base is written upright.
  const Image8 rgb = scene_rgb(160, 120);
  const std::string path = (test::scratch_dir("edited_orientation") / "orientation6.tif").string();
  {
    TIFF* t = TIFFOpen(path.c_str(), "w");
    ASSERT_TRUE(t);
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 160);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, 120);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 120);
    TIFFSetField(t, TIFFTAG_ORIENTATION, ORIENTATION_RIGHTTOP);
    for (int y = 0; y < 120; ++y) ASSERT_EQ(TIFFWriteScanline(t, const_cast<uint8_t*>(rgb.row(y)), uint32_t(y), 0), 1);
    TIFFClose(t);
  }
  std::ifstream f(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto tif = decode_tiff(bytes);
  ASSERT_TRUE(tif);
  EXPECT_EQ(tif->orientation, 6);
  auto r = process_image(bytes, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  auto sdr = decode_jpegr_sdr(r->output);
  ASSERT_TRUE(sdr);
  EXPECT_EQ(sdr->width(), 120);
  EXPECT_EQ(sdr->height(), 160);

  // An SDR PNG with cICP Display P3 / sRGB transfer and no iCCP: P3, with a P3 profile.
  Image16 wide(64, 48, 3);
  for (size_t i = 0; i < wide.size(); ++i) wide.data()[i] = uint16_t((i * 97) % 65536);
  auto png = encode_png16(wide, Cicp{12, 13, 0, 1});
  ASSERT_TRUE(png);
  auto p3 = process_image(*png, std::nullopt);
  ASSERT_TRUE(p3) << p3.error().message;
  EXPECT_EQ(p3->meta["input"]["primaries"], "p3");
  auto jr = read_jpegr(p3->output);
  ASSERT_TRUE(jr);
  EXPECT_EQ(jr->icc, make_display_icc(Primaries::DisplayP3));
}

namespace {

std::vector<uint8_t> take_webp(uint8_t* data, size_t n) {
  std::vector<uint8_t> v(data, data + n);
  WebPFree(data);
  return v;
}

// A bare WebP bitstream wrapped with ICCP/EXIF chunks (VP8X), as browsers and ImageMagick write.
std::vector<uint8_t> with_chunks(const std::vector<uint8_t>& webp, const std::vector<uint8_t>& icc,
                                 const std::vector<uint8_t>& exif) {
  WebPMux* mux = WebPMuxNew();
  const WebPData img{webp.data(), webp.size()};
  EXPECT_EQ(WebPMuxSetImage(mux, &img, 1), WEBP_MUX_OK);
  if (!icc.empty()) {
    const WebPData d{icc.data(), icc.size()};
    EXPECT_EQ(WebPMuxSetChunk(mux, "ICCP", &d, 1), WEBP_MUX_OK);
  }
  if (!exif.empty()) {
    const WebPData d{exif.data(), exif.size()};
    EXPECT_EQ(WebPMuxSetChunk(mux, "EXIF", &d, 1), WEBP_MUX_OK);
  }
  WebPData out{};
  EXPECT_EQ(WebPMuxAssemble(mux, &out), WEBP_MUX_OK);
  std::vector<uint8_t> v(out.bytes, out.bytes + out.size);
  WebPDataClear(&out);
  WebPMuxDelete(mux);
  return v;
}

double mean_abs_diff(const Image8& a, const Image8& b) {
  EXPECT_EQ(a.size(), b.size());
  double e = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) e += std::abs(int(a.data()[i]) - int(b.data()[i]));
  return e / double(std::max<size_t>(1, a.size()));
}

}  // namespace

TEST(EditedInputs, WebpWithIccAndExifOrientation) {
  // A lossy WebP in Display P3 with EXIF Orientation 6: predictive output, P3 profile kept.
  // Browsers show a WebP as stored whatever the tag says, so that is the picture the output
  // keeps: pixels as stored, EXIF carried with Orientation 1, and a warning.
  const Image8 rgb = scene_rgb(160, 120);
  uint8_t* enc = nullptr;
  const size_t n = WebPEncodeRGB(rgb.data(), 160, 120, 160 * 3, 90.f, &enc);
  ASSERT_GT(n, 0u);
  const auto p3 = make_display_icc(Primaries::DisplayP3);
  const auto webp = with_chunks(take_webp(enc, n), p3, make_orientation_exif(6));
  EXPECT_EQ(sniff_file_type(webp), FileType::Webp);
  auto dec = decode_webp(webp);
  ASSERT_TRUE(dec) << dec.error().message;
  EXPECT_EQ(dec->icc, p3);
  EXPECT_FALSE(dec->had_alpha);
  EXPECT_FALSE(dec->lossless);
  EXPECT_LT(mean_abs_diff(dec->pixels, rgb), 4.0);

  auto r = process_image(webp, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->meta["mode"], "predictive");
  EXPECT_EQ(r->meta["input"]["primaries"], "p3");
  auto jr = read_jpegr(r->output);
  ASSERT_TRUE(jr);
  ASSERT_TRUE(jr->gain_map);
  EXPECT_EQ(jr->orientation, 1);
  EXPECT_FALSE(jr->exif_tiff.empty());
  EXPECT_TRUE(mentions(warnings_of(*r), "Orientation 6 ignored"));
  EXPECT_EQ(jr->icc, p3);
  auto sdr = decode_jpegr_sdr(r->output);  // as displayed
  ASSERT_TRUE(sdr);
  EXPECT_EQ(sdr->width(), 160);
  EXPECT_EQ(sdr->height(), 120);
  EXPECT_LT(mean_abs_diff(*sdr, dec->pixels), 4.0);

  // JPEG's "Exif\0\0" prefix inside the chunk (some writers keep it) is removed.
  std::vector<uint8_t> prefixed{'E', 'x', 'i', 'f', 0, 0};
  const auto tiff = make_orientation_exif(3);
  prefixed.insert(prefixed.end(), tiff.begin(), tiff.end());
  uint8_t* enc2 = nullptr;
  const size_t n2 = WebPEncodeRGB(rgb.data(), 160, 120, 160 * 3, 90.f, &enc2);
  auto dec3 = decode_webp(with_chunks(take_webp(enc2, n2), {}, prefixed));
  ASSERT_TRUE(dec3) << dec3.error().message;
  EXPECT_EQ(dec3->exif, tiff);
}

TEST(EditedInputs, LosslessWebpWithAlpha) {
  // Translucent (never fully transparent) pixels, so lossless keeps every RGB value exactly.
  const Image8 rgb = scene_rgb(97, 61);  // odd sizes
  std::vector<uint8_t> rgba(size_t(97) * 61 * 4);
  for (size_t i = 0; i < size_t(97) * 61; ++i) {
    std::copy_n(rgb.data() + 3 * i, 3, rgba.data() + 4 * i);
    rgba[4 * i + 3] = i % 97 < 30 ? 200 : 255;
  }
  uint8_t* enc = nullptr;
  const size_t n = WebPEncodeLosslessRGBA(rgba.data(), 97, 61, 97 * 4, &enc);
  ASSERT_GT(n, 0u);
  const auto webp = take_webp(enc, n);
  auto dec = decode_webp(webp);
  ASSERT_TRUE(dec) << dec.error().message;
  EXPECT_TRUE(dec->lossless);
  EXPECT_TRUE(dec->had_alpha);
  EXPECT_EQ(mean_abs_diff(dec->pixels, rgb), 0.0);  // lossless: exact
  ASSERT_FALSE(dec->alpha.empty());
  EXPECT_EQ(dec->alpha.data()[0], 200);
  EXPECT_EQ(dec->alpha.data()[40], 255);
  auto r = process_image(webp, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  auto sdr = decode_jpegr_sdr(r->output);
  ASSERT_TRUE(sdr);
  Image8 flat = rgb;  // the translucent columns over white
  for (size_t i = 0; i < size_t(97) * 61; ++i)
    if (i % 97 < 30)
      for (int c = 0; c < 3; ++c) flat.data()[3 * i + c] = uint8_t((rgb.data()[3 * i + c] * 200 + 55 * 255 + 127) / 255);
  EXPECT_LT(mean_abs_diff(*sdr, flat), 4.0);  // the base is a q95 JPEG of a detailed 97x61 scene
  EXPECT_TRUE(mentions(warnings_of(*r), "flattened onto #ffffff"));
}

TEST(EditedInputs, BadWebpIsRefusedCleanly) {
  const Image8 rgb = scene_rgb(64, 48);
  // Animated: refused by name.
  WebPAnimEncoderOptions ao;
  ASSERT_TRUE(WebPAnimEncoderOptionsInit(&ao));
  WebPAnimEncoder* ae = WebPAnimEncoderNew(64, 48, &ao);
  ASSERT_TRUE(ae);
  WebPConfig cfg;
  ASSERT_TRUE(WebPConfigInit(&cfg));
  for (int frame = 0; frame < 2; ++frame) {
    WebPPicture pic;
    ASSERT_TRUE(WebPPictureInit(&pic));
    pic.width = 64;
    pic.height = 48;
    Image8 f = rgb;
    if (frame) for (size_t i = 0; i < f.size(); ++i) f.data()[i] = uint8_t(255 - f.data()[i]);
    ASSERT_TRUE(WebPPictureImportRGB(&pic, f.data(), 64 * 3));
    ASSERT_TRUE(WebPAnimEncoderAdd(ae, &pic, frame * 100, &cfg));
    WebPPictureFree(&pic);
  }
  ASSERT_TRUE(WebPAnimEncoderAdd(ae, nullptr, 200, nullptr));
  WebPData anim{};
  ASSERT_TRUE(WebPAnimEncoderAssemble(ae, &anim));
  const std::vector<uint8_t> animated(anim.bytes, anim.bytes + anim.size);
  WebPDataClear(&anim);
  WebPAnimEncoderDelete(ae);
  auto a = process_image(animated, std::nullopt);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ErrorCode::Unsupported);
  EXPECT_NE(a.error().message.find("animated"), std::string::npos);

  // An EXIF that cannot fit in a JPEG APP1 segment (a 70,000-character Artist): dropped with
  // a warning, the job still succeeds.
  {
    const uint32_t len = 70000;
    std::vector<uint8_t> tiff{'I', 'I', 42, 0, 8, 0, 0, 0,  // header, IFD0 at 8
                              1, 0,                         // one entry
                              0x3B, 0x01, 2, 0,             // Artist, ASCII
                              uint8_t(len), uint8_t(len >> 8), uint8_t(len >> 16), 0,  // count
                              26, 0, 0, 0,                  // value offset
                              0, 0, 0, 0};                  // no next IFD
    tiff.resize(26 + len, 'a');
    tiff.back() = 0;
    uint8_t* e2 = nullptr;
    const size_t n2 = WebPEncodeRGB(rgb.data(), 64, 48, 64 * 3, 80.f, &e2);
    auto r = process_image(with_chunks(take_webp(e2, n2), {}, tiff), std::nullopt);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(mentions(warnings_of(*r), "does not fit in a JPEG"));
  }

  // Over the pixel limit: refused from the header, before decoding.
  uint8_t* enc = nullptr;
  const size_t n = WebPEncodeRGB(rgb.data(), 64, 48, 64 * 3, 80.f, &enc);
  const auto webp = with_chunks(take_webp(enc, n), {}, make_orientation_exif(1));
  Limits small;
  small.max_pixels = 1000;
  auto big = decode_webp(webp, small);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::TooLarge);

  // Cut at every length and with bytes flipped: an error or a picture, never a crash (ASan).
  for (size_t cut = 0; cut < webp.size(); ++cut) {
    auto r = decode_webp(std::span<const uint8_t>(webp.data(), cut));
    if (cut < webp.size() / 2) {
      EXPECT_FALSE(r) << cut;
    }
    if (!r) {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
  std::mt19937 rng(7);
  for (int k = 0; k < 400; ++k) {
    auto bad = webp;
    for (int j = 0; j < 3; ++j) bad[rng() % bad.size()] ^= uint8_t(1u << (rng() % 8));
    // The decoder on every mutation; the whole pipeline (EXIF, ICC, packaging) on some.
    auto r = decode_webp(bad);
    if (!r) {
      EXPECT_FALSE(r.error().message.empty());
    }
    if (k % 20 == 0) {
      auto p = process_image(bad, std::nullopt);
      if (!p) {
        EXPECT_FALSE(p.error().message.empty());
      }
    }
  }
}

TEST(EditedInputs, PngExifOrientationIsCarried) {
  // A PNG edit with an eXIf chunk (macOS and ImageMagick write one) saying Orientation 6:
  // carried into the output's EXIF as a JPEG edit's would be; pixels as stored.
  const Image8 rgb = scene_rgb(80, 60);
  auto png = encode_png8(rgb);
  ASSERT_TRUE(png);
  const auto tiff = make_orientation_exif(6);
  const auto chunk = png_chunk("eXIf", tiff);
  const std::vector<uint8_t> bytes = png_with_exif(*png, tiff);
  auto dec = decode_png(bytes);
  ASSERT_TRUE(dec) << dec.error().message;
  EXPECT_EQ(dec->exif, tiff);
  auto r = process_image(bytes, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  auto jr = read_jpegr(r->output);
  ASSERT_TRUE(jr);
  EXPECT_EQ(jr->orientation, 6);
  EXPECT_EQ(jr->primary.width, 80);
  EXPECT_EQ(r->meta["input"]["orientation"], 6);

  // The same chunk after IDAT (where ImageMagick writes it): the EXIF is carried, but browsers
  // do not read a late eXIf, so the picture is as stored and the tag says 1.
  std::vector<uint8_t> late(png->begin(), png->end());
  late.insert(late.end() - 12, chunk.begin(), chunk.end());  // before IEND
  auto dec8 = decode_png8(late, 3);
  ASSERT_TRUE(dec8) << dec8.error().message;
  EXPECT_TRUE(dec8->exif_after_idat);
  EXPECT_EQ(dec8->exif, tiff);
  auto dec16 = decode_png(late);
  ASSERT_TRUE(dec16);
  EXPECT_TRUE(dec16->exif.empty());  // decode_png keeps what browsers read
  r = process_image(late, std::nullopt);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->meta["input"]["orientation"], 1);
  EXPECT_TRUE(mentions(warnings_of(*r), "after the image data"));
  jr = read_jpegr(r->output);
  ASSERT_TRUE(jr);
  EXPECT_EQ(jr->orientation, 1);
  EXPECT_FALSE(jr->exif_tiff.empty());
  // A damaged tail (a chunk length past the end) yields no EXIF and no error.
  std::vector<uint8_t> cut(late.begin(), late.end() - 12 - 6);
  dec8 = decode_png8(cut, 3);
  ASSERT_TRUE(dec8) << dec8.error().message;  // the pixels are whole
  EXPECT_TRUE(dec8->exif.empty());
  // A late eXIf in JPEG's APP1 form ("Exif\0\0" + TIFF) is read as its TIFF stream.
  std::vector<uint8_t> prefixed = {'E', 'x', 'i', 'f', 0, 0};
  prefixed.insert(prefixed.end(), tiff.begin(), tiff.end());
  const auto chunk2 = png_chunk("eXIf", prefixed);
  std::vector<uint8_t> late2(png->begin(), png->end());
  late2.insert(late2.end() - 12, chunk2.begin(), chunk2.end());
  dec8 = decode_png8(late2, 3);
  ASSERT_TRUE(dec8) << dec8.error().message;
  EXPECT_EQ(dec8->exif, tiff);
}
