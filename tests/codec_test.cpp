// Pixel codecs (PNG, TIFF, OpenEXR), file sniffing and HDR file reading: round trips,
// real corpus files, and hostile inputs (truncation, byte damage, bomb headers).
#include <gtest/gtest.h>
#include <tiffio.h>
#include <zlib.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <cstring>
#include <random>
#include <string>

#include "codec/deflate_bands.h"
#include "regain/codec.h"
#include "regain/icc.h"
#include "test_support.h"
#include "util/bytes.h"

using namespace regain;
using regain::test::corpus_bytes;

namespace {

Image16 pattern16(int w, int h, int c) {
  Image16 img(w, h, c);
  std::mt19937 rng(7);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k)
        // A gradient (compressible) with noise in the low bits (exercises every bit).
        img.at(x, y, k) = uint16_t((x * 1000 + y * 700 + k * 9000) % 65536 ^ (rng() & 0xff));
  return img;
}

Image8 pattern8(int w, int h, int c) {
  Image8 img(w, h, c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k) img.at(x, y, k) = uint8_t(x * 7 + y * 3 + k * 50);
  return img;
}

ImageF patternf(int w, int h) {
  ImageF img(w, h, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      img.at(x, y, 0) = 0.001f * x * y;
      img.at(x, y, 1) = std::exp2(float(x % 20) - 8.f);  // 2^-8 .. 2^11
      img.at(x, y, 2) = (x + y) % 7 == 0 ? -0.25f : 0.5f + y;
    }
  return img;
}

template <class T>
bool same_pixels(const Image<T>& a, const Image<T>& b) {
  return a.width() == b.width() && a.height() == b.height() && a.channels() == b.channels() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

float max_value(const ImageF& img) {
  float m = -INFINITY;
  for (float v : img.span()) m = std::max(m, v);
  return m;
}
bool all_finite(const ImageF& img) {
  for (float v : img.span())
    if (!std::isfinite(v)) return false;
  return true;
}

bool too_large_or_invalid(const Error& e) {
  return e.code == ErrorCode::TooLarge || e.code == ErrorCode::InvalidInput;
}

// PNG chunk CRC (ISO 3309), so crafted headers pass libpng's CRC check and reach ours.
uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
  }
  return c ^ 0xffffffffu;
}

void png_chunk(ByteWriter& w, const char* type, std::span<const uint8_t> data) {
  w.u32(uint32_t(data.size()));
  size_t start = w.size();
  w.append(std::string_view(type, 4));
  w.append(data);
  w.u32(crc32(w.bytes().data() + start, w.size() - start));
}

Bytes bomb_png(uint32_t width, uint32_t height) {
  ByteWriter w;
  const uint8_t sig[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  w.append(sig);
  ByteWriter ihdr;
  ihdr.u32(width);
  ihdr.u32(height);
  for (uint8_t b : {8, 2, 0, 0, 0}) ihdr.u8(b);  // 8-bit RGB, deflate, no filter, no interlace
  png_chunk(w, "IHDR", ihdr.bytes());
  const uint8_t idat[] = {0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01};  // empty zlib stream
  png_chunk(w, "IDAT", idat);
  png_chunk(w, "IEND", {});
  return w.take();
}

// Little-endian baseline TIFF: one uncompressed strip of `strip_bytes` zeros.
Bytes bomb_tiff(uint32_t width, uint32_t height, uint32_t strip_bytes = 64) {
  ByteWriter w(false);
  w.append("II");
  w.u16(42);
  w.u32(8);
  struct Entry { uint16_t tag, type; uint32_t count, value; };
  const uint32_t n = 9, data_offset = 8 + 2 + n * 12 + 4;
  const Entry entries[n] = {{256, 4, 1, width},     {257, 4, 1, height},     {258, 3, 1, 8},
                            {259, 3, 1, 1},         {262, 3, 1, 1},          {273, 4, 1, data_offset},
                            {277, 3, 1, 1},         {278, 4, 1, height},     {279, 4, 1, strip_bytes}};
  w.u16(uint16_t(n));
  for (const Entry& e : entries) {
    w.u16(e.tag);
    w.u16(e.type);
    w.u32(e.count);
    if (e.type == 3) { w.u16(uint16_t(e.value)); w.u16(0); }
    else w.u32(e.value);
  }
  w.u32(0);
  for (uint32_t i = 0; i < strip_bytes; ++i) w.u8(0);
  return w.take();
}

void exr_attr(ByteWriter& w, const char* name, const char* type, std::span<const uint8_t> value) {
  w.append(std::string_view(name, std::strlen(name) + 1));
  w.append(std::string_view(type, std::strlen(type) + 1));
  w.u32(uint32_t(value.size()));
  w.append(value);
}

// A minimal one-channel scanline EXR header claiming the data window (0,0)-(x1,y1).
Bytes bomb_exr(int32_t x1, int32_t y1) {
  ByteWriter w(false);
  w.u32(20000630u);
  w.u32(2);
  ByteWriter ch(false);  // one HALF channel "R"
  ch.append(std::string_view("R\0", 2));
  ch.u32(1);
  ch.u32(0);
  ch.u32(1);
  ch.u32(1);
  ch.u8(0);
  exr_attr(w, "channels", "chlist", ch.bytes());
  const uint8_t none[] = {0};
  exr_attr(w, "compression", "compression", none);
  ByteWriter box(false);
  for (int32_t v : {0, 0, x1, y1}) box.s32(v);
  exr_attr(w, "dataWindow", "box2i", box.bytes());
  exr_attr(w, "displayWindow", "box2i", box.bytes());
  exr_attr(w, "lineOrder", "lineOrder", none);
  const uint8_t one_f[] = {0, 0, 0x80, 0x3f};
  exr_attr(w, "pixelAspectRatio", "float", one_f);
  const uint8_t zero_v2f[8] = {};
  exr_attr(w, "screenWindowCenter", "v2f", zero_v2f);
  exr_attr(w, "screenWindowWidth", "float", one_f);
  w.u8(0);
  for (int i = 0; i < 64; ++i) w.u8(0);  // a little of an offset table
  return w.take();
}

// Feeds every k-th prefix of `file` to `decode`, which must fail cleanly or succeed; the
// test passing under ASan/UBSan is the point.
template <class F>
void truncations(const Bytes& file, F&& decode, size_t max_tries = 300) {
  size_t step = std::max<size_t>(37, file.size() / max_tries);  // bounded number of tries
  for (size_t n = 0; n < file.size(); n += step) {
    Bytes cut(file.begin(), file.begin() + long(n));
    decode(ByteView(cut));
  }
}

// Random byte damage at fixed seeds (reproducible).
template <class F>
void damage(const Bytes& file, F&& decode, int rounds = 150) {
  std::mt19937 rng(1234);
  for (int i = 0; i < rounds; ++i) {
    Bytes d = file;
    int flips = 1 + int(rng() % 4);
    for (int k = 0; k < flips; ++k) d[rng() % d.size()] = uint8_t(rng());
    decode(ByteView(d));
  }
}

}  // namespace

