// TIFF through libtiff, entirely in memory (TIFFClientOpenExt over a byte span for reading,
// over a growable vector for writing). Per-handle error handlers collect libtiff's message
// for our Error; the process-wide handlers are silenced once so nothing reaches stderr.
#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "codec/deflate_bands.h"
#include "regain/codec.h"

namespace regain {

namespace {

constexpr size_t kMessageSize = 256;

struct Messages {
  char error[kMessageSize] = {};
};

int on_tiff_error(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  auto* m = static_cast<Messages*>(user);
  // Keep the first error: later ones are usually consequences of it.
  if (m && !m->error[0]) std::vsnprintf(m->error, kMessageSize, fmt, ap);
  return 1;  // handled: do not fall through to the global handler
}
int on_tiff_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

void silence_global_handlers() {
  // Errors raised before a handle exists only reach the global handlers.
  static std::once_flag once;
  std::call_once(once, [] {
    TIFFSetErrorHandler(nullptr);
    TIFFSetWarningHandler(nullptr);
  });
}

std::string message_or(const Messages& m, const char* fallback) {
  return m.error[0] ? std::string(m.error) : std::string(fallback);
}

struct Options {
  TIFFOpenOptions* o = TIFFOpenOptionsAlloc();
  explicit Options(Messages* m, tmsize_t max_alloc = 0) {
    if (!o) return;
    TIFFOpenOptionsSetErrorHandlerExtR(o, on_tiff_error, m);
    TIFFOpenOptionsSetWarningHandlerExtR(o, on_tiff_warning, m);
    if (max_alloc > 0) TIFFOpenOptionsSetMaxSingleMemAlloc(o, max_alloc);
  }
  ~Options() { if (o) TIFFOpenOptionsFree(o); }
  Options(const Options&) = delete;
  Options& operator=(const Options&) = delete;
};

struct Handle {
  TIFF* t = nullptr;
  ~Handle() { if (t) TIFFClose(t); }
};

// ---------------------------------------------------------------- client I/O

// One struct serves both directions: reads come from `in`, writes grow `out`.
struct Stream {
  const uint8_t* in = nullptr;
  size_t in_size = 0;
  std::vector<uint8_t>* out = nullptr;
  uint64_t pos = 0;
  size_t size() const { return out ? out->size() : in_size; }
};

tmsize_t s_read(thandle_t h, void* buf, tmsize_t n) {
  auto* s = static_cast<Stream*>(h);
  if (n <= 0 || s->pos >= s->size()) return 0;
  size_t k = std::min<uint64_t>(uint64_t(n), s->size() - s->pos);
  std::memcpy(buf, (s->out ? s->out->data() : s->in) + s->pos, k);
  s->pos += k;
  return tmsize_t(k);
}
tmsize_t s_write(thandle_t h, void* buf, tmsize_t n) {
  auto* s = static_cast<Stream*>(h);
  if (!s->out || n < 0) return -1;
  uint64_t end = s->pos + uint64_t(n);
  try {
    if (end > s->out->size()) s->out->resize(size_t(end));
  } catch (...) {
    return -1;  // exceptions must not cross libtiff's C frames
  }
  std::memcpy(s->out->data() + s->pos, buf, size_t(n));
  s->pos = end;
  return n;
}
toff_t s_seek(thandle_t h, toff_t off, int whence) {
  auto* s = static_cast<Stream*>(h);
  int64_t base = whence == SEEK_CUR ? int64_t(s->pos) : whence == SEEK_END ? int64_t(s->size()) : 0;
  int64_t target = base + int64_t(off);
  // Writers may seek past the end (the gap is filled on the next write); readers may not
  // go below zero. 2^40 bounds a hostile offset far above any real file.
  if (target < 0 || target > (int64_t(1) << 40)) return toff_t(-1);
  s->pos = uint64_t(target);
  return toff_t(target);
}
int s_close(thandle_t) { return 0; }
toff_t s_size(thandle_t h) { return static_cast<Stream*>(h)->size(); }
int s_map(thandle_t, void**, toff_t*) { return 0; }  // no mapping: always read through s_read
void s_unmap(thandle_t, void*, toff_t) {}

TIFF* open_stream(Stream* s, const char* mode, Options& opt) {
  silence_global_handlers();
  return TIFFClientOpenExt("memory", mode, s, s_read, s_write, s_seek, s_close, s_size, s_map,
                           s_unmap, opt.o);
}

// ---------------------------------------------------------------- decoding

uint16_t widen(uint8_t v) { return uint16_t(v * 257); }
uint16_t widen(uint16_t v) { return v; }
float widen(float v) { return v; }

template <class Src>
Src load(const uint8_t* p, size_t i) {
  Src v;
  std::memcpy(&v, p + i * sizeof(Src), sizeof(Src));
  return v;
}

// Copies a decoded strip or tile (bw x bh pixels of `bspp` samples: spp when contiguous,
// 1 for one plane of a planar file) to (x0, y0) of the interleaved destination, clipping
// at the image edge.
template <class Src, class Dst>
void place_block(const uint8_t* block, uint32_t bw, uint32_t bh, int bspp, uint32_t x0, uint32_t y0,
                 int plane, Image<Dst>& dst) {
  const uint32_t W = uint32_t(dst.width()), H = uint32_t(dst.height());
  const int spp = dst.channels();
  uint32_t cw = std::min(bw, W - x0), ch = std::min(bh, H - y0);
  for (uint32_t y = 0; y < ch; ++y) {
    const uint8_t* s = block + size_t(y) * bw * bspp * sizeof(Src);
    Dst* d = dst.row(int(y0 + y)) + size_t(x0) * spp;
    if (bspp == spp) {
      for (size_t i = 0, n = size_t(cw) * spp; i < n; ++i) d[i] = widen(load<Src>(s, i));
    } else {
      for (uint32_t x = 0; x < cw; ++x) d[size_t(x) * spp + plane] = widen(load<Src>(s, x));
    }
  }
}

struct Layout {
  uint32_t width = 0, height = 0;
  uint16_t spp = 1, bps = 8, format = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG;
  bool tiled = false;
};

// Contiguous strips decode straight into the destination rows; 8-bit data lands in the
// first half of the 16-bit rows and is widened in place, back to front.
template <class Src, class Dst>
Result<void> read_contig_strips(TIFF* t, const Layout& L, Image<Dst>& img, const Messages& m) {
  uint32_t rps = 0;
  TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &rps);
  if (rps == 0) rps = L.height;
  const size_t row_bytes = size_t(L.width) * L.spp * sizeof(Src);
  if (uint64_t(TIFFScanlineSize64(t)) != row_bytes)
    return fail(ErrorCode::Unsupported, "TIFF: unexpected scanline layout");
  for (uint32_t y0 = 0; y0 < L.height; y0 += rps) {
    uint32_t rows = std::min(rps, L.height - y0);
    uint8_t* dst = reinterpret_cast<uint8_t*>(img.row(int(y0)));
    tmsize_t want = tmsize_t(row_bytes * rows);
    if (TIFFReadEncodedStrip(t, TIFFComputeStrip(t, y0, 0), dst, want) != want)
      return fail(ErrorCode::InvalidInput, "TIFF strip: " + message_or(m, "short read"));
    if constexpr (!std::is_same_v<Src, Dst>) {
      Dst* d = img.row(int(y0));
      for (size_t i = size_t(L.width) * L.spp * rows; i-- > 0;) d[i] = widen(Src(dst[i]));
    }
    if (rps >= L.height) break;  // avoids y0 += rps overflowing for huge RowsPerStrip
  }
  return {};
}

// Planar strips and tiles go through one block buffer and place_block.
template <class Src, class Dst>
Result<void> read_blocks(TIFF* t, const Layout& L, Image<Dst>& img, const Messages& m) {
  const bool planar = L.planar == PLANARCONFIG_SEPARATE;
  const int bspp = planar ? 1 : L.spp;
  const int planes = planar ? L.spp : 1;
  uint32_t bw = L.width, bh = 0;
  if (L.tiled) {
    TIFFGetField(t, TIFFTAG_TILEWIDTH, &bw);
    TIFFGetField(t, TIFFTAG_TILELENGTH, &bh);
    // Tiles may overhang the image, but a tile far larger than the image is a bomb.
    if (bw == 0 || bh == 0 || uint64_t(bw) * bh > std::max<uint64_t>(uint64_t(L.width) * L.height * 4, 1 << 20))
      return fail(ErrorCode::InvalidInput, "TIFF: bad tile size");
  } else {
    TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &bh);
    bh = std::min(bh == 0 ? L.height : bh, L.height);
  }
  const size_t block_bytes = size_t(bw) * bh * bspp * sizeof(Src);
  if (L.tiled && uint64_t(TIFFTileSize64(t)) != block_bytes)
    return fail(ErrorCode::Unsupported, "TIFF: unexpected tile layout");
  std::vector<uint8_t> buf(block_bytes);
  for (int p = 0; p < planes; ++p) {
    for (uint32_t y0 = 0; y0 < L.height; y0 += bh) {
      for (uint32_t x0 = 0; x0 < L.width; x0 += bw) {
        uint32_t rows = std::min(bh, L.height - y0);
        tmsize_t got;
        if (L.tiled) {
          got = TIFFReadEncodedTile(t, TIFFComputeTile(t, x0, y0, 0, uint16_t(p)), buf.data(),
                                    tmsize_t(block_bytes));
          rows = bh;
        } else {
          tmsize_t want = tmsize_t(size_t(bw) * rows * bspp * sizeof(Src));
          got = TIFFReadEncodedStrip(t, TIFFComputeStrip(t, y0, uint16_t(p)), buf.data(), want);
          if (got != want) got = -1;
        }
        if (got < 0 || (L.tiled && size_t(got) != block_bytes))
          return fail(ErrorCode::InvalidInput, "TIFF data: " + message_or(m, "short read"));
        place_block<Src>(buf.data(), bw, rows, bspp, x0, y0, p, img);
        if (bw >= L.width) break;
      }
      if (bh >= L.height) break;
    }
  }
  return {};
}

