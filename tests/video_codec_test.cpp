// HEVC / AV1 still-image coding (x265, libde265, libaom, dav1d) and RGB <-> YCbCr:
// round trips of a synthetic photo-like pattern, the hvcC / av1C records, colour signalling,
// hostile inputs, concurrency.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "codec/av1_syntax.h"
#include "codec/hevc_syntax.h"
#include "regain/video.h"
#include "test_support.h"
#include "util/bytes.h"

using namespace regain;

namespace {

// Photo-like RGB at `bit_depth`: smooth gradients, a soft vignette, hard-edged shapes,
// a band of fine texture and a little deterministic noise.
Image16 test_pattern(int w, int h, int bit_depth, int channels = 3) {
  Image16 img(w, h, channels);
  const float maxv = float((1 << bit_depth) - 1);
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> noise(-0.004f, 0.004f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float u = (x + 0.5f) / w, v = (y + 0.5f) / h;
      float vig = 1.f - 0.35f * ((u - 0.5f) * (u - 0.5f) + (v - 0.5f) * (v - 0.5f));
      float rgb[3] = {0.15f + 0.7f * u, 0.2f + 0.6f * v, 0.5f + 0.3f * std::sin(6.f * u + 3.f * v)};
      float dx = u - 0.3f, dy = v - 0.4f;
      if (dx * dx + dy * dy < 0.02f) rgb[0] = 0.9f, rgb[1] = 0.25f, rgb[2] = 0.1f;  // red disc
      if (u > 0.6f && u < 0.85f && v > 0.55f && v < 0.8f) rgb[0] = rgb[1] = rgb[2] = 0.08f;
      if (u > 0.62f && u < 0.7f && v > 0.15f && v < 0.45f) rgb[0] = rgb[1] = rgb[2] = 0.95f;
      if (v > 0.85f) {  // fine texture band
        float t = 0.5f + 0.25f * std::sin(0.9f * x) * std::sin(0.7f * y);
        rgb[0] = rgb[1] = t, rgb[2] = 0.8f * t;
      }
      for (int c = 0; c < channels; ++c) {
        float val = (channels == 1 ? 0.3f * rgb[0] + 0.6f * rgb[1] + 0.1f * rgb[2] : rgb[c]) * vig + noise(rng);
        img.at(x, y, c) = uint16_t(std::lround(std::clamp(val, 0.f, 1.f) * maxv));
      }
    }
  return img;
}

YuvImage test_yuv(int w, int h, int bit_depth, Chroma chroma, bool full_range = true) {
  auto rgb = test_pattern(w, h, bit_depth, chroma == Chroma::Mono ? 1 : 3);
  auto yuv = rgb_to_yuv(rgb, bit_depth, chroma, 1, full_range);
  EXPECT_TRUE(yuv) << yuv.error().message;
  return std::move(*yuv);
}

double psnr(const Image16& a, const Image16& b, int bit_depth) {
  EXPECT_EQ(a.width(), b.width());
  EXPECT_EQ(a.height(), b.height());
  double se = 0;
  size_t n = 0;
  for (int y = 0; y < std::min(a.height(), b.height()); ++y)
    for (int x = 0; x < std::min(a.width(), b.width()); ++x) {
      double d = double(a.at(x, y)) - double(b.at(x, y));
      se += d * d;
      ++n;
    }
  double peak = double((1 << bit_depth) - 1);
  return se == 0 ? 99.0 : 10 * std::log10(peak * peak * n / se);
}

// Cuts the padding a codec added (HEVC 4:2:0 odd sizes) so planes can be compared.
YuvImage crop_to(const YuvImage& in, int w, int h) {
  YuvImage out = in;
  out.width = w;
  out.height = h;
  int sx = in.chroma == Chroma::Yuv420 || in.chroma == Chroma::Yuv422, sy = in.chroma == Chroma::Yuv420;
  for (int c = 0; c < (in.chroma == Chroma::Mono ? 1 : 3); ++c) {
    int pw = c ? (w + sx) >> sx : w, ph = c ? (h + sy) >> sy : h;
    Image16 p(pw, ph, 1);
    for (int y = 0; y < ph; ++y) std::memcpy(p.row(y), in.planes[c].row(y), size_t(pw) * 2);
    out.planes[c] = std::move(p);
  }
  return out;
}

struct Psnr {
  double y = 0, c = 99;
};
Psnr compare(const YuvImage& a, const YuvImage& b) {
  Psnr p;
  p.y = psnr(a.planes[0], b.planes[0], a.bit_depth);
  if (a.chroma != Chroma::Mono)
    p.c = std::min(psnr(a.planes[1], b.planes[1], a.bit_depth), psnr(a.planes[2], b.planes[2], a.bit_depth));
  return p;
}

enum class Codec { Hevc, Av1 };
Result<CodedItem> encode(Codec c, const YuvImage& img, const VideoEncodeOptions& opt) {
  return c == Codec::Hevc ? encode_hevc_item(img, opt) : encode_av1_item(img, opt);
}
Result<YuvImage> decode(Codec c, const CodedItem& item, const Limits& limits = {}) {
  return c == Codec::Hevc ? decode_hevc_item(item.config, item.data, limits)
                          : decode_av1_item(item.config, item.data, limits);
}

// Encodes at quality 90, decodes, checks format and PSNR against the input.
void round_trip(Codec codec, int w, int h, int bit_depth, Chroma chroma, double min_y, double min_c) {
  YuvImage in = test_yuv(w, h, bit_depth, chroma);
  VideoEncodeOptions opt;
  opt.quality = 90;
  opt.nclx = {1, 13, 1, true};
  auto item = encode(codec, in, opt);
  ASSERT_TRUE(item) << item.error().message;
  auto out = decode(codec, *item);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->width, item->width);
  EXPECT_EQ(out->height, item->height);
  ASSERT_GE(out->width, w);
  ASSERT_GE(out->height, h);
  EXPECT_LE(out->width, w + 1);
  EXPECT_LE(out->height, h + 1);
  EXPECT_EQ(out->bit_depth, bit_depth);
  EXPECT_EQ(out->chroma, chroma);
  EXPECT_TRUE(out->full_range);
  ASSERT_TRUE(validate_yuv(*out));
  Psnr p = compare(in, crop_to(*out, w, h));
  double bpp = 8.0 * item->data.size() / (double(w) * h);
  std::printf("  %s %dx%d %d-bit chroma %d: %zu bytes (%.2f bpp), PSNR Y %.2f dB, chroma %.2f dB\n",
              codec == Codec::Hevc ? "HEVC" : "AV1", w, h, bit_depth, int(chroma), item->data.size(), bpp, p.y, p.c);
  EXPECT_GE(p.y, min_y);
  EXPECT_GE(p.c, min_c);
}

}  // namespace