// ---------------------------------------------------------------- sniffing

TEST(Sniff, MagicBytes) {
  const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 0};
  const uint8_t png[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0};
  const uint8_t tiff_le[] = {'I', 'I', 0x2A, 0x00, 8, 0, 0, 0};
  const uint8_t tiff_be[] = {'M', 'M', 0x00, 0x2A, 0, 0, 0, 8};
  const uint8_t exr[] = {0x76, 0x2F, 0x31, 0x01, 2, 0, 0, 0};
  EXPECT_EQ(sniff_file_type(jpeg), FileType::Jpeg);
  EXPECT_EQ(sniff_file_type(png), FileType::Png);
  EXPECT_EQ(sniff_file_type(tiff_le), FileType::Tiff);
  EXPECT_EQ(sniff_file_type(tiff_be), FileType::Tiff);
  EXPECT_EQ(sniff_file_type(exr), FileType::Exr);
  EXPECT_EQ(sniff_file_type({}), FileType::Unknown);
  EXPECT_EQ(sniff_file_type(ByteView(jpeg, 2)), FileType::Unknown);
  const uint8_t text[] = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!', '!', '!', '!'};
  EXPECT_EQ(sniff_file_type(text), FileType::Unknown);
}

namespace {
Bytes ftyp(const char* major, std::initializer_list<const char*> compatible) {
  ByteWriter w;
  w.u32(uint32_t(16 + 4 * compatible.size()));
  w.append("ftyp");
  w.append(std::string_view(major, 4));
  w.u32(0);
  for (const char* b : compatible) w.append(std::string_view(b, 4));
  w.append("....meta");  // the next box, which must not be read as brands
  return w.take();
}
}  // namespace

TEST(Sniff, IsoBmffBrands) {
  EXPECT_EQ(sniff_file_type(ftyp("heic", {"mif1", "heic"})), FileType::Heif);
  EXPECT_EQ(sniff_file_type(ftyp("mif1", {"heic"})), FileType::Heif);
  EXPECT_EQ(sniff_file_type(ftyp("avif", {"mif1", "miaf"})), FileType::Avif);
  EXPECT_EQ(sniff_file_type(ftyp("mif1", {"miaf", "avif"})), FileType::Avif);  // avif wins
  EXPECT_EQ(sniff_file_type(ftyp("avis", {})), FileType::Avif);
  EXPECT_EQ(sniff_file_type(ftyp("isom", {"mp41"})), FileType::Unknown);
  EXPECT_EQ(sniff_file_type(ftyp("isom", {})), FileType::Unknown);
}

TEST(Sniff, Names) {
  EXPECT_STREQ(file_type_name(FileType::Jpeg), "jpeg");
  EXPECT_STREQ(file_type_name(FileType::Png), "png");
  EXPECT_STREQ(file_type_name(FileType::Tiff), "tiff");
  EXPECT_STREQ(file_type_name(FileType::Exr), "exr");
  EXPECT_STREQ(file_type_name(FileType::Heif), "heif");
  EXPECT_STREQ(file_type_name(FileType::Avif), "avif");
  EXPECT_STREQ(file_type_name(FileType::Unknown), "unknown");
}

// ---------------------------------------------------------------- PNG

TEST(Png, RoundTrip16WithCicpAndIcc) {
  Image16 img = pattern16(37, 23, 3);
  auto icc = make_display_icc(Primaries::DisplayP3);
  ASSERT_FALSE(icc.empty());
  auto bytes = encode_png16(img, Cicp{12, 16, 0, 1}, icc);
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(sniff_file_type(*bytes), FileType::Png);
  auto png = decode_png(*bytes);
  ASSERT_TRUE(png) << png.error().message;
  EXPECT_EQ(png->bit_depth, 16);
  EXPECT_TRUE(same_pixels(png->pixels, img));
  ASSERT_TRUE(png->cicp);
  EXPECT_EQ(png->cicp->primaries, 12);
  EXPECT_EQ(png->cicp->transfer, 16);
  EXPECT_EQ(png->cicp->matrix, 0);
  EXPECT_EQ(png->cicp->full_range, 1);
  EXPECT_EQ(png->icc, icc);
}

