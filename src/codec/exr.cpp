// OpenEXR through the OpenEXR 3.1 C++ library, from and to memory.
//
// OpenEXR reports everything by exception; each public function catches all of them at its
// boundary. The data window is read by a small parser of our own before OpenEXR sees the
// file, so the pixel limits apply before the library allocates anything sized by it.
#include <ImathBox.h>
#include <ImfChannelList.h>
#include <ImfChromaticities.h>
#include <ImfFrameBuffer.h>
#include <ImfHeader.h>
#include <ImfIO.h>
#include <ImfInputFile.h>
#include <ImfOutputFile.h>
#include <ImfStandardAttributes.h>
#include <ImfThreading.h>
#include <Iex.h>
#include <half.h>

#include <algorithm>
#include <thread>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "regain/codec.h"
#include "util/bytes.h"

namespace regain {

namespace {

// Largest finite half: what +Inf becomes, so a blown-out highlight stays a highlight.
constexpr float kInfCap = 65504.f;

class SpanIStream : public Imf::IStream {
 public:
  explicit SpanIStream(ByteView data) : Imf::IStream("memory"), data_(data) {}
  bool read(char c[], int n) override {
    if (n < 0 || uint64_t(n) > data_.size() - pos_)
      throw Iex::InputExc("unexpected end of EXR data");
    std::memcpy(c, data_.data() + pos_, size_t(n));
    pos_ += uint64_t(n);
    return pos_ < data_.size();
  }
  uint64_t tellg() override { return pos_; }
  void seekg(uint64_t pos) override {
    if (pos > data_.size()) throw Iex::InputExc("EXR seek past end of data");
    pos_ = pos;
  }

 private:
  ByteView data_;
  uint64_t pos_ = 0;
};

class VectorOStream : public Imf::OStream {
 public:
  explicit VectorOStream(Bytes& out) : Imf::OStream("memory"), out_(out) {}
  void write(const char c[], int n) override {
    if (n < 0) throw Iex::ArgExc("negative EXR write");
    uint64_t end = pos_ + uint64_t(n);
    if (end > out_.size()) out_.resize(size_t(end));
    std::memcpy(out_.data() + pos_, c, size_t(n));
    pos_ = end;
  }
  uint64_t tellp() override { return pos_; }
  void seekp(uint64_t pos) override { pos_ = pos; }  // OpenEXR seeks back to patch offsets