// ------------------------------------------------------------------------------ HEVC

TEST(VideoHevc, RoundTrip8bit420) { round_trip(Codec::Hevc, 256, 192, 8, Chroma::Yuv420, 40, 40); }
TEST(VideoHevc, RoundTrip10bit420) { round_trip(Codec::Hevc, 256, 192, 10, Chroma::Yuv420, 40, 40); }
TEST(VideoHevc, RoundTrip10bit444) { round_trip(Codec::Hevc, 256, 192, 10, Chroma::Yuv444, 40, 40); }
TEST(VideoHevc, RoundTrip12bit422) { round_trip(Codec::Hevc, 256, 192, 12, Chroma::Yuv422, 40, 40); }
TEST(VideoHevc, RoundTripMono8bit) { round_trip(Codec::Hevc, 256, 192, 8, Chroma::Mono, 40, 99); }
TEST(VideoHevc, RoundTripOddSize420) { round_trip(Codec::Hevc, 333, 201, 8, Chroma::Yuv420, 40, 40); }
TEST(VideoHevc, RoundTripOddSizeMono) { round_trip(Codec::Hevc, 333, 201, 8, Chroma::Mono, 40, 99); }

// ------------------------------------------------------------------------------ AV1

TEST(VideoAv1, RoundTrip8bit420) { round_trip(Codec::Av1, 256, 192, 8, Chroma::Yuv420, 40, 40); }
TEST(VideoAv1, RoundTrip10bit420) { round_trip(Codec::Av1, 256, 192, 10, Chroma::Yuv420, 40, 40); }
TEST(VideoAv1, RoundTrip10bit444) { round_trip(Codec::Av1, 256, 192, 10, Chroma::Yuv444, 40, 40); }
TEST(VideoAv1, RoundTrip12bit422) { round_trip(Codec::Av1, 256, 192, 12, Chroma::Yuv422, 40, 40); }
TEST(VideoAv1, RoundTripMono8bit) { round_trip(Codec::Av1, 256, 192, 8, Chroma::Mono, 40, 99); }
TEST(VideoAv1, RoundTripOddSize420) { round_trip(Codec::Av1, 333, 201, 8, Chroma::Yuv420, 40, 40); }

// ------------------------------------------------------------------------------ helpers

namespace {

// MSB-first writer for hand-made headers (RBSP trailing bits on finish).
struct BitWriter {
  std::vector<uint8_t> out;
  int used = 8;
  void put(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) {
      if (used == 8) out.push_back(0), used = 0;
      out.back() |= uint8_t(((v >> i) & 1) << (7 - used++));
    }
  }
  void ue(uint32_t v) {
    uint64_t x = uint64_t(v) + 1;
    int n = 0;
    while ((x >> n) > 1) ++n;
    put(0, n);
    put(x, n + 1);
  }
  std::vector<uint8_t> finish() {
    put(1, 1);
    return out;
  }
};

// HEVC emulation prevention for a hand-made NAL payload.
Bytes escape_rbsp(const Bytes& rbsp) {
  Bytes out;
  int zeros = 0;
  for (uint8_t b : rbsp) {
    if (zeros >= 2 && b <= 3) out.push_back(3), zeros = 0;
    out.push_back(b);
    zeros = b == 0 ? zeros + 1 : 0;
  }
  return out;
}

// A minimal SPS (Main, 4:2:0, 8-bit) declaring width x height; nothing after the bit depths.
Bytes fake_sps(uint32_t width, uint32_t height) {
  BitWriter w;
  w.put(0, 4);           // sps_video_parameter_set_id
  w.put(0, 3);           // sps_max_sub_layers_minus1
  w.put(1, 1);           // temporal_id_nesting
  w.put(0x01, 8);        // profile space/tier/idc: Main
  w.put(0x60000000, 32); // compatibility flags
  w.put(0x900000000000ull, 48);
  w.put(90, 8);          // level 3
  w.ue(0);               // sps_seq_parameter_set_id
  w.ue(1);               // chroma_format_idc
  w.ue(width);
  w.ue(height);
  w.put(0, 1);           // conformance_window_flag
  w.ue(0);
  w.ue(0);
  Bytes nal = {0x42, 0x01};
  Bytes body = escape_rbsp(w.finish());
  nal.insert(nal.end(), body.begin(), body.end());
  return nal;
}

// Replaces the hvcC's parameter sets with `sps` (VPS and PPS kept).
Bytes hvcc_with_sps(const Bytes& hvcc, const Bytes& sps) {
  auto parsed = hevc::parse_hvcc(hvcc);
  EXPECT_TRUE(parsed);
  std::vector<Bytes> vps, pps;
  for (ByteView n : parsed->nals) {
    if (hevc::nal_type(n) == hevc::kVps) vps.emplace_back(n.begin(), n.end());
    if (hevc::nal_type(n) == hevc::kPps) pps.emplace_back(n.begin(), n.end());
  }
  hevc::Sps s;
  s.general_ptl = {0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 90};
  return hevc::build_hvcc(s, vps, {sps}, pps);
}