TEST(Png, RoundTrip16GrayAndRgba) {
  for (int c : {1, 4}) {
    Image16 img = pattern16(19, 11, c);
    auto bytes = encode_png16(img);
    ASSERT_TRUE(bytes) << bytes.error().message;
    auto png = decode_png(*bytes);
    ASSERT_TRUE(png) << png.error().message;
    EXPECT_TRUE(same_pixels(png->pixels, img)) << c << " channels";
    EXPECT_FALSE(png->cicp);
    EXPECT_TRUE(png->icc.empty());
  }
}

TEST(Png, GrayAlphaDropsAlpha) {
  Image16 img = pattern16(13, 9, 2);
  auto bytes = encode_png16(img);
  ASSERT_TRUE(bytes) << bytes.error().message;
  auto png = decode_png(*bytes);
  ASSERT_TRUE(png) << png.error().message;
  ASSERT_EQ(png->pixels.channels(), 1);
  bool ok = true;
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 13; ++x) ok &= png->pixels.at(x, y) == img.at(x, y, 0);
  EXPECT_TRUE(ok);
}

TEST(Png, RoundTrip8Widens) {
  for (int c : {1, 3}) {
    Image8 img = pattern8(41, 17, c);
    auto icc = c == 3 ? make_display_icc(Primaries::BT709) : std::vector<uint8_t>{};
    auto bytes = encode_png8(img, icc);
    ASSERT_TRUE(bytes) << bytes.error().message;
    auto png = decode_png(*bytes);
    ASSERT_TRUE(png) << png.error().message;
    EXPECT_EQ(png->bit_depth, 8);
    ASSERT_EQ(png->pixels.channels(), c);
    ASSERT_EQ(png->pixels.width(), 41);
    bool ok = true;
    for (size_t i = 0; i < img.size(); ++i) ok &= png->pixels.data()[i] == img.data()[i] * 257;
    EXPECT_TRUE(ok);
    EXPECT_EQ(png->icc, icc);
  }
}

// decode_png8 reads 8-bit files straight into 8-bit rows: the same pixels as decode_png +
// png_to_8bit for every layout and depth, and the same refusals.
TEST(Png, Decode8MatchesTheWideningPath) {
  std::vector<std::vector<uint8_t>> files;
  for (int c : {1, 3, 4}) {
    auto a = encode_png8(pattern8(29, 13, c), {});
    auto b = encode_png16(pattern16(29, 13, c));
    ASSERT_TRUE(a && b);
    files.push_back(*a);
    files.push_back(*b);
  }
  for (const auto& f : files)
    for (int want : {1, 3}) {
      auto wide = decode_png(f);
      auto narrow = decode_png8(f, want);
      ASSERT_TRUE(wide && narrow) << narrow.error().message;
      const Image8 ref = png_to_8bit(*wide, want);
      EXPECT_TRUE(narrow->pixels.channels() == want && narrow->pixels.width() == 29 &&
                  std::equal(ref.data(), ref.data() + ref.size(), narrow->pixels.data()));
      EXPECT_EQ(narrow->bit_depth, wide->bit_depth);
      EXPECT_EQ(narrow->source_channels, wide->pixels.channels());
    }
  for (size_t n : {size_t(0), size_t(8), size_t(40), files[1].size() / 2}) {
    EXPECT_FALSE(decode_png8(std::span<const uint8_t>(files[1].data(), n), 3)) << n;
  }
  Limits small;
  small.max_pixels = 100;
  auto big = decode_png8(files[0], 3, small);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::TooLarge);
  EXPECT_FALSE(decode_png8(files[0], 2));
}

// decode_png8 keeps alpha: 8-bit rows are split as they arrive, 16-bit ones after a whole-image
// read; both give the same colour samples and alpha plane (8-bit values widened x257).
TEST(Png, Decode8KeepsAlphaAtBothDepths) {
  for (const int sc : {2, 4}) {
    SCOPED_TRACE(sc);
    Image8 p8(37, 23, sc);
    Image16 p16(37, 23, sc);
    for (size_t i = 0; i < p8.size(); ++i) {
      p8.data()[i] = uint8_t((i * 37 + 11) % 256);
      p16.data()[i] = uint16_t(p8.data()[i] * 257);
    }
    auto e8 = encode_png8(p8);
    auto e16 = encode_png16(p16);
    ASSERT_TRUE(e8 && e16);
    for (const int want : {1, 3}) {
      auto a = decode_png8(*e8, want), b = decode_png8(*e16, want);
      ASSERT_TRUE(a && b);
      EXPECT_EQ(a->source_channels, sc);
      EXPECT_EQ(b->source_channels, sc);
      ASSERT_EQ(a->pixels.channels(), want);
      ASSERT_FALSE(a->alpha.empty());
      ASSERT_FALSE(b->alpha.empty());
      EXPECT_TRUE(std::equal(a->pixels.span().begin(), a->pixels.span().end(), b->pixels.span().begin()));
      EXPECT_TRUE(std::equal(a->alpha.span().begin(), a->alpha.span().end(), b->alpha.span().begin()));
      for (size_t i = 0; i < size_t(37) * 23; ++i) {
        EXPECT_EQ(a->alpha.data()[i], p8.data()[i * sc + sc - 1]);
        for (int k = 0; k < want; ++k)
          EXPECT_EQ(a->pixels.data()[i * want + k], p8.data()[i * sc + (sc == 4 ? k : 0)]);
      }
    }
  }
}