template <class Src, class Dst>
Result<void> read_pixels(TIFF* t, const Layout& L, Image<Dst>& img, const Messages& m) {
  if (!L.tiled && L.planar == PLANARCONFIG_CONTIG) return read_contig_strips<Src>(t, L, img, m);
  return read_blocks<Src>(t, L, img, m);
}

Result<TiffImage> decode(ByteView bytes, const Limits& limits) {
  Messages msg;
  // libtiff's own allocations stay below the largest legitimate strip: the whole image.
  Options opt(&msg, tmsize_t(std::min<uint64_t>(limits.max_pixels * 16 + (1 << 20), uint64_t(1) << 40)));
  Stream s;
  s.in = bytes.data();
  s.in_size = bytes.size();
  Handle h;
  h.t = open_stream(&s, "rm", opt);
  if (!h.t) return fail(ErrorCode::InvalidInput, "TIFF: " + message_or(msg, "cannot parse header"));
  TIFF* t = h.t;

  Layout L;
  L.tiled = TIFFIsTiled(t);
  if (!TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &L.width) || !TIFFGetField(t, TIFFTAG_IMAGELENGTH, &L.height))
    return fail(ErrorCode::InvalidInput, "TIFF: no image size");
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &L.spp);
  TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &L.bps);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &L.format);
  TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &L.planar);
  uint16_t photometric = L.spp == 1 ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB;
  TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photometric);

  if (L.width == 0 || L.height == 0) return fail(ErrorCode::InvalidInput, "TIFF has zero size");
  if (L.width > limits.max_dimension || L.height > limits.max_dimension ||
      uint64_t(L.width) * L.height > limits.max_pixels)
    return fail(ErrorCode::TooLarge, "TIFF is " + std::to_string(L.width) + "x" +
                                         std::to_string(L.height) + ", over the pixel limit");
  if (L.spp != 1 && L.spp != 3 && L.spp != 4)
    return fail(ErrorCode::Unsupported, "TIFF with " + std::to_string(L.spp) + " samples per pixel");
  if ((L.spp == 1 && photometric != PHOTOMETRIC_MINISBLACK) ||
      (L.spp > 1 && photometric != PHOTOMETRIC_RGB))
    return fail(ErrorCode::Unsupported, "TIFF photometric interpretation " +
                                            std::to_string(photometric) + " (only gray and RGB)");
  const bool is_uint = L.format == SAMPLEFORMAT_UINT && (L.bps == 8 || L.bps == 16);
  const bool is_float = L.format == SAMPLEFORMAT_IEEEFP && L.bps == 32;
  if (!is_uint && !is_float)
    return fail(ErrorCode::Unsupported, "TIFF sample format " + std::to_string(L.format) + " with " +
                                            std::to_string(L.bps) + " bits (need 8/16-bit unsigned or 32-bit float)");
  if (L.planar != PLANARCONFIG_CONTIG && L.planar != PLANARCONFIG_SEPARATE)
    return fail(ErrorCode::InvalidInput, "TIFF: bad planar configuration");

  TiffImage out;
  out.bit_depth = L.bps;
  out.is_float = is_float;
  Result<void> r;
  if (is_float) {
    out.pixelsf = ImageF(int(L.width), int(L.height), L.spp);
    r = read_pixels<float>(t, L, out.pixelsf, msg);
  } else {
    out.pixels16 = Image16(int(L.width), int(L.height), L.spp);
    r = L.bps == 8 ? read_pixels<uint8_t>(t, L, out.pixels16, msg)
                   : read_pixels<uint16_t>(t, L, out.pixels16, msg);
  }
  if (!r) return tl::unexpected(r.error());

  uint32_t icc_len = 0;
  void* icc = nullptr;
  if (TIFFGetField(t, TIFFTAG_ICCPROFILE, &icc_len, &icc) && icc && icc_len)
    out.icc.assign(static_cast<uint8_t*>(icc), static_cast<uint8_t*>(icc) + icc_len);
  if (L.spp == 4) {
    uint16_t count = 0;
    uint16_t* kinds = nullptr;
    out.extra = TiffImage::Extra::Unspecified;
    if (TIFFGetField(t, TIFFTAG_EXTRASAMPLES, &count, &kinds) && count >= 1 && kinds) {
      if (kinds[0] == EXTRASAMPLE_UNASSALPHA) out.extra = TiffImage::Extra::Alpha;
      else if (kinds[0] == EXTRASAMPLE_ASSOCALPHA) out.extra = TiffImage::Extra::PremultipliedAlpha;
    }
  }
  uint16_t orientation = 1;
  if (TIFFGetField(t, TIFFTAG_ORIENTATION, &orientation) && orientation >= 1 && orientation <= 8)
    out.orientation = orientation;
  return out;
}