// Item NAL units of HEVC data with 4-byte lengths.
std::vector<Bytes> split_nals(const Bytes& data) {
  std::vector<Bytes> out;
  for (size_t p = 0; p + 4 <= data.size();) {
    size_t n = size_t(data[p]) << 24 | size_t(data[p + 1]) << 16 | size_t(data[p + 2]) << 8 | data[p + 3];
    out.emplace_back(data.begin() + p + 4, data.begin() + p + 4 + n);
    p += 4 + n;
  }
  return out;
}
Bytes join_nals(const std::vector<Bytes>& nals, int length_size) {
  Bytes out;
  for (const Bytes& n : nals) {
    for (int i = length_size - 1; i >= 0; --i) out.push_back(uint8_t(n.size() >> (8 * i)));
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

Bytes leb128(size_t v) {
  Bytes out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(uint8_t(b | (v ? 0x80 : 0)));
  } while (v);
  return out;
}
// An OBU with a size field around `payload`.
Bytes make_obu(int type, const Bytes& payload) {
  Bytes out = {uint8_t(type << 3 | 2)};
  Bytes size = leb128(payload.size());
  out.insert(out.end(), size.begin(), size.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

CodedItem small_item(Codec codec, Chroma chroma = Chroma::Yuv420, int bit_depth = 8) {
  VideoEncodeOptions opt;
  opt.effort = 2;
  auto item = encode(codec, test_yuv(96, 64, bit_depth, chroma), opt);
  EXPECT_TRUE(item) << item.error().message;
  return item ? std::move(*item) : CodedItem{};
}

}  // namespace

// ------------------------------------------------------------------------------ RGB <-> YUV

TEST(VideoYuv, KnownValues) {
  Image16 px(2, 1, 3);
  const uint16_t white[3] = {255, 255, 255}, red[3] = {255, 0, 0};
  std::memcpy(&px.at(0, 0), white, 6);
  std::memcpy(&px.at(1, 0), red, 6);
  auto full = rgb_to_yuv(px, 8, Chroma::Yuv444, 1, true);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->planes[0].at(0, 0), 255);
  EXPECT_EQ(full->planes[1].at(0, 0), 128);
  EXPECT_EQ(full->planes[2].at(0, 0), 128);
  // BT.601 video range red: the textbook (81, 90, 240).
  auto lim = rgb_to_yuv(px, 8, Chroma::Yuv444, 6, false);
  ASSERT_TRUE(lim);
  EXPECT_EQ(lim->planes[0].at(0, 0), 235);
  EXPECT_EQ(lim->planes[0].at(1, 0), 81);
  EXPECT_EQ(lim->planes[1].at(1, 0), 90);
  EXPECT_EQ(lim->planes[2].at(1, 0), 240);
  // 10-bit video range white / black levels.
  Image16 px10(1, 1, 3);
  px10.fill(1023);
  auto l10 = rgb_to_yuv(px10, 10, Chroma::Yuv444, 9, false);
  EXPECT_EQ(l10->planes[0].at(0, 0), 940);
  EXPECT_EQ(l10->planes[1].at(0, 0), 512);
  // Identity (GBR): planes are G, B, R.
  auto gbr = rgb_to_yuv(px, 8, Chroma::Yuv444, 0, true);
  EXPECT_EQ(gbr->planes[0].at(1, 0), 0);
  EXPECT_EQ(gbr->planes[1].at(1, 0), 0);
  EXPECT_EQ(gbr->planes[2].at(1, 0), 255);
}

TEST(VideoYuv, RoundTripErrorPerMatrixAndRange) {
  // 4:4:4 so that only quantisation to YCbCr codes is measured.
  for (int bd : {8, 10, 12})
    for (uint16_t m : {0, 1, 2, 5, 6, 9})
      for (bool full : {true, false}) {
        Image16 rgb = test_pattern(67, 45, bd);
        auto yuv = rgb_to_yuv(rgb, bd, Chroma::Yuv444, m, full);
        ASSERT_TRUE(yuv) << yuv.error().message;
        Image16 back = yuv_to_rgb(*yuv, m);
        ASSERT_EQ(back.channels(), 3);
        int worst = 0;
        for (size_t i = 0; i < rgb.size(); ++i) worst = std::max(worst, std::abs(int(rgb.data()[i]) - back.data()[i]));
        // Full range loses well under a code; video range squeezes 2^n codes into 219/255 of
        // them (and chroma differences into 224/255), so up to 2 codes per channel.
        int bound = full ? (m == 0 ? 0 : 1) : 2;
        EXPECT_LE(worst, bound) << "bit depth " << bd << " matrix " << m << (full ? " full" : " limited");
      }
}

TEST(VideoYuv, SubsampledChromaOddSizes) {
  for (Chroma c : {Chroma::Yuv420, Chroma::Yuv422})
    for (auto [w, h] : {std::pair{333, 201}, std::pair{1, 1}, std::pair{2, 3}, std::pair{5, 1}}) {
      // A flat colour survives subsampling exactly (up to rounding) at every edge.
      Image16 flat(w, h, 3);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) flat.at(x, y, 0) = 200, flat.at(x, y, 1) = 90, flat.at(x, y, 2) = 30;
      auto yuv = rgb_to_yuv(flat, 8, c, 1, true);
      ASSERT_TRUE(yuv);
      ASSERT_TRUE(validate_yuv(*yuv));
      EXPECT_EQ(yuv->planes[1].width(), (w + 1) / 2);
      EXPECT_EQ(yuv->planes[1].height(), c == Chroma::Yuv420 ? (h + 1) / 2 : h);
      Image16 back = yuv_to_rgb(*yuv, 1);
      int worst = 0;
      for (size_t i = 0; i < flat.size(); ++i) worst = std::max(worst, std::abs(int(flat.data()[i]) - back.data()[i]));
      EXPECT_LE(worst, 1) << w << "x" << h;
    }
  // A smooth image loses little through 4:2:0 and bilinear upsampling.
  Image16 smooth(333, 201, 3);
  for (int y = 0; y < 201; ++y)
    for (int x = 0; x < 333; ++x)
      for (int k = 0; k < 3; ++k) smooth.at(x, y, k) = uint16_t(512 + 1500 * std::sin(0.01 * x * (k + 1) + 0.013 * y) + 1500);
  auto yuv = rgb_to_yuv(smooth, 12, Chroma::Yuv420, 9, false);
  ASSERT_TRUE(yuv);
  Image16 back = yuv_to_rgb(*yuv, 9);
  double se = 0;
  for (size_t i = 0; i < smooth.size(); ++i) se += std::pow(double(smooth.data()[i]) - back.data()[i], 2);
  double rms = std::sqrt(se / smooth.size());
  EXPECT_LT(rms, 2.0);  // of 4095
}

TEST(VideoYuv, ChromaSitingIsCentred) {
  // A vertical edge between columns 3|4 (a chroma block boundary): with centre siting the
  // reconstruction is symmetric around it, 1/4 of the step leaking to each side.
  Image16 img(8, 2, 3);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 8; ++x)
      for (int k = 0; k < 3; ++k) img.at(x, y, k) = k == 0 ? (x < 4 ? 0 : 200) : 100;
  auto yuv = rgb_to_yuv(img, 8, Chroma::Yuv422, 6, true);
  Image16 back = yuv_to_rgb(*yuv, 6);
  // Blue depends only on Y and Cb; compare distances from the truth on both sides.
  int left = std::abs(back.at(3, 0, 2) - 100), right = std::abs(back.at(4, 0, 2) - 100);
  EXPECT_NEAR(left, right, 1);
  EXPECT_EQ(back.at(0, 0, 2), back.at(1, 0, 2));  // far from the edge: untouched
}