TEST(Png, RejectsBadEncoderInput) {
  EXPECT_FALSE(encode_png16(Image16()));
  EXPECT_FALSE(encode_png8(Image8(4, 4, 5)));
}

TEST(Png, CorpusHlg) {
  auto bytes = corpus_bytes("hdr-source/hdr_room_bt2020_hlg16.png");
  ASSERT_FALSE(bytes.empty());
  auto png = decode_png(bytes);
  ASSERT_TRUE(png) << png.error().message;
  EXPECT_EQ(png->pixels.width(), 676);
  EXPECT_EQ(png->pixels.height(), 449);
  EXPECT_EQ(png->bit_depth, 16);
  ASSERT_TRUE(png->cicp);
  EXPECT_EQ(png->cicp->primaries, 9);
  EXPECT_EQ(png->cicp->transfer, 18);

  auto hdr = read_hdr_image(bytes);
  ASSERT_TRUE(hdr) << hdr.error().message;
  EXPECT_EQ(hdr->primaries, Primaries::BT2020);
  EXPECT_EQ(hdr->source_transfer, Transfer::HLG);
  EXPECT_EQ(hdr->rgb.channels(), 3);
  EXPECT_TRUE(all_finite(hdr->rgb));
  float m = max_value(hdr->rgb);
  EXPECT_GT(m, 2.0f);                    // real highlights above SDR white
  EXPECT_LE(m, 1000.f / 203.f + 0.01f);  // HLG peaks at 1000 cd/m2
}

// ---------------------------------------------------------------- TIFF

TEST(Tiff, RoundTrip16WithIcc) {
  auto icc = make_display_icc(Primaries::BT2020);
  for (int c : {1, 3, 4}) {
    Image16 img = pattern16(53, 31, c);
    auto bytes = encode_tiff16(img, c == 3 ? std::span<const uint8_t>(icc) : std::span<const uint8_t>());
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(sniff_file_type(*bytes), FileType::Tiff);
    auto tif = decode_tiff(*bytes);
    ASSERT_TRUE(tif) << tif.error().message;
    EXPECT_FALSE(tif->is_float);
    EXPECT_EQ(tif->bit_depth, 16);
    EXPECT_TRUE(same_pixels(tif->pixels16, img)) << c << " channels";
    EXPECT_EQ(tif->icc, c == 3 ? icc : std::vector<uint8_t>{});
  }
}

TEST(Tiff, RoundTripFloatExact) {
  ImageF img = patternf(45, 29);
  auto bytes = encode_tiff_float(img);
  ASSERT_TRUE(bytes) << bytes.error().message;
  auto tif = decode_tiff(*bytes);
  ASSERT_TRUE(tif) << tif.error().message;
  EXPECT_TRUE(tif->is_float);
  EXPECT_EQ(tif->bit_depth, 32);
  EXPECT_TRUE(same_pixels(tif->pixelsf, img));
}

TEST(Tiff, ManyStrips) {
  // Tall enough for several ~256 KB strips: exercises strip iteration.
  Image16 img = pattern16(700, 300, 3);
  auto bytes = encode_tiff16(img);
  ASSERT_TRUE(bytes) << bytes.error().message;
  auto tif = decode_tiff(*bytes);
  ASSERT_TRUE(tif) << tif.error().message;
  EXPECT_TRUE(same_pixels(tif->pixels16, img));
}

TEST(Tiff, Uncompressed8BitHandMade) {
  // bomb_tiff with a sane size is a valid 8-bit gray uncompressed TIFF of zeros.
  auto tif = decode_tiff(bomb_tiff(8, 8, 64));
  ASSERT_TRUE(tif) << tif.error().message;
  EXPECT_EQ(tif->bit_depth, 8);
  EXPECT_EQ(tif->pixels16.channels(), 1);
  EXPECT_EQ(tif->pixels16.at(7, 7), 0);
}