// ---------------------------------------------------------------- encoding

template <class T>
Result<Bytes> encode(const Image<T>& img, std::span<const uint8_t> icc, Effort effort) {
  if (img.empty()) return fail(ErrorCode::InvalidInput, "TIFF encode: empty image");
  const int spp = img.channels();
  if (spp != 1 && spp != 3 && spp != 4)
    return fail(ErrorCode::InvalidInput, "TIFF encode: 1, 3 or 4 channels only");
  if (icc.size() > 0xffffffffu) return fail(ErrorCode::InvalidInput, "TIFF encode: ICC too large");
  constexpr bool kFloat = std::is_same_v<T, float>;
  Messages msg;
  Options opt(&msg);
  Bytes bytes;
  Stream s;
  s.out = &bytes;
  Handle h;
  h.t = open_stream(&s, "w", opt);
  if (!h.t) return fail(ErrorCode::Internal, "TIFF encode: " + message_or(msg, "cannot open"));
  TIFF* t = h.t;

  const size_t row_bytes = img.row_elems() * sizeof(T);
  // ~256 KB strips: large enough for deflate to work well, small enough to stream.
  const uint32_t rps = uint32_t(std::clamp<size_t>((256u << 10) / row_bytes, 1, size_t(img.height())));
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, uint32_t(img.width()));
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, uint32_t(img.height()));
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, uint16_t(spp));
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, uint16_t(sizeof(T) * 8));
  TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, uint16_t(kFloat ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT));
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, uint16_t(spp == 1 ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB));
  TIFFSetField(t, TIFFTAG_PLANARCONFIG, uint16_t(PLANARCONFIG_CONTIG));
  TIFFSetField(t, TIFFTAG_ORIENTATION, uint16_t(ORIENTATION_TOPLEFT));
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rps);
  TIFFSetField(t, TIFFTAG_COMPRESSION, uint16_t(COMPRESSION_ADOBE_DEFLATE));
  // Differencing predictors make smooth image data compress several times better.
  TIFFSetField(t, TIFFTAG_PREDICTOR, uint16_t(kFloat ? PREDICTOR_FLOATINGPOINT : PREDICTOR_HORIZONTAL));
  const int level = effort == Effort::Small ? 9 : 2;
  TIFFSetField(t, TIFFTAG_ZIPQUALITY, level);
  if (spp == 4) {
    const uint16_t extra[1] = {EXTRASAMPLE_UNASSALPHA};
    TIFFSetField(t, TIFFTAG_EXTRASAMPLES, uint16_t(1), extra);
  }
  if (!icc.empty()) TIFFSetField(t, TIFFTAG_ICCPROFILE, uint32_t(icc.size()), icc.data());

  const int strips = int((uint32_t(img.height()) + rps - 1) / rps);
  if constexpr (!kFloat) {
    // Integer samples: the horizontal predictor (TIFF 6.0 section 14: each sample minus the
    // same sample of the pixel to its left, modulo 2^bits, in the file's byte order, which
    // libtiff makes the host's) and deflate run per strip on all cores; libtiff writes the
    // finished strips.
    auto z = deflate_each(strips, DeflateMode{level, false}, [&](int k, std::vector<uint8_t>& raw) {
      const int y0 = k * int(rps), y1 = std::min(img.height(), y0 + int(rps));
      raw.resize(row_bytes * size_t(y1 - y0));
      for (int y = y0; y < y1; ++y) {
        T* d = reinterpret_cast<T*>(raw.data() + row_bytes * size_t(y - y0));
        const T* src = img.row(y);
        const size_t n = img.row_elems();
        for (size_t i = 0; i < size_t(spp) && i < n; ++i) d[i] = src[i];
        for (size_t i = size_t(spp); i < n; ++i) d[i] = T(src[i] - src[i - spp]);
      }
    });
    if (!z) return fail(z.error().code, "TIFF encode: " + z.error().message);
    for (int k = 0; k < strips; ++k) {
      auto& piece = (*z)[size_t(k)];
      if (TIFFWriteRawStrip(t, uint32_t(k), piece.data(), tmsize_t(piece.size())) < 0)
        return fail(ErrorCode::Internal, "TIFF encode: " + message_or(msg, "strip write failed"));
      piece = {};
    }
    if (!TIFFWriteDirectory(t))
      return fail(ErrorCode::Internal, "TIFF encode: " + message_or(msg, "directory write failed"));
    TIFFClose(h.t);
    h.t = nullptr;
    return bytes;
  }
  // Float samples: libtiff's floating-point predictor, strip by strip. It works in place, so
  // each strip is copied out of the caller's const image first.
  std::vector<uint8_t> strip(row_bytes * rps);
  for (uint32_t y0 = 0, s_index = 0; y0 < uint32_t(img.height()); y0 += rps, ++s_index) {
    uint32_t rows = std::min<uint32_t>(rps, uint32_t(img.height()) - y0);
    size_t n = row_bytes * rows;
    std::memcpy(strip.data(), img.row(int(y0)), n);
    if (TIFFWriteEncodedStrip(t, s_index, strip.data(), tmsize_t(n)) < 0)
      return fail(ErrorCode::Internal, "TIFF encode: " + message_or(msg, "strip write failed"));
  }
  if (!TIFFWriteDirectory(t))
    return fail(ErrorCode::Internal, "TIFF encode: " + message_or(msg, "directory write failed"));
  TIFFClose(h.t);
  h.t = nullptr;
  return bytes;
}

}  // namespace

Result<TiffImage> decode_tiff(ByteView tiff, const Limits& limits) {
  if (tiff.size() > limits.max_file_bytes) return fail(ErrorCode::TooLarge, "TIFF file is over the size limit");
  try {
    return decode(tiff, limits);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "TIFF: out of memory");
  }
}

Result<Bytes> encode_tiff16(const Image16& img, std::span<const uint8_t> icc, Effort effort) {
  try {
    return encode(img, icc, effort);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "TIFF encode: out of memory");
  }
}

Result<Bytes> encode_tiff_float(const ImageF& img, std::span<const uint8_t> icc, Effort effort) {
  try {
    return encode(img, icc, effort);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "TIFF encode: out of memory");
  }
}

}  // namespace regain