TEST(VideoYuv, MonoAndGray) {
  Image16 gray = test_pattern(31, 17, 10, 1);
  auto yuv = rgb_to_yuv(gray, 10, Chroma::Yuv420, 1, false);
  ASSERT_TRUE(yuv);
  EXPECT_EQ(yuv->chroma, Chroma::Mono);
  EXPECT_TRUE(yuv->planes[1].empty());
  Image16 back = yuv_to_rgb(*yuv, 1);
  ASSERT_EQ(back.channels(), 1);
  for (size_t i = 0; i < gray.size(); ++i) ASSERT_LE(std::abs(int(gray.data()[i]) - back.data()[i]), 1);
  // RGB asked as Mono keeps luma only.
  auto y_only = rgb_to_yuv(test_pattern(8, 8, 8), 8, Chroma::Mono, 1, true);
  ASSERT_TRUE(y_only);
  EXPECT_EQ(yuv_to_rgb(*y_only, 1).channels(), 1);
}

TEST(VideoYuv, RejectsBadInput) {
  Image16 rgb = test_pattern(4, 4, 8);
  EXPECT_FALSE(rgb_to_yuv(rgb, 8, Chroma::Yuv420, 0, true));   // identity needs 4:4:4
  EXPECT_FALSE(rgb_to_yuv(rgb, 8, Chroma::Yuv444, 14, true));  // ICtCp not implemented
  EXPECT_FALSE(rgb_to_yuv(rgb, 7, Chroma::Yuv444, 1, true));
  EXPECT_FALSE(rgb_to_yuv(Image16(4, 4, 2), 8, Chroma::Yuv444, 1, true));
  EXPECT_FALSE(rgb_to_yuv(Image16(), 8, Chroma::Yuv444, 1, true));
  EXPECT_TRUE(yuv_matrix_supported(9));
  EXPECT_FALSE(yuv_matrix_supported(10));
  YuvImage bad = test_yuv(8, 8, 8, Chroma::Yuv420);
  bad.planes[1] = Image16(3, 4, 1);
  EXPECT_FALSE(validate_yuv(bad));
  EXPECT_TRUE(yuv_to_rgb(bad, 1).empty());
  EXPECT_FALSE(encode_hevc_item(bad));
  EXPECT_FALSE(encode_av1_item(bad));
}

// ------------------------------------------------------------------------------ records

TEST(VideoHevc, HvccRecordAndItemData) {
  struct Case {
    int bd;
    Chroma chroma;
    int profile_idc;
  } cases[] = {{8, Chroma::Yuv420, 1}, {10, Chroma::Yuv420, 2}, {10, Chroma::Yuv444, 4}, {8, Chroma::Mono, 4}};
  // Main and Main 10 (not Main Still Picture / RExt intra variants) for the common formats.
  for (const Case& c : cases) {
    CodedItem item = small_item(Codec::Hevc, c.chroma, c.bd);
    const Bytes& h = item.config;
    ASSERT_GT(h.size(), 23u);
    EXPECT_EQ(h[0], 1);                                       // configurationVersion
    EXPECT_EQ(h[1] & 0x1f, c.profile_idc);                    // general_profile_idc
    EXPECT_NE(h[2] & (0x80 >> c.profile_idc), 0);             // its compatibility flag
    EXPECT_EQ(h[16] & 3, int(c.chroma));                      // chromaFormat
    EXPECT_EQ((h[17] & 7) + 8, c.bd);                         // bitDepthLuma
    EXPECT_EQ((h[18] & 7) + 8, c.bd);                         // bitDepthChroma
    EXPECT_EQ(h[21] & 3, 3);                                  // lengthSizeMinusOne
    EXPECT_EQ(h[22], 3);                                      // VPS, SPS, PPS arrays
    auto parsed = hevc::parse_hvcc(h);
    ASSERT_TRUE(parsed);
    ASSERT_EQ(parsed->nals.size(), 3u);
    auto sps = hevc::parse_sps(parsed->nals[1]);
    ASSERT_TRUE(sps);
    // The record's 12 profile/tier/level bytes are the SPS's.
    EXPECT_TRUE(std::equal(sps->general_ptl.begin(), sps->general_ptl.end(), h.begin() + 1));
    EXPECT_EQ(sps->width, 96u);
    EXPECT_EQ(sps->height, 64u);
    // Item data: only slices (no parameter sets, AUD or SEI), 4-byte lengths covering it all.
    for (const Bytes& nal : split_nals(item.data)) EXPECT_LT(hevc::nal_type(nal), 32);
    EXPECT_EQ(join_nals(split_nals(item.data), 4), item.data);
  }
}

TEST(VideoHevc, SignalsColourRangeAndChromaLocation) {
  for (bool full : {true, false}) {
    YuvImage in = test_yuv(64, 64, 10, Chroma::Yuv420, full);
    VideoEncodeOptions opt;
    opt.nclx = {9, 16, 9, full};
    auto item = encode_hevc_item(in, opt);
    ASSERT_TRUE(item) << item.error().message;
    auto sps = hevc::parse_sps(hevc::parse_hvcc(item->config)->nals[1]);
    ASSERT_TRUE(sps);
    EXPECT_TRUE(sps->vui_parsed);
    EXPECT_TRUE(sps->signal_type_present);
    EXPECT_EQ(sps->full_range, full);
    EXPECT_EQ(sps->primaries, 9);
    EXPECT_EQ(sps->transfer, 16);
    EXPECT_EQ(sps->matrix, 9);
    auto out = decode_hevc_item(item->config, item->data);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->full_range, full);
  }
  // The nclx written must describe the samples given.
  VideoEncodeOptions opt;
  opt.nclx.full_range = true;
  EXPECT_FALSE(encode_hevc_item(test_yuv(16, 16, 8, Chroma::Yuv420, false), opt));
}