namespace {
// Layouts our encoder never writes (tiles, planar, 8-bit), written with libtiff directly
// to a scratch file. Samples are T; `img` supplies their values.
template <class T>
Bytes write_tiff_layout(const std::string& name, const Image<T>& img, bool tiled, bool planar) {
  auto path = regain::test::scratch_dir("codec_tiff") / name;
  TIFF* t = TIFFOpen(path.c_str(), "w");
  EXPECT_TRUE(t);
  if (!t) return {};
  const int spp = img.channels(), w = img.width(), h = img.height();
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, uint32_t(w));
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, uint32_t(h));
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, uint16_t(spp));
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, uint16_t(sizeof(T) * 8));
  TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, uint16_t(std::is_same_v<T, float> ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT));
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, uint16_t(spp == 1 ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB));
  TIFFSetField(t, TIFFTAG_PLANARCONFIG, uint16_t(planar ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG));
  TIFFSetField(t, TIFFTAG_COMPRESSION, uint16_t(COMPRESSION_ADOBE_DEFLATE));
  const int bspp = planar ? 1 : spp;
  auto sample = [&](int x, int y, int p, int k) -> T {
    return (x < w && y < h) ? img.at(x, y, planar ? p : k) : T(0);
  };
  if (tiled) {
    const int tw = 16, th = 16;  // overhangs the image on both axes
    TIFFSetField(t, TIFFTAG_TILEWIDTH, uint32_t(tw));
    TIFFSetField(t, TIFFTAG_TILELENGTH, uint32_t(th));
    std::vector<T> tile(size_t(tw) * th * bspp);
    for (int p = 0; p < (planar ? spp : 1); ++p)
      for (int y0 = 0; y0 < h; y0 += th)
        for (int x0 = 0; x0 < w; x0 += tw) {
          for (int y = 0; y < th; ++y)
            for (int x = 0; x < tw; ++x)
              for (int k = 0; k < bspp; ++k) tile[(size_t(y) * tw + x) * bspp + k] = sample(x0 + x, y0 + y, p, k);
          TIFFWriteTile(t, tile.data(), uint32_t(x0), uint32_t(y0), 0, uint16_t(p));
        }
  } else {
    const int rps = 5;
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, uint32_t(rps));
    for (int p = 0; p < (planar ? spp : 1); ++p)
      for (int y0 = 0; y0 < h; y0 += rps) {
        int rows = std::min(rps, h - y0);
        std::vector<T> strip(size_t(w) * rows * bspp);
        for (int y = 0; y < rows; ++y)
          for (int x = 0; x < w; ++x)
            for (int k = 0; k < bspp; ++k) strip[(size_t(y) * w + x) * bspp + k] = sample(x, y0 + y, p, k);
        TIFFWriteEncodedStrip(t, TIFFComputeStrip(t, uint32_t(y0), uint16_t(p)), strip.data(),
                              tmsize_t(strip.size() * sizeof(T)));
      }
  }
  TIFFClose(t);
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST(Tiff, TilesPlanarAnd8Bit) {
  Image16 i16 = pattern16(37, 23, 3);
  Image8 i8 = pattern8(37, 23, 3);
  ImageF f = patternf(37, 23);
  Image16 wide8(37, 23, 3);
  for (size_t i = 0; i < i8.size(); ++i) wide8.data()[i] = uint16_t(i8.data()[i] * 257);
  for (bool tiled : {false, true})
    for (bool planar : {false, true}) {
      std::string tag = std::string(tiled ? "tiled" : "strips") + (planar ? "-planar" : "-contig");
      auto a = decode_tiff(write_tiff_layout(tag + "16.tif", i16, tiled, planar));
      ASSERT_TRUE(a) << tag << ": " << a.error().message;
      EXPECT_TRUE(same_pixels(a->pixels16, i16)) << tag;
      auto b = decode_tiff(write_tiff_layout(tag + "8.tif", i8, tiled, planar));
      ASSERT_TRUE(b) << tag << ": " << b.error().message;
      EXPECT_EQ(b->bit_depth, 8);
      EXPECT_TRUE(same_pixels(b->pixels16, wide8)) << tag;
      auto c = decode_tiff(write_tiff_layout(tag + "f.tif", f, tiled, planar));
      ASSERT_TRUE(c) << tag << ": " << c.error().message;
      EXPECT_TRUE(same_pixels(c->pixelsf, f)) << tag;
    }
}

// ---------------------------------------------------------------- EXR

TEST(Exr, RoundTripHalfWithP3Chromaticities) {
  ImageF img = patternf(64, 40);
  auto bytes = encode_exr(img, Primaries::DisplayP3);
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(sniff_file_type(*bytes), FileType::Exr);
  auto exr = decode_exr(*bytes);
  ASSERT_TRUE(exr) << exr.error().message;
  ASSERT_EQ(exr->rgb.width(), 64);
  ASSERT_EQ(exr->rgb.height(), 40);
  ASSERT_EQ(exr->rgb.channels(), 3);
  float worst = 0;
  for (size_t i = 0; i < img.size(); ++i) {
    float a = img.data()[i], b = exr->rgb.data()[i];
    worst = std::max(worst, std::fabs(a - b) / std::max(std::fabs(a), 1e-4f));
  }
  EXPECT_LT(worst, 1e-3f);  // half: 11-bit mantissa
  ASSERT_TRUE(exr->primaries);
  EXPECT_EQ(*exr->primaries, Primaries::DisplayP3);
  ASSERT_TRUE(exr->chromaticities);
  EXPECT_NEAR((*exr->chromaticities)[0], 0.680f, 1e-6);
}

TEST(Exr, SanitisesNonFiniteOnWrite) {
  ImageF img(4, 2, 3);
  img.fill(1.f);
  img.at(0, 0, 0) = NAN;
  img.at(1, 0, 1) = INFINITY;
  img.at(2, 0, 2) = 1e9f;
  img.at(3, 0, 0) = -INFINITY;
  auto bytes = encode_exr(img, Primaries::BT709);
  ASSERT_TRUE(bytes) << bytes.error().message;
  auto exr = decode_exr(*bytes);
  ASSERT_TRUE(exr) << exr.error().message;
  EXPECT_TRUE(all_finite(exr->rgb));
  EXPECT_EQ(exr->rgb.at(0, 0, 0), 0.f);
  EXPECT_EQ(exr->rgb.at(1, 0, 1), 65504.f);
  EXPECT_EQ(exr->rgb.at(2, 0, 2), 65504.f);
  EXPECT_EQ(exr->rgb.at(3, 0, 0), -65504.f);
  EXPECT_EQ(exr->primaries, Primaries::BT709);
}