 private:
  Bytes& out_;
  uint64_t pos_ = 0;
};

// What the pre-parse of the first header finds.
struct HeaderFacts {
  int64_t width = 0, height = 0;
  uint64_t tile_area = 0;  // 0 for scanline files
  bool deep = false;
};

// EXR header: magic, version/flags, then attributes (name\0 type\0 int32 size, value) up
// to an empty name. Only dataWindow and tiles matter here.
Result<HeaderFacts> scan_header(ByteView bytes) {
  ByteReader r(bytes, /*big_endian=*/false);
  uint32_t magic = 0, version = 0;
  if (!r.u32(magic) || magic != 20000630u || !r.u32(version))
    return fail(ErrorCode::InvalidInput, "not an OpenEXR file");
  HeaderFacts f;
  f.deep = version & 0x800;
  auto read_string = [&](std::string& s) {
    s.clear();
    uint8_t c;
    while (r.u8(c)) {
      if (c == 0) return true;
      if (s.size() >= 255) return false;
      s.push_back(char(c));
    }
    return false;
  };
  bool have_window = false;
  std::string name, type;
  for (;;) {
    if (!read_string(name)) return fail(ErrorCode::InvalidInput, "EXR header truncated");
    if (name.empty()) break;
    uint32_t size = 0;
    if (!read_string(type) || !r.u32(size) || size > r.remaining())
      return fail(ErrorCode::InvalidInput, "EXR header truncated");
    size_t next = r.pos() + size;
    if (name == "dataWindow" && type == "box2i" && size == 16) {
      int32_t x0 = 0, y0 = 0, x1 = -1, y1 = -1;  // size == 16 was checked: reads succeed
      r.s32(x0), r.s32(y0), r.s32(x1), r.s32(y1);
      f.width = int64_t(x1) - x0 + 1;
      f.height = int64_t(y1) - y0 + 1;
      have_window = true;
    } else if (name == "tiles" && type == "tiledesc" && size == 9) {
      uint32_t tx = 0, ty = 0;
      r.u32(tx), r.u32(ty);
      f.tile_area = uint64_t(tx) * ty;
      if (f.tile_area == 0) return fail(ErrorCode::InvalidInput, "EXR has zero tile size");
    }
    r.seek(next);
  }
  if (!have_window) return fail(ErrorCode::InvalidInput, "EXR header has no dataWindow");
  return f;
}

Result<void> check_limits(const HeaderFacts& f, const Limits& limits) {
  if (f.width <= 0 || f.height <= 0) return fail(ErrorCode::InvalidInput, "EXR has an empty data window");
  if (f.width > limits.max_dimension || f.height > limits.max_dimension ||
      uint64_t(f.width) * uint64_t(f.height) > limits.max_pixels)
    return fail(ErrorCode::TooLarge, "EXR is " + std::to_string(f.width) + "x" +
                                         std::to_string(f.height) + ", over the pixel limit");
  // Tiles may overhang the image, but a tile far larger than it is a memory bomb.
  uint64_t cap = std::max<uint64_t>(uint64_t(f.width) * uint64_t(f.height) * 4, 1u << 20);
  if (f.tile_area > cap) return fail(ErrorCode::InvalidInput, "EXR tile size is out of proportion");
  if (f.deep) return fail(ErrorCode::Unsupported, "deep EXR files are not supported");
  return {};
}

// Reads R,G,B (or Y alone, replicated) as float into an interleaved 3-channel image.
Result<ExrImage> read_exr(ByteView bytes, const Limits& limits) {
  REGAIN_TRY(facts, scan_header(bytes));
  REGAIN_CHECK(check_limits(facts, limits));

  SpanIStream stream(bytes);
  Imf::InputFile file(stream);
  const Imf::Header& header = file.header();
  const Imath::Box2i dw = header.dataWindow();
  // The library's view must agree with ours (a multi-part file could differ).
  if (int64_t(dw.max.x) - dw.min.x + 1 != facts.width || int64_t(dw.max.y) - dw.min.y + 1 != facts.height)
    return fail(ErrorCode::Unsupported, "EXR data window differs between parser and library");
  const int w = int(facts.width), h = int(facts.height);

  const Imf::ChannelList& ch = header.channels();
  auto usable = [&](const char* n) {
    const Imf::Channel* c = ch.findChannel(n);
    return c && c->xSampling == 1 && c->ySampling == 1;
  };
  const bool has_rgb = usable("R") || usable("G") || usable("B");
  const bool has_y = usable("Y");
  if (!has_rgb && !has_y)
    return fail(ErrorCode::Unsupported, "EXR has no full-resolution R, G, B or Y channel");

  ExrImage out;
  out.rgb = ImageF(w, h, 3);
  float* base = out.rgb.data();
  const size_t xs = 3 * sizeof(float), ys = xs * size_t(w);
  Imf::FrameBuffer fb;
  if (has_rgb) {
    // Absent channels among R, G, B are filled with 0 by the library.
    fb.insert("R", Imf::Slice::Make(Imf::FLOAT, base + 0, dw, xs, ys));
    fb.insert("G", Imf::Slice::Make(Imf::FLOAT, base + 1, dw, xs, ys));
    fb.insert("B", Imf::Slice::Make(Imf::FLOAT, base + 2, dw, xs, ys));
  } else {
    fb.insert("Y", Imf::Slice::Make(Imf::FLOAT, base, dw, xs, ys));
  }
  file.setFrameBuffer(fb);
  file.readPixels(dw.min.y, dw.max.y);

  float* p = out.rgb.data();
  for (size_t i = 0, n = out.rgb.size(); i < n; i += 3) {
    if (!has_rgb) p[i + 1] = p[i + 2] = p[i];
    for (int c = 0; c < 3; ++c) {
      float v = p[i + c];
      if (std::isnan(v)) p[i + c] = 0.f;
      else if (std::isinf(v)) p[i + c] = v > 0 ? kInfCap : -kInfCap;
    }
  }

  if (Imf::hasChromaticities(header)) {
    const Imf::Chromaticities& c = Imf::chromaticities(header);
    std::array<float, 8> xy = {c.red.x, c.red.y, c.green.x, c.green.y,
                               c.blue.x, c.blue.y, c.white.x, c.white.y};
    out.chromaticities = xy;
    out.primaries = identify_primaries(xy);
  }
  return out;
}

Result<Bytes> write_exr(const ImageF& rgb, Primaries primaries, Effort effort) {
  const int w = rgb.width(), h = rgb.height();
  Imf::Header header(w, h);
  // PIZ (wavelet + Huffman, lossless) by default: on 12-MP photos half the time of ZIP level 2
  // and a slightly smaller file (36.7 vs 37.3 MB); --small: ZIP level 9 (34.8 MB, ~15x slower).
  header.compression() = effort == Effort::Small ? Imf::ZIP_COMPRESSION : Imf::PIZ_COMPRESSION;
  header.zipCompressionLevel() = 9;
  for (const char* n : {"R", "G", "B"}) header.channels().insert(n, Imf::Channel(Imf::HALF));
  auto c = chromaticities(primaries);
  Imf::addChromaticities(header, Imf::Chromaticities(Imath::V2f(c[0], c[1]), Imath::V2f(c[2], c[3]),
                                                     Imath::V2f(c[4], c[5]), Imath::V2f(c[6], c[7])));
  Bytes out;
  VectorOStream stream(out);
  // OpenEXR compresses the 16-line blocks of each writePixels call as tasks of its global
  // thread pool, which has no threads until it is given some.
  static const int threads = [] {
    const int n = int(std::max(1u, std::thread::hardware_concurrency()));
    if (Imf::globalThreadCount() < n) Imf::setGlobalThreadCount(n);
    return n;
  }();
  Imf::OutputFile file(stream, header, threads);

  // Converted in bands of rows to half ourselves, so NaN/Inf and values beyond half range
  // are sanitised instead of turning into Inf, without a full-size half copy. A band holds
  // enough 16-line blocks to keep every thread busy.
  constexpr int kBand = 512;
  std::vector<half> band(size_t(w) * 3 * std::min(kBand, h));
  for (int y0 = 0; y0 < h; y0 += kBand) {
    const int rows = std::min(kBand, h - y0);
    const float* s = rgb.row(y0);
    for (size_t i = 0, n = size_t(w) * 3 * rows; i < n; ++i) {
      float v = s[i];
      band[i] = half(std::isnan(v) ? 0.f : std::clamp(v, -kInfCap, kInfCap));
    }
    Imf::FrameBuffer fb;
    const size_t xs = 3 * sizeof(half), ys = xs * size_t(w);
    const Imath::V2i origin(0, y0);
    for (int k = 0; k < 3; ++k)
      fb.insert(k == 0 ? "R" : k == 1 ? "G" : "B",
                Imf::Slice::Make(Imf::HALF, band.data() + k, origin, w, rows, xs, ys));
    file.setFrameBuffer(fb);
    file.writePixels(rows);
  }
  return out;
}

}  // namespace

Result<ExrImage> decode_exr(ByteView exr, const Limits& limits) {
  if (exr.size() > limits.max_file_bytes) return fail(ErrorCode::TooLarge, "EXR file is over the size limit");
  try {
    return read_exr(exr, limits);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "EXR: out of memory");
  } catch (const std::exception& e) {
    return fail(ErrorCode::InvalidInput, std::string("EXR: ") + e.what());
  } catch (...) {
    return fail(ErrorCode::InvalidInput, "EXR: unknown decoder error");
  }
}

Result<Bytes> encode_exr(const ImageF& rgb, Primaries primaries, Effort effort) {
  if (rgb.empty()) return fail(ErrorCode::InvalidInput, "EXR encode: empty image");
  if (rgb.channels() != 3) return fail(ErrorCode::InvalidInput, "EXR encode: 3 channels only");
  try {
    return write_exr(rgb, primaries, effort);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "EXR encode: out of memory");
  } catch (const std::exception& e) {
    return fail(ErrorCode::Internal, std::string("EXR encode: ") + e.what());
  } catch (...) {
    return fail(ErrorCode::Internal, "EXR encode: unknown error");
  }
}

}  // namespace regain