TEST(VideoAv1, Av1cRecordAndItemData) {
  struct Case {
    int bd;
    Chroma chroma;
    int profile;
  } cases[] = {{8, Chroma::Yuv420, 0}, {10, Chroma::Yuv444, 1}, {12, Chroma::Yuv420, 2}, {8, Chroma::Mono, 0}};
  for (const Case& c : cases) {
    CodedItem item = small_item(Codec::Av1, c.chroma, c.bd);
    const Bytes& a = item.config;
    ASSERT_GT(a.size(), 4u);
    EXPECT_EQ(a[0], 0x81);
    EXPECT_EQ(a[1] >> 5, c.profile);
    EXPECT_EQ((a[2] >> 6) & 1, c.bd > 8 ? 1 : 0);                  // high_bitdepth
    EXPECT_EQ((a[2] >> 5) & 1, c.bd == 12 ? 1 : 0);                // twelve_bit
    EXPECT_EQ((a[2] >> 4) & 1, c.chroma == Chroma::Mono ? 1 : 0);  // monochrome
    int ss = c.chroma == Chroma::Yuv444 ? 0 : 1;
    EXPECT_EQ((a[2] >> 3) & 1, ss);
    EXPECT_EQ((a[2] >> 2) & 1, ss);
    EXPECT_EQ(a[3], 0);
    // configOBUs = the sequence header, which is also the first OBU of the item data.
    auto cfg = av1::split_obus(ByteView(a).subspan(4));
    ASSERT_TRUE(cfg);
    ASSERT_EQ(cfg->size(), 1u);
    EXPECT_EQ((*cfg)[0].type, av1::kSequenceHeader);
    auto seq = av1::parse_sequence_header((*cfg)[0].payload);
    ASSERT_TRUE(seq);
    EXPECT_TRUE(seq->still_picture);
    EXPECT_EQ(seq->level_idx0, a[1] & 0x1f);
    EXPECT_EQ(seq->max_width, 96u);
    EXPECT_EQ(seq->max_height, 64u);
    EXPECT_EQ(seq->bit_depth, c.bd);
    auto obus = av1::split_obus(item.data);
    ASSERT_TRUE(obus);
    ASSERT_GE(obus->size(), 2u);
    EXPECT_EQ((*obus)[0].type, av1::kSequenceHeader);
    for (const auto& o : *obus) EXPECT_NE(o.type, av1::kTemporalDelimiter);
  }
}

TEST(VideoAv1, SignalsColourAndRange) {
  for (bool full : {true, false}) {
    VideoEncodeOptions opt;
    opt.nclx = {9, 16, 9, full};
    auto item = encode_av1_item(test_yuv(64, 48, 10, Chroma::Yuv420, full), opt);
    ASSERT_TRUE(item) << item.error().message;
    auto seq = av1::parse_sequence_header(av1::split_obus(ByteView(item->config).subspan(4))->front().payload);
    ASSERT_TRUE(seq);
    EXPECT_EQ(seq->primaries, 9);
    EXPECT_EQ(seq->transfer, 16);
    EXPECT_EQ(seq->matrix, 9);
    EXPECT_EQ(seq->full_range, full);
    auto out = decode_av1_item(item->config, item->data);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->full_range, full);
  }
}

TEST(VideoAv1, SequenceHeaderOnlyInAv1c) {
  CodedItem item = small_item(Codec::Av1);
  auto obus = av1::split_obus(item.data);
  ASSERT_TRUE(obus);
  Bytes frames;
  for (const auto& o : *obus)
    if (o.type != av1::kSequenceHeader) frames.insert(frames.end(), o.whole.begin(), o.whole.end());
  auto out = decode_av1_item(item.config, frames);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->width, 96);
}

TEST(VideoCodec, QualityControlsSizeAndError) {
  YuvImage in = test_yuv(128, 96, 8, Chroma::Yuv420);
  for (Codec codec : {Codec::Hevc, Codec::Av1}) {
    size_t last_size = 0;
    double last_psnr = 0;
    for (int q : {30, 60, 90, 100}) {
      VideoEncodeOptions opt;
      opt.quality = q;
      auto item = encode(codec, in, opt);
      ASSERT_TRUE(item);
      auto out = decode(codec, *item);
      ASSERT_TRUE(out);
      double p = compare(in, *out).y;
      EXPECT_GT(item->data.size(), last_size) << "quality " << q;
      EXPECT_GT(p, last_psnr) << "quality " << q;
      last_size = item->data.size();
      last_psnr = p;
    }
    EXPECT_GT(last_psnr, codec == Codec::Av1 ? 98.0 : 55.0);  // q100: AV1 lossless, HEVC QP 0
  }
  // 10-bit q100: HEVC goes below QP 0 (to -12).
  YuvImage in10 = test_yuv(64, 64, 10, Chroma::Yuv420);
  VideoEncodeOptions best;
  best.quality = 100;
  auto item = encode_hevc_item(in10, best);
  ASSERT_TRUE(item) << item.error().message;
  auto out = decode_hevc_item(item->config, item->data);
  ASSERT_TRUE(out);
  EXPECT_GT(compare(in10, *out).y, 60);
}

TEST(VideoCodec, EffortRangeAndThreads) {
  YuvImage in = test_yuv(160, 120, 8, Chroma::Yuv420);
  for (Codec codec : {Codec::Hevc, Codec::Av1})
    for (int effort : {0, 9}) {
      VideoEncodeOptions opt;
      opt.effort = effort;
      opt.threads = 1;
      auto item = encode(codec, in, opt);
      ASSERT_TRUE(item) << item.error().message;
      auto out = decode(codec, *item);
      ASSERT_TRUE(out);
      EXPECT_GT(compare(in, *out).y, 38);
    }
}

TEST(VideoCodec, ConcurrentEncodesAndDecodes) {
  // Encoders with different presets (x265: different default CTU sizes) at once.
  YuvImage in = test_yuv(128, 128, 8, Chroma::Yuv420);
  std::vector<std::thread> pool;
  std::vector<int> ok(8, 0);
  for (int t = 0; t < 8; ++t)
    pool.emplace_back([&, t] {
      Codec codec = t % 2 ? Codec::Av1 : Codec::Hevc;
      VideoEncodeOptions opt;
      opt.effort = t;
      opt.threads = 1;
      for (int i = 0; i < 2; ++i) {
        auto item = encode(codec, in, opt);
        if (!item) return;
        auto out = decode(codec, *item);
        if (!out || compare(in, *out).y < 38) return;
      }
      ok[t] = 1;
    });
  for (auto& th : pool) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(ok[t], 1) << "thread " << t;
}

TEST(VideoCodec, RejectsUnsupportedEncodes) {
  YuvImage in = test_yuv(16, 16, 8, Chroma::Yuv420);
  in.bit_depth = 9;
  EXPECT_FALSE(encode_hevc_item(in));
  EXPECT_FALSE(encode_av1_item(in));
  VideoEncodeOptions limited;
  limited.nclx.full_range = false;
  EXPECT_FALSE(encode_av1_item(test_yuv(16, 16, 8, Chroma::Yuv420, true), limited));
  VideoEncodeOptions bad_nclx;
  bad_nclx.nclx.matrix = 300;
  EXPECT_FALSE(encode_hevc_item(test_yuv(16, 16, 8, Chroma::Yuv420), bad_nclx));
  EXPECT_FALSE(encode_av1_item(test_yuv(16, 16, 8, Chroma::Yuv420), bad_nclx));
}

// ------------------------------------------------------------------------------ hostile input