TEST(Exr, CorpusFiles) {
  for (const char* name : {"hdr-source/Desk.exr", "hdr-source/StillLife.exr"}) {
    auto bytes = corpus_bytes(name);
    ASSERT_FALSE(bytes.empty()) << name;
    EXPECT_EQ(sniff_file_type(bytes), FileType::Exr);
    auto exr = decode_exr(bytes);
    ASSERT_TRUE(exr) << name << ": " << exr.error().message;
    EXPECT_GT(exr->rgb.width(), 0);
    EXPECT_GT(exr->rgb.height(), 0);
    EXPECT_TRUE(all_finite(exr->rgb)) << name;
    EXPECT_GT(max_value(exr->rgb), 1.0f) << name;
    auto hdr = read_hdr_image(bytes);
    ASSERT_TRUE(hdr) << name << ": " << hdr.error().message;
    EXPECT_EQ(hdr->source_transfer, Transfer::Linear);
    EXPECT_EQ(hdr->rgb.width(), exr->rgb.width());
  }
}

// ---------------------------------------------------------------- read_hdr_image

TEST(HdrRead, PqPngMapsReferenceWhiteToOne) {
  Image16 img(8, 4, 3);
  const uint16_t white = uint16_t(std::lround(linear_to_pq(203.f / 10000.f) * 65535.f));
  const uint16_t peak = uint16_t(std::lround(linear_to_pq(1000.f / 10000.f) * 65535.f));
  img.fill(white);
  img.at(0, 0, 1) = peak;
  img.at(1, 0, 2) = 0;
  auto bytes = encode_png16(img, Cicp{12, 16, 0, 1});
  ASSERT_TRUE(bytes);
  auto hdr = read_hdr_image(*bytes);
  ASSERT_TRUE(hdr) << hdr.error().message;
  EXPECT_EQ(hdr->primaries, Primaries::DisplayP3);
  EXPECT_EQ(hdr->source_transfer, Transfer::PQ);
  EXPECT_NEAR(hdr->rgb.at(3, 3, 0), 1.0f, 2e-3f);
  EXPECT_NEAR(hdr->rgb.at(0, 0, 1), 1000.f / 203.f, 1e-2f);
  EXPECT_EQ(hdr->rgb.at(1, 0, 2), 0.f);
}

TEST(HdrRead, NarrowRangeCicp) {
  Image16 img(2, 1, 3);
  for (int k = 0; k < 3; ++k) img.at(0, 0, k) = 60160, img.at(1, 0, k) = 4096;  // white, black
  auto bytes = encode_png16(img, Cicp{9, 8, 0, 0});  // linear, narrow range
  ASSERT_TRUE(bytes);
  auto hdr = read_hdr_image(*bytes);
  ASSERT_TRUE(hdr) << hdr.error().message;
  EXPECT_NEAR(hdr->rgb.at(0, 0, 0), 1.f, 1e-6f);
  EXPECT_EQ(hdr->rgb.at(1, 0, 2), 0.f);
}

TEST(HdrRead, PngWithoutCicpNeedsTransfer) {
  Image16 img = pattern16(8, 8, 1);
  auto bytes = encode_png16(img);
  ASSERT_TRUE(bytes);
  auto none = read_hdr_image(*bytes);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::Unsupported);
  EXPECT_NE(none.error().message.find("cICP"), std::string::npos);

  HdrReadOptions o;
  o.transfer = Transfer::Linear;
  auto lin = read_hdr_image(*bytes, o);
  ASSERT_TRUE(lin) << lin.error().message;
  EXPECT_EQ(lin->primaries, Primaries::BT709);
  EXPECT_EQ(lin->rgb.channels(), 3);  // gray replicated
  EXPECT_NEAR(lin->rgb.at(5, 5, 2), img.at(5, 5) / 65535.f, 1e-6f);
  EXPECT_EQ(lin->rgb.at(5, 5, 0), lin->rgb.at(5, 5, 2));

  o.transfer = Transfer::HLG;
  auto hlg = read_hdr_image(*bytes, o);
  ASSERT_TRUE(hlg) << hlg.error().message;
  EXPECT_EQ(hlg->primaries, Primaries::BT2020);
}

TEST(HdrRead, EightBitPngNeedsHdrCicp) {
  Image8 img = pattern8(8, 8, 3);
  auto bytes = encode_png8(img);
  ASSERT_TRUE(bytes);
  HdrReadOptions o;
  o.transfer = Transfer::PQ;
  auto r = read_hdr_image(*bytes, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Unsupported);
}

TEST(HdrRead, TiffDefaults) {
  Image16 img(4, 4, 3);
  img.fill(uint16_t(std::lround(linear_to_pq(203.f / 10000.f) * 65535.f)));
  auto t16 = encode_tiff16(img);
  ASSERT_TRUE(t16);
  auto pq = read_hdr_image(*t16);
  ASSERT_TRUE(pq) << pq.error().message;
  EXPECT_EQ(pq->source_transfer, Transfer::PQ);
  EXPECT_EQ(pq->primaries, Primaries::BT2020);
  EXPECT_NEAR(pq->rgb.at(2, 2, 1), 1.0f, 2e-3f);

  ImageF f = patternf(6, 5);
  auto tf = encode_tiff_float(f);
  ASSERT_TRUE(tf);
  HdrReadOptions o;
  o.primaries = Primaries::DisplayP3;
  auto lin = read_hdr_image(*tf, o);
  ASSERT_TRUE(lin) << lin.error().message;
  EXPECT_EQ(lin->source_transfer, Transfer::Linear);
  EXPECT_EQ(lin->primaries, Primaries::DisplayP3);
  EXPECT_TRUE(same_pixels(lin->rgb, f));
}