TEST(VideoHevc, LengthSizesOneTwoFour) {
  CodedItem item = small_item(Codec::Hevc);
  auto nals = split_nals(item.data);
  for (int ls : {2, 4}) {  // slices of this tiny picture fit 2 bytes; 1 byte only if < 256
    Bytes cfg = item.config;
    cfg[21] = uint8_t((cfg[21] & ~3) | (ls - 1));
    auto out = decode_hevc_item(cfg, join_nals(nals, ls));
    ASSERT_TRUE(out) << "length size " << ls << ": " << out.error().message;
    EXPECT_EQ(out->width, 96);
  }
  bool small = std::all_of(nals.begin(), nals.end(), [](const Bytes& n) { return n.size() < 256; });
  if (small) {
    Bytes cfg = item.config;
    cfg[21] &= ~3;
    EXPECT_TRUE(decode_hevc_item(cfg, join_nals(nals, 1)));
  }
  Bytes cfg3 = item.config;
  cfg3[21] = uint8_t((cfg3[21] & ~3) | 2);  // 3-byte lengths are not allowed
  EXPECT_FALSE(decode_hevc_item(cfg3, item.data));
}

TEST(VideoHevc, TruncatedAndDamagedData) {
  CodedItem item = small_item(Codec::Hevc);
  // Cut anywhere: lengths then point past the end.
  for (size_t cut : {size_t(0), size_t(1), size_t(3), size_t(4), size_t(10), item.data.size() / 2, item.data.size() - 1}) {
    Bytes d(item.data.begin(), item.data.begin() + cut);
    auto r = decode_hevc_item(item.config, d);
    EXPECT_FALSE(r) << "cut at " << cut;
  }
  // A slice cut short but framed consistently: the decoder itself must notice.
  auto nals = split_nals(item.data);
  ASSERT_FALSE(nals.empty());
  for (size_t keep : {size_t(8), nals.back().size() / 2}) {
    auto cut = nals;
    cut.back().resize(keep);
    auto r = decode_hevc_item(item.config, join_nals(cut, 4));
    EXPECT_FALSE(r) << "slice cut to " << keep << " bytes";
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::InvalidInput);
    }
  }
  // Parameter sets only, no slice.
  EXPECT_FALSE(decode_hevc_item(item.config, {}));
}

TEST(VideoHevc, HostileHvcc) {
  CodedItem item = small_item(Codec::Hevc);
  // Every truncation of the record fails cleanly.
  for (size_t n = 0; n < item.config.size(); n += 7) {
    Bytes cfg(item.config.begin(), item.config.begin() + n);
    EXPECT_FALSE(decode_hevc_item(cfg, item.data)) << "hvcC cut to " << n;
  }
  // A NAL length in the record past its end.
  Bytes cfg = item.config;
  cfg[24] = 0xff;  // first array's first nalUnitLength, high byte
  cfg[25] = 0xff;
  auto r = decode_hevc_item(cfg, item.data);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("past the end"), std::string::npos) << r.error().message;
  // An absurd number of arrays / NAL units.
  cfg = item.config;
  cfg[22] = 0xff;
  EXPECT_FALSE(decode_hevc_item(cfg, item.data));
  // Random bytes as record and as data.
  std::mt19937 rng(5);
  for (int i = 0; i < 50; ++i) {
    Bytes junk(size_t(rng() % 200));
    for (auto& b : junk) b = uint8_t(rng());
    EXPECT_FALSE(decode_hevc_item(junk, item.data));
    if (i < 20) {
      EXPECT_FALSE(decode_hevc_item(item.config, junk));
    }
  }
}

TEST(VideoHevc, SpsSizeCheckedBeforeDecoding) {
  CodedItem item = small_item(Codec::Hevc);
  // 100000 x 100000 (10 G pixels): refused from the SPS alone, before libde265 allocates.
  auto r = decode_hevc_item(hvcc_with_sps(item.config, fake_sps(100000, 100000)), item.data);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::TooLarge);
  // The same check against caller limits for a genuine stream.
  Limits tight;
  tight.max_pixels = 96 * 64 - 1;
  r = decode_hevc_item(item.config, item.data, tight);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::TooLarge);
  tight = {};
  tight.max_dimension = 95;
  EXPECT_FALSE(decode_hevc_item(item.config, item.data, tight));
  // An SPS in the item data is checked too.
  auto nals = split_nals(item.data);
  nals.insert(nals.begin(), fake_sps(70000, 16));
  r = decode_hevc_item(item.config, join_nals(nals, 4));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::TooLarge);
}

TEST(VideoHevc, RandomCorruptionNeverCrashes) {
  CodedItem item = small_item(Codec::Hevc);
  std::mt19937 rng(11);
  int decoded = 0;
  for (int i = 0; i < 60; ++i) {
    Bytes d = item.data, c = item.config;
    Bytes& target = i % 3 == 0 ? c : d;
    for (int k = 0; k < 1 + int(rng() % 4); ++k) target[rng() % target.size()] ^= uint8_t(1 + rng() % 255);
    auto r = decode_hevc_item(c, d);
    if (r) {
      ++decoded;
      EXPECT_TRUE(validate_yuv(*r));
    }
  }
  SUCCEED() << decoded << " of 60 damaged streams still decoded";
}

TEST(VideoAv1, TruncatedAndDamagedData) {
  CodedItem item = small_item(Codec::Av1);
  for (size_t cut : {size_t(0), size_t(1), size_t(2), size_t(10), item.data.size() / 2, item.data.size() - 1}) {
    Bytes d(item.data.begin(), item.data.begin() + cut);
    EXPECT_FALSE(decode_av1_item(item.config, d)) << "cut at " << cut;
  }
  // The frame OBU cut short with its size field rewritten to match.
  auto obus = av1::split_obus(item.data);
  ASSERT_TRUE(obus);
  const av1::Obu& frame = obus->back();
  ASSERT_EQ(frame.type, av1::kFrame);
  // Cut inside the frame header: an error.
  auto cut_frame = [&](size_t keep) {
    Bytes d((*obus)[0].whole.begin(), (*obus)[0].whole.end());
    Bytes f = make_obu(av1::kFrame, Bytes(frame.payload.begin(), frame.payload.begin() + keep));
    d.insert(d.end(), f.begin(), f.end());
    return decode_av1_item(item.config, d);
  };
  EXPECT_FALSE(cut_frame(3));
  // Cut inside the (single) tile's entropy-coded data: AV1 sizes a frame's last tile by the
  // OBU size and dav1d reads zeros past it, so this may decode to a damaged picture. It must
  // not crash and any picture must be well formed.
  auto r = cut_frame(frame.payload.size() / 2);
  if (r) {
    EXPECT_TRUE(validate_yuv(*r));
  }
  EXPECT_FALSE(decode_av1_item(item.config, {}));
}

TEST(VideoAv1, HostileAv1cAndObus) {
  CodedItem item = small_item(Codec::Av1);
  EXPECT_FALSE(decode_av1_item(Bytes{}, item.data));
  EXPECT_FALSE(decode_av1_item(Bytes{0x81, 0, 0}, item.data));
  Bytes cfg = item.config;
  cfg[0] = 0x01;  // marker bit clear
  EXPECT_FALSE(decode_av1_item(cfg, item.data));
  // OBU size past the end, forbidden bit, over-long leb128.
  Bytes d = item.data;
  d[1] = 0x7f;
  EXPECT_FALSE(decode_av1_item(item.config, Bytes(d.begin(), d.begin() + 20)));
  EXPECT_FALSE(decode_av1_item(item.config, Bytes{0x80, 0x00}));
  EXPECT_FALSE(decode_av1_item(item.config, Bytes{0x32, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  std::mt19937 rng(3);
  for (int i = 0; i < 50; ++i) {
    Bytes junk(size_t(rng() % 200));
    for (auto& b : junk) b = uint8_t(rng());
    EXPECT_FALSE(decode_av1_item(item.config, junk));
    Bytes jc = junk;
    if (!jc.empty()) jc[0] = 0x81;
    EXPECT_FALSE(decode_av1_item(jc, junk));
  }
}

TEST(VideoAv1, SequenceHeaderSizeCheckedBeforeDecoding) {
  CodedItem item = small_item(Codec::Av1);
  // Reduced still-picture sequence header declaring 65536 x 65536.
  BitWriter w;
  w.put(0, 3);       // seq_profile
  w.put(1, 1);       // still_picture
  w.put(1, 1);       // reduced_still_picture_header
  w.put(31, 5);      // seq_level_idx
  w.put(15, 4);      // frame_width_bits_minus_1
  w.put(15, 4);
  w.put(65535, 16);  // max_frame_width_minus_1
  w.put(65535, 16);
  w.put(0, 6);       // sb128, filter intra, intra edge, superres, cdef, restoration
  w.put(0, 1);       // high_bitdepth
  w.put(0, 1);       // mono_chrome
  w.put(0, 1);       // color_description_present_flag
  w.put(1, 1);       // color_range
  w.put(0, 2);       // chroma_sample_position
  w.put(0, 1);       // separate_uv_delta_q
  w.put(0, 1);       // film_grain_params_present
  Bytes seq = make_obu(av1::kSequenceHeader, w.finish());
  auto obus = av1::split_obus(item.data);
  Bytes d = seq;
  d.insert(d.end(), obus->back().whole.begin(), obus->back().whole.end());
  auto r = decode_av1_item(item.config, d);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::TooLarge);
  Limits tight;
  tight.max_pixels = 96 * 64 - 1;
  r = decode_av1_item(item.config, item.data, tight);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::TooLarge);
}

TEST(VideoAv1, RandomCorruptionNeverCrashes) {
  CodedItem item = small_item(Codec::Av1);
  std::mt19937 rng(13);
  for (int i = 0; i < 60; ++i) {
    Bytes d = item.data, c = item.config;
    Bytes& target = i % 3 == 0 ? c : d;
    for (int k = 0; k < 1 + int(rng() % 4); ++k) target[rng() % target.size()] ^= uint8_t(1 + rng() % 255);
    auto r = decode_av1_item(c, d);
    if (r) {
      EXPECT_TRUE(validate_yuv(*r));
    }
  }
}

// ------------------------------------------------------------------------------ real files

namespace {

// Just enough ISOBMFF to pull coded items out of corpus HEIF/AVIF files: item types (iinf),
// locations (iloc, file offsets only) and each item's codec configuration (ipco + ipma).
struct CodedItemRef {
  uint32_t id = 0;
  std::string type;
  Bytes config, data;
};

bool child_boxes(ByteView b, std::vector<std::pair<std::string, ByteView>>& out) {
  ByteReader r(b);
  while (r.remaining() >= 8) {
    uint32_t size32 = 0;
    ByteView type;
    r.u32(size32);
    r.bytes(4, type);
    uint64_t size = size32, header = 8;
    if (size32 == 1) r.u64(size), header = 16;  // 64-bit size
    if (size32 == 0) size = r.remaining() + 8;   // to the end
    if (size < header || size - header > r.remaining()) return false;
    ByteView body;
    r.bytes(size_t(size - header), body);
    out.emplace_back(std::string(type.begin(), type.end()), body);
  }
  return true;
}

uint64_t read_n(ByteReader& r, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) {
    uint8_t b = 0;
    r.u8(b);
    v = v << 8 | b;
  }
  return v;
}

std::vector<CodedItemRef> coded_items(const Bytes& file) {
  std::vector<CodedItemRef> items;
  std::vector<std::pair<std::string, ByteView>> top, meta, iprp, ipco;
  EXPECT_TRUE(child_boxes(file, top));
  for (auto& [t, b] : top)
    if (t == "meta") child_boxes(b.subspan(4), meta);
  std::map<uint32_t, std::string> types;
  std::map<uint32_t, Bytes> data;
  std::map<uint32_t, std::vector<int>> props;
  for (auto& [t, b] : meta) {
    if (t == "iinf") {
      std::vector<std::pair<std::string, ByteView>> infes;
      child_boxes(b.subspan(b[0] == 0 ? 6 : 8), infes);
      for (auto& [it, ib] : infes) {
        ByteReader r(ib);
        uint8_t v = 0;
        r.u8(v);
        r.skip(3);
        uint32_t id = uint32_t(read_n(r, v == 2 ? 2 : 4));
        r.skip(2);
        ByteView type;
        r.bytes(4, type);
        types[id] = std::string(type.begin(), type.end());
      }
    } else if (t == "iloc") {
      ByteReader r(b);
      uint8_t v = 0, sizes = 0, sizes2 = 0;
      r.u8(v);
      r.skip(3);
      r.u8(sizes);
      r.u8(sizes2);
      int off_size = sizes >> 4, len_size = sizes & 15, base_size = sizes2 >> 4, idx_size = v ? sizes2 & 15 : 0;
      uint32_t count = uint32_t(read_n(r, v < 2 ? 2 : 4));
      for (uint32_t i = 0; i < count; ++i) {
        uint32_t id = uint32_t(read_n(r, v < 2 ? 2 : 4));
        int method = v ? int(read_n(r, 2) & 15) : 0;
        r.skip(2);
        uint64_t base = read_n(r, base_size);
        uint32_t extents = uint32_t(read_n(r, 2));
        Bytes d;
        for (uint32_t e = 0; e < extents; ++e) {
          read_n(r, idx_size);
          uint64_t off = base + read_n(r, off_size), len = read_n(r, len_size);
          if (method == 0 && off + len <= file.size()) d.insert(d.end(), file.begin() + off, file.begin() + off + len);
        }
        if (method == 0) data[id] = std::move(d);
      }
    } else if (t == "iprp") {
      child_boxes(b, iprp);
    }
  }
  std::vector<std::pair<std::string, ByteView>> ipma;
  for (auto& [t, b] : iprp) {
    if (t == "ipco") child_boxes(b, ipco);
    if (t == "ipma") ipma.emplace_back(t, b);
  }
  for (auto& [t, b] : ipma) {
    ByteReader r(b);
    uint8_t v = 0, flags[3] = {};
    r.u8(v);
    for (auto& f : flags) r.u8(f);
    uint32_t n = uint32_t(read_n(r, 4));
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t id = uint32_t(read_n(r, v < 1 ? 2 : 4));
      uint8_t assoc = 0;
      r.u8(assoc);
      for (int a = 0; a < assoc; ++a)
        props[id].push_back((flags[2] & 1) ? int(read_n(r, 2) & 0x7fff) : int(read_n(r, 1) & 0x7f));
    }
  }
  for (auto& [id, type] : types) {
    if (type != "hvc1" && type != "av01") continue;
    CodedItemRef item{id, type, {}, data[id]};
    for (int p : props[id])
      if (p >= 1 && size_t(p) <= ipco.size() && (ipco[p - 1].first == "hvcC" || ipco[p - 1].first == "av1C"))
        item.config.assign(ipco[p - 1].second.begin(), ipco[p - 1].second.end());
    items.push_back(std::move(item));
  }
  return items;
}