TEST(HdrRead, ExrKeepsValuesAndPrimaries) {
  ImageF img = patternf(16, 8);
  auto bytes = encode_exr(img, Primaries::BT2020);
  ASSERT_TRUE(bytes);
  auto hdr = read_hdr_image(*bytes);
  ASSERT_TRUE(hdr) << hdr.error().message;
  EXPECT_EQ(hdr->primaries, Primaries::BT2020);
  EXPECT_NEAR(hdr->rgb.at(15, 7, 1), img.at(15, 7, 1), img.at(15, 7, 1) * 1e-3f);
}

TEST(HdrRead, RejectsSdrFormats) {
  const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0};
  auto r = read_hdr_image(jpeg);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::Unsupported);
  EXPECT_NE(r.error().message.find("OpenEXR"), std::string::npos);
  EXPECT_FALSE(read_hdr_image(ftyp("heic", {"mif1"})));
  EXPECT_FALSE(read_hdr_image({}));
}

// ---------------------------------------------------------------- hostile inputs

TEST(Hostile, BombHeaders) {
  auto png = decode_png(bomb_png(100000, 100000));
  ASSERT_FALSE(png);
  EXPECT_TRUE(too_large_or_invalid(png.error())) << png.error().message;

  auto tif = decode_tiff(bomb_tiff(100000, 100000));
  ASSERT_FALSE(tif);
  EXPECT_TRUE(too_large_or_invalid(tif.error())) << tif.error().message;

  auto exr = decode_exr(bomb_exr(99999, 99999));
  ASSERT_FALSE(exr);
  EXPECT_EQ(exr.error().code, ErrorCode::TooLarge) << exr.error().message;

  auto exr_empty = decode_exr(bomb_exr(-5, 10));  // xMax < xMin
  ASSERT_FALSE(exr_empty);
  EXPECT_EQ(exr_empty.error().code, ErrorCode::InvalidInput);

  auto exr_wrap = decode_exr(bomb_exr(0x7fffffff, 0x7fffffff));
  ASSERT_FALSE(exr_wrap);
  EXPECT_TRUE(too_large_or_invalid(exr_wrap.error()));

  EXPECT_FALSE(decode_png(bomb_png(0, 10)));
  EXPECT_FALSE(decode_tiff(bomb_tiff(0, 10)));
  HdrReadOptions o;
  auto hdr = read_hdr_image(bomb_exr(99999, 99999), o);
  ASSERT_FALSE(hdr);
  EXPECT_EQ(hdr.error().code, ErrorCode::TooLarge);
}

TEST(Hostile, LimitsApplyToValidFiles) {
  Limits small;
  small.max_pixels = 100;
  auto png = encode_png16(pattern16(20, 20, 3));
  auto tif = encode_tiff16(pattern16(20, 20, 3));
  auto exr = encode_exr(patternf(20, 20), Primaries::BT709);
  ASSERT_TRUE(png && tif && exr);
  EXPECT_EQ(decode_png(*png, small).error().code, ErrorCode::TooLarge);
  EXPECT_EQ(decode_tiff(*tif, small).error().code, ErrorCode::TooLarge);
  EXPECT_EQ(decode_exr(*exr, small).error().code, ErrorCode::TooLarge);
  Limits narrow;
  narrow.max_dimension = 19;
  EXPECT_EQ(decode_png(*png, narrow).error().code, ErrorCode::TooLarge);
  EXPECT_EQ(decode_tiff(*tif, narrow).error().code, ErrorCode::TooLarge);
  EXPECT_EQ(decode_exr(*exr, narrow).error().code, ErrorCode::TooLarge);
}

TEST(Hostile, TruncatedFiles) {
  auto png16 = encode_png16(pattern16(48, 40, 3), Cicp{9, 16, 0, 1}, make_display_icc(Primaries::BT2020));
  auto png8 = encode_png8(pattern8(48, 40, 3));
  auto tif16 = encode_tiff16(pattern16(48, 40, 3));
  auto tiff = encode_tiff_float(patternf(48, 40));
  auto exr = encode_exr(patternf(48, 40), Primaries::DisplayP3);
  ASSERT_TRUE(png16 && png8 && tif16 && tiff && exr);

  auto png_of_width = [](int w) {
    return [w](ByteView b) {
      auto r = decode_png(b);
      if (r) {
        EXPECT_EQ(r->pixels.width(), w);  // only a missing IEND may still decode
      }
    };
  };
  truncations(*png16, png_of_width(48));
  truncations(*png8, png_of_width(48));
  auto check_tiff = [](ByteView b) {
    auto r = decode_tiff(b);
    if (r) {
      EXPECT_EQ(r->is_float ? r->pixelsf.width() : r->pixels16.width(), 48);
    }
  };
  truncations(*tif16, check_tiff);
  truncations(*tiff, check_tiff);
  truncations(*exr, [](ByteView b) { EXPECT_FALSE(decode_exr(b)) << b.size(); });
  auto hdr = [](ByteView b) { (void)read_hdr_image(b); };
  truncations(*png16, hdr);
  truncations(*exr, hdr);

  auto hlg = corpus_bytes("hdr-source/hdr_room_bt2020_hlg16.png");
  ASSERT_FALSE(hlg.empty());
  truncations(hlg, png_of_width(676), 40);  // megabyte files: fewer, slower tries
  auto desk = corpus_bytes("hdr-source/Desk.exr");
  ASSERT_FALSE(desk.empty());
  truncations(desk, [](ByteView b) { EXPECT_FALSE(decode_exr(b)) << b.size(); }, 40);
}

TEST(Hostile, DamagedBytes) {
  auto png16 = encode_png16(pattern16(48, 40, 3), Cicp{9, 16, 0, 1});
  auto tif16 = encode_tiff16(pattern16(48, 40, 3));
  auto tiff = encode_tiff_float(patternf(48, 40));
  auto exr = encode_exr(patternf(48, 40), Primaries::DisplayP3);
  ASSERT_TRUE(png16 && tif16 && tiff && exr);
  damage(*png16, [](ByteView b) { (void)decode_png(b); });
  damage(*tif16, [](ByteView b) { (void)decode_tiff(b); });
  damage(*tiff, [](ByteView b) { (void)decode_tiff(b); });
  damage(*exr, [](ByteView b) { (void)decode_exr(b); });
  // Damage concentrated in the first 400 bytes, where lengths and offsets live.
  for (const Bytes* f : {&*png16, &*tif16, &*exr}) {
    const size_t head = std::min<size_t>(f->size(), 400);
    std::mt19937 rng(99);
    for (int i = 0; i < 150; ++i) {
      Bytes d = *f;
      d[rng() % head] = uint8_t(rng());
      (void)read_hdr_image(d);
    }
  }
}

// The parallel writers: deflate bands joined into one stream inflate to the input, and the
// bytes do not depend on the thread count; multi-band PNGs and multi-strip TIFFs of every
// channel count round-trip at both efforts.
TEST(ParallelDeflate, OneStreamIsValidAndThreadIndependent) {
  std::mt19937 rng(7);
  std::vector<std::vector<uint8_t>> bands(9);
  std::vector<uint8_t> all;
  for (size_t b = 0; b < bands.size(); ++b) {
    bands[b].resize(1000 + 7919 * b);
    for (auto& v : bands[b]) v = uint8_t(rng() % (b + 2));  // compressible, different per band
    all.insert(all.end(), bands[b].begin(), bands[b].end());
  }
  auto src = [&](int b, std::vector<uint8_t>& raw) { raw = bands[size_t(b)]; };
  for (DeflateMode mode : {DeflateMode{2, false}, DeflateMode{9, false}, DeflateMode{1, true}}) {
    auto one = deflate_one_stream(int(bands.size()), mode, src, 1);
    auto two = deflate_one_stream(int(bands.size()), mode, src, 2);
    ASSERT_TRUE(one && two);
    EXPECT_EQ(*one, *two);
    std::vector<uint8_t> stream;
    for (const auto& p : *one) stream.insert(stream.end(), p.begin(), p.end());
    std::vector<uint8_t> back(all.size() + 16);
    uLongf n = uLongf(back.size());
    ASSERT_EQ(uncompress(back.data(), &n, stream.data(), uLong(stream.size())), Z_OK);
    back.resize(n);
    EXPECT_EQ(back, all);
    auto each = deflate_each(int(bands.size()), mode, src, 2);
    ASSERT_TRUE(each);
    for (size_t b = 0; b < bands.size(); ++b) {
      std::vector<uint8_t> out(bands[b].size() + 16);
      uLongf m = uLongf(out.size());
      ASSERT_EQ(uncompress(out.data(), &m, (*each)[b].data(), uLong((*each)[b].size())), Z_OK);
      out.resize(m);
      EXPECT_EQ(out, bands[b]);
    }
  }
  EXPECT_FALSE(deflate_one_stream(0, DeflateMode{}, src));
}

TEST(ParallelDeflate, ManyBandPngAndTiffRoundTrip) {
  std::mt19937 rng(3);
  for (int c : {1, 3, 4}) {
    // 1 MB PNG bands and 256 KB TIFF strips: several of each.
    Image16 img(701, 1203, c);
    for (int y = 0; y < img.height(); ++y)
      for (size_t i = 0; i < img.row_elems(); ++i)
        img.row(y)[i] = uint16_t((y * 37 + i * 11) * 13 + rng() % 64);
    for (Effort e : {Effort::Fast, Effort::Small}) {
      auto png = encode_png16(img, Cicp{12, 16, 0, 1}, {}, e);
      ASSERT_TRUE(png) << png.error().message;
      auto back = decode_png(*png);
      ASSERT_TRUE(back) << back.error().message;
      ASSERT_EQ(back->pixels.channels(), c == 4 ? 4 : c);
      EXPECT_EQ(std::memcmp(back->pixels.data(), img.data(), img.size() * 2), 0) << c;
      auto tif = encode_tiff16(img, {}, e);
      ASSERT_TRUE(tif) << tif.error().message;
      auto tb = decode_tiff(*tif);
      ASSERT_TRUE(tb) << tb.error().message;
      EXPECT_EQ(std::memcmp(tb->pixels16.data(), img.data(), img.size() * 2), 0) << c;
    }
    Image8 small(333, 3001, c);
    for (size_t i = 0; i < small.size(); ++i) small.data()[i] = uint8_t(i * 7 + rng() % 3);
    auto p8 = encode_png8(small);
    ASSERT_TRUE(p8);
    auto b8 = decode_png(*p8);
    ASSERT_TRUE(b8);
    EXPECT_EQ(b8->bit_depth, 8);
    for (size_t i = 0; i < small.size(); ++i)
      if (b8->pixels.data()[i] != small.data()[i] * 257) FAIL() << "8-bit pixel " << i;
  }
}