// Decodes the first item of every distinct codec configuration in a corpus file.
int decode_each_config(const std::string& rel, int expect_w, int expect_h) {
  Bytes file = test::corpus_bytes(rel);
  std::vector<Bytes> seen;
  int decoded = 0;
  for (const CodedItemRef& item : coded_items(file)) {
    if (std::find(seen.begin(), seen.end(), item.config) != seen.end()) continue;
    seen.push_back(item.config);
    auto out = item.type == "hvc1" ? decode_hevc_item(item.config, item.data) : decode_av1_item(item.config, item.data);
    EXPECT_TRUE(out) << rel << " item " << item.id << ": " << out.error().message;
    if (!out) continue;
    ++decoded;
    EXPECT_TRUE(validate_yuv(*out));
    std::string vui;
    if (item.type == "hvc1") {  // where the range came from
      auto hvcc = hevc::parse_hvcc(item.config);
      for (ByteView nal : hvcc->nals)
        if (auto sps = hevc::nal_type(nal) == hevc::kSps ? hevc::parse_sps(nal) : Result<hevc::Sps>{}; sps && sps->width)
          vui = !sps->vui_parsed ? " (SPS VUI unread)"
                : sps->signal_type_present ? " (SPS VUI, matrix " + std::to_string(sps->matrix) + ")"
                                           : " (no VUI signal type)";
      EXPECT_EQ(vui.find("unread"), std::string::npos) << "SPS parser stopped before the VUI";
    }
    std::printf("  %s item %u: %dx%d %d-bit chroma %d %s range%s\n", rel.c_str(), item.id, out->width, out->height,
                out->bit_depth, int(out->chroma), out->full_range ? "full" : "video", vui.c_str());
    if (expect_w && decoded == 1) {
      EXPECT_EQ(out->width, expect_w);
      EXPECT_EQ(out->height, expect_h);
    }
  }
  return decoded;
}

}  // namespace

TEST(VideoCorpus, DecodesRealHeicTiles) {
  // Grids of 512x512 tiles (the first configuration is the primary image's); Apple's gain
  // maps and mattes are 4:0:0.
  EXPECT_GE(decode_each_config("heif/iphone15pro_ios18_tmap_rotated.heic", 512, 512), 2);
  EXPECT_GE(decode_each_config("heif/iphone13pro_ios16_apple_v1.heic", 512, 512), 2);
  EXPECT_GE(decode_each_config("heif/iphone15promax_ios18_tmap.heic", 0, 0), 2);
  EXPECT_GE(decode_each_config("heif/samsung_s25u_tmap_3ch.heic", 0, 0), 2);
  EXPECT_GE(decode_each_config("heif/iphone8plus_no_gainmap.heic", 512, 512), 1);
}

TEST(VideoCorpus, DecodesRealAvifItems) {
  EXPECT_GE(decode_each_config("heif/seine_sdr_gainmap_srgb.avif", 400, 300), 1);
  EXPECT_GE(decode_each_config("heif/seine_hdr_gainmap_srgb.avif", 400, 300), 2);
  EXPECT_GE(decode_each_config("heif/seine_hdr_rec2020.avif", 400, 300), 1);
}

TEST(VideoCodec, LargePictureUsesDecoderThreads) {
  // Over 1 MP both decoders run their own worker threads; results must not change.
  YuvImage in = test_yuv(1536, 1024, 8, Chroma::Yuv420);
  for (Codec codec : {Codec::Hevc, Codec::Av1}) {
    VideoEncodeOptions opt;
    opt.effort = 0;
    auto item = encode(codec, in, opt);
    ASSERT_TRUE(item) << item.error().message;
    auto out = decode(codec, *item);
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_GT(compare(in, *out).y, 40);
  }
}

TEST(VideoCodec, TinyImages) {
  for (Codec codec : {Codec::Hevc, Codec::Av1})
    for (Chroma chroma : {Chroma::Yuv420, Chroma::Mono, Chroma::Yuv444})
      for (auto [w, h] : {std::pair{1, 1}, std::pair{2, 2}, std::pair{3, 5}, std::pair{17, 9}}) {
        YuvImage in = test_yuv(w, h, 8, chroma);
        auto item = encode(codec, in, {});
        ASSERT_TRUE(item) << w << "x" << h << ": " << item.error().message;
        auto out = decode(codec, *item);
        ASSERT_TRUE(out) << w << "x" << h << ": " << out.error().message;
        EXPECT_EQ(out->width, item->width);
        EXPECT_EQ(out->height, item->height);
        if (codec == Codec::Av1) {
          EXPECT_EQ(out->width, w);
          EXPECT_EQ(out->height, h);
        } else {
          EXPECT_EQ(out->width, std::max(64, w));  // x265: at least one 64x64 CTU
        }
        EXPECT_GT(compare(in, crop_to(*out, w, h)).y, 35) << w << "x" << h;
      }
}
