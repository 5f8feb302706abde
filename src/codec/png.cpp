// PNG through libpng, from and to memory.
//
// libpng reports errors by longjmp. The rule kept here: every function that calls setjmp
// (the `*_phase` / `write_png` functions) holds only trivially destructible locals, and the
// error/read/write callbacks never own C++ objects while libpng is on the stack. RAII
// objects (the png_struct guard, the Image16, row-pointer vectors, the output vector) live
// in the outer functions, which only call the phase functions.
#include <png.h>

#include <algorithm>
#include <functional>
#include <bit>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "codec/deflate_bands.h"
#include "regain/codec.h"

namespace regain {

namespace {

constexpr size_t kMessageSize = 256;

// Stores libpng's message and jumps back to the active setjmp.
[[noreturn]] void on_png_error(png_structp png, png_const_charp msg) {
  auto* buf = static_cast<char*>(png_get_error_ptr(png));
  if (buf) std::snprintf(buf, kMessageSize, "%s", msg ? msg : "libpng error");
  png_longjmp(png, 1);
}
void on_png_warning(png_structp, png_const_charp) {}  // warnings are not failures; stay quiet

// ---------------------------------------------------------------- reading

struct ReadCtx {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const uint8_t* data = nullptr;
  size_t size = 0, pos = 0;
  char message[kMessageSize] = {};
  bool have_cicp = false;
  uint8_t cicp[4] = {};
  // Filled by header_phase.
  png_uint_32 width = 0, height = 0;
  int stored_depth = 0, out_channels = 0;
  bool eight_bit = false;
  // Set by the caller: keep transparency (tRNS expanded to alpha, gray+alpha kept) instead
  // of dropping it.
  bool keep_alpha = false;
  bool interlaced = false;  // filled by header_phase
  // Set by the caller for row-at-a-time reading (non-interlaced only): each decoded row goes
  // through row_buf to on_row instead of into a whole-image buffer.
  std::function<void(png_uint_32 y, const uint8_t* row)> on_row;
  std::vector<uint8_t> row_buf;

  ReadCtx() = default;
  ReadCtx(const ReadCtx&) = delete;
  ReadCtx& operator=(const ReadCtx&) = delete;
  ~ReadCtx() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

void read_from_span(png_structp png, png_bytep out, size_t n) {
  auto* c = static_cast<ReadCtx*>(png_get_io_ptr(png));
  if (n > c->size - c->pos) png_error(png, "truncated PNG data");
  std::memcpy(out, c->data + c->pos, n);
  c->pos += n;
}

// cICP is unknown to libpng 1.6.39; it reaches us through the user-chunk callback.
int on_user_chunk(png_structp png, png_unknown_chunkp chunk) {
  auto* c = static_cast<ReadCtx*>(png_get_user_chunk_ptr(png));
  if (std::memcmp(chunk->name, "cICP", 4) != 0) return 0;  // not ours: default handling
  if (chunk->size == 4) {
    std::memcpy(c->cicp, chunk->data, 4);
    c->have_cicp = true;
  }
  return 1;  // handled (a malformed cICP is ignored rather than fatal)
}

enum class Phase { Ok, LibError, TooLarge };

// Reads the chunks before IDAT and sets up the output transforms. No allocation of our
// own happens here, so the limit check runs before any pixel buffer exists.
Phase header_phase(ReadCtx* c, const Limits* limits) {
  png_structp png = c->png;
  png_infop info = c->info;
  if (setjmp(png_jmpbuf(png))) return Phase::LibError;
  png_read_info(png, info);
  c->width = png_get_image_width(png, info);
  c->height = png_get_image_height(png, info);
  if (c->width == 0 || c->height == 0) png_error(png, "zero image size");
  if (c->width > limits->max_dimension || c->height > limits->max_dimension ||
      uint64_t(c->width) * c->height > limits->max_pixels)
    return Phase::TooLarge;

  const int color = png_get_color_type(png, info);
  const int depth = png_get_bit_depth(png, info);
  // A palette's entries are 8-bit whatever the index depth; report what the samples are.
  c->stored_depth = color == PNG_COLOR_TYPE_PALETTE ? 8 : depth;
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (c->keep_alpha) {
    // tRNS (transparent palette entries or one colour key) becomes an alpha channel, so the
    // rows are gray, gray+alpha, RGB or RGBA.
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  } else if (color == PNG_COLOR_TYPE_GRAY_ALPHA) {
    png_set_strip_alpha(png);  // gray+alpha carries no colour; callers want plain gray
  }
  if (depth == 16 && std::endian::native == std::endian::little) png_set_swap(png);
  c->interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
  png_set_interlace_handling(png);
  png_read_update_info(png, info);

  c->out_channels = png_get_channels(png, info);
  c->eight_bit = png_get_bit_depth(png, info) == 8;
  if (c->out_channels < 1 || c->out_channels > 4 || (c->out_channels == 2 && !c->keep_alpha))
    png_error(png, "unexpected channel layout");
  return Phase::Ok;
}

Phase rows_phase(ReadCtx* c, png_bytepp rows) {
  if (setjmp(png_jmpbuf(c->png))) return Phase::LibError;
  if (c->on_row) {
    for (png_uint_32 y = 0; y < c->height; ++y) {
      png_read_row(c->png, c->row_buf.data(), nullptr);
      c->on_row(y, c->row_buf.data());
    }
    return Phase::Ok;
  }
  png_read_image(c->png, rows);
  // png_read_end is skipped on purpose: the pixels are complete at this point and
  // chunks after IDAT (text, time) are of no interest.
  return Phase::Ok;
}

// In-place widening of 8-bit samples read into the start of each 16-bit row. Walking
// backwards keeps every source byte intact until it has been read.
void widen_row(uint16_t* row, size_t n) {
  const uint8_t* src = reinterpret_cast<const uint8_t*>(row);
  for (size_t i = n; i-- > 0;) {
    uint16_t v = uint16_t(src[i] * 257);
    row[i] = v;
  }
}

// ---------------------------------------------------------------- writing

struct WriteCtx {
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::vector<uint8_t>* out = nullptr;
  char message[kMessageSize] = {};
  bool out_of_memory = false;

  WriteCtx() = default;
  WriteCtx(const WriteCtx&) = delete;
  WriteCtx& operator=(const WriteCtx&) = delete;
  ~WriteCtx() {
    if (png) png_destroy_write_struct(&png, info ? &info : nullptr);
  }
};

void write_to_vector(png_structp png, png_bytep data, size_t n) {
  auto* c = static_cast<WriteCtx*>(png_get_io_ptr(png));
  // An exception must not unwind through libpng's C frames: catch it, then raise a libpng
  // error outside the handler.
  try {
    c->out->insert(c->out->end(), data, data + n);
  } catch (...) {
    c->out_of_memory = true;
  }
  if (c->out_of_memory) png_error(png, "out of memory");
}
void flush_nothing(png_structp) {}

struct WriteJob {
  png_uint_32 width, height;
  int channels, depth;
  const Cicp* cicp;  // may be null
  const uint8_t* icc;
  size_t icc_size;
  const std::vector<uint8_t>* idat;  // the zlib stream of the filtered rows, in pieces
  size_t idat_count;
};

bool write_phase(WriteCtx* c, const WriteJob* job) {
  png_structp png = c->png;
  png_infop info = c->info;
  if (setjmp(png_jmpbuf(png))) return false;
  static const int kColor[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                               PNG_COLOR_TYPE_RGB_ALPHA};
  png_set_IHDR(png, info, job->width, job->height, job->depth, kColor[job->channels],
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (job->icc && job->icc_size)
    png_set_iCCP(png, info, "ICC Profile", PNG_COMPRESSION_TYPE_BASE, job->icc,
                 png_uint_32(job->icc_size));
  png_write_info(png, info);
  // IHDR (and iCCP) are out, nothing of PLTE/IDAT yet: where cICP must go.
  if (job->cicp) {
    const png_byte cicp[4] = {job->cicp->primaries, job->cicp->transfer, job->cicp->matrix,
                              job->cicp->full_range};
    png_write_chunk(png, reinterpret_cast<png_const_bytep>("cICP"), cicp, 4);
  }
  // The image data was filtered and compressed on all cores (encode_png); libpng frames it.
  for (size_t i = 0; i < job->idat_count; ++i)
    png_write_chunk(png, reinterpret_cast<png_const_bytep>("IDAT"), job->idat[i].data(), job->idat[i].size());
  png_write_chunk(png, reinterpret_cast<png_const_bytep>("IEND"), nullptr, 0);
  return true;
}

// Paeth from byte k on, branch-free so it vectorises (AVX2 clone where the CPU has it): the
// same choice as the specification's predictor, written with |p - a| = |b - c|,
// |p - b| = |a - c|, |p - c| = |a + b - 2c|.
__attribute__((target_clones("avx2", "default"))) void paeth_tail(const uint8_t* __restrict cur,
                                                                  const uint8_t* __restrict prev, size_t n,
                                                                  size_t k, int bpp, uint8_t* __restrict t) {
  for (size_t i = k; i < n; ++i) {
    const int a = cur[i - bpp], b = prev[i], c = prev[i - bpp];
    const int pa = std::abs(b - c), pb = std::abs(a - c), pc = std::abs(a + b - 2 * c);
    const int pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
    t[i] = uint8_t(cur[i] - pred);
  }
}

// Filters one row (PNG filter types 1 Sub, 2 Up, 3 Average, 4 Paeth; `prev` is the row above,
// zeros for the first) and keeps the result with the smallest sum of absolute signed bytes,
// the heuristic the PNG specification suggests. Fast: Sub and Paeth only (smooth photographic
// rows pick one of the two almost always); Small: all five types.
void filter_row(const uint8_t* cur, const uint8_t* prev, size_t n, int bpp, Effort effort, uint8_t* out,
                std::vector<uint8_t>& tmp) {
  tmp.resize(n);
  uint8_t* t = tmp.data();
  const size_t k = std::min(n, size_t(bpp));
  uint64_t best = UINT64_MAX;
  auto keep = [&](uint8_t type) {
    uint64_t sum = 0;
    for (size_t i = 0; i < n; ++i) sum += uint64_t(std::abs(int(int8_t(t[i]))));
    if (sum < best) {
      best = sum;
      out[0] = type;
      std::memcpy(out + 1, t, n);
    }
  };
  // Each type as a plain loop (the first pixel has no left neighbour), so GCC vectorises it.
  if (effort == Effort::Small) {
    std::memcpy(t, cur, n);
    keep(0);
    for (size_t i = 0; i < n; ++i) t[i] = uint8_t(cur[i] - prev[i]);
    keep(2);
    for (size_t i = 0; i < k; ++i) t[i] = uint8_t(cur[i] - (prev[i] >> 1));
    for (size_t i = k; i < n; ++i) t[i] = uint8_t(cur[i] - ((cur[i - bpp] + prev[i]) >> 1));
    keep(3);
  }
  for (size_t i = 0; i < k; ++i) t[i] = cur[i];
  for (size_t i = k; i < n; ++i) t[i] = uint8_t(cur[i] - cur[i - bpp]);
  keep(1);
  for (size_t i = 0; i < k; ++i) t[i] = uint8_t(cur[i] - prev[i]);  // Paeth with a = c = 0 is b
  paeth_tail(cur, prev, n, k, bpp, t);
  keep(4);
}

// Row y as PNG stores it: samples big-endian.
template <class T>
void png_row(const Image<T>& img, int y, uint8_t* out) {
  const T* s = img.row(y);
  if constexpr (sizeof(T) == 1) {
    std::memcpy(out, s, img.row_elems());
  } else {
    for (size_t i = 0, n = img.row_elems(); i < n; ++i) {
      out[2 * i] = uint8_t(s[i] >> 8);
      out[2 * i + 1] = uint8_t(s[i]);
    }
  }
}

template <class T>
Result<Bytes> encode_png(const Image<T>& img, int depth, const Cicp* cicp,
                         std::span<const uint8_t> icc, Effort effort) {
  if (img.empty()) return fail(ErrorCode::InvalidInput, "PNG encode: empty image");
  if (img.channels() < 1 || img.channels() > 4)
    return fail(ErrorCode::InvalidInput, "PNG encode: 1 to 4 channels only");
  if (icc.size() > 0x7fffffff) return fail(ErrorCode::InvalidInput, "PNG encode: ICC too large");
  Bytes out;
  WriteCtx c;
  c.out = &out;
  c.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, c.message, on_png_error, on_png_warning);
  if (!c.png) return fail(ErrorCode::Internal, "libpng write init failed");
  c.info = png_create_info_struct(c.png);
  if (!c.info) return fail(ErrorCode::Internal, "libpng write init failed");
  png_set_write_fn(c.png, &c, write_to_vector, flush_nothing);

  // Rows filtered and deflated in bands of ~1 MB on all cores (the band size depends on the
  // image only, so the file does not depend on the thread count). Fast, 16-bit: zlib's
  // run-length strategy (12-MP PQ PNG: 43.5 MB in 0.78 s for the whole decode command, against
  // 42.6 MB in 1.2 s at level 2); Fast, 8-bit: level 2 (RLE makes 8-bit photos 8 % larger
  // for no measurable time); Small: level 9, several times slower for a few percent.
  const int H = img.height(), bpp = img.channels() * int(sizeof(T));
  const size_t row_bytes = img.row_elems() * sizeof(T);
  const int rows_per_band = int(std::clamp<size_t>((size_t(1) << 20) / (row_bytes + 1), 1, size_t(H)));
  const int bands = (H + rows_per_band - 1) / rows_per_band;
  const DeflateMode mode = effort == Effort::Small ? DeflateMode{9, false}
                           : sizeof(T) == 2        ? DeflateMode{1, true}
                                                   : DeflateMode{2, false};
  auto idat = deflate_one_stream(bands, mode, [&](int b, std::vector<uint8_t>& raw) {
    const int y0 = b * rows_per_band, y1 = std::min(H, y0 + rows_per_band);
    raw.resize((row_bytes + 1) * size_t(y1 - y0));
    std::vector<uint8_t> prev(row_bytes, 0), cur(row_bytes), tmp;
    if (y0 > 0) png_row(img, y0 - 1, prev.data());
    for (int y = y0; y < y1; ++y) {
      png_row(img, y, cur.data());
      filter_row(cur.data(), prev.data(), row_bytes, bpp, effort, raw.data() + (row_bytes + 1) * size_t(y - y0), tmp);
      std::swap(prev, cur);
    }
  });
  if (!idat) return fail(idat.error().code, "PNG encode: " + idat.error().message);
  size_t total = 0;
  for (const auto& piece : *idat) total += piece.size() + 12;
  out.reserve(total + icc.size() + 256);
  WriteJob job{png_uint_32(img.width()), png_uint_32(img.height()), img.channels(), depth, cicp, icc.data(),
               icc.size(), idat->data(), idat->size()};
  if (!write_phase(&c, &job))
    return fail(c.out_of_memory ? ErrorCode::TooLarge : ErrorCode::Internal,
                std::string("PNG encode: ") + c.message);
  return out;
}

}  // namespace

namespace {

struct PngMeta {
  int bit_depth = 8;
  std::optional<Cicp> cicp;
  std::vector<uint8_t> icc;
  std::optional<double> gamma;
  std::vector<uint8_t> exif;
  bool exif_after_idat = false;
};

// The first eXIf chunk after IDAT, found by walking the chunk headers (libpng would only see
// it through png_read_end, which also inflates every trailing text chunk). Every length is
// checked against the file; a damaged tail simply yields nothing.
std::vector<uint8_t> trailing_exif(ByteView b) {
  size_t pos = 8;
  bool seen_idat = false;
  while (pos + 12 <= b.size()) {
    const uint32_t len = uint32_t(b[pos]) << 24 | uint32_t(b[pos + 1]) << 16 | uint32_t(b[pos + 2]) << 8 | b[pos + 3];
    if (len > 0x7fffffffu || len > b.size() - pos - 12) break;
    const uint8_t* type = b.data() + pos + 4;
    if (std::memcmp(type, "IDAT", 4) == 0) seen_idat = true;
    else if (std::memcmp(type, "IEND", 4) == 0) break;
    else if (seen_idat && std::memcmp(type, "eXIf", 4) == 0) {
      const uint8_t* d = type + 4;
      size_t m = len;
      // Some writers keep JPEG's APP1 prefix; the chunk's content is the TIFF stream, which
      // starts with a byte order (libpng checks the same of one before IDAT).
      if (m >= 6 && std::memcmp(d, "Exif\0\0", 6) == 0) {
        d += 6;
        m -= 6;
      }
      if (m < 8 || !((d[0] == 'I' && d[1] == 'I') || (d[0] == 'M' && d[1] == 'M'))) return {};
      return std::vector<uint8_t>(d, d + m);
    }
    pos += 12 + size_t(len);
  }
  return {};
}

// Header, limits, then the rows into the buffer `rows_for(ctx)` allocates once the size and
// layout are known (so no pixel memory exists before the limit check), then the metadata.
template <class RowsFor>
Result<PngMeta> read_png(ByteView bytes, const Limits& limits, RowsFor&& rows_for, bool keep_alpha = false) {
  if (bytes.size() > limits.max_file_bytes)
    return fail(ErrorCode::TooLarge, "PNG file is over the size limit");
  if (bytes.size() < 8 || png_sig_cmp(bytes.data(), 0, 8) != 0)
    return fail(ErrorCode::InvalidInput, "not a PNG file");
  ReadCtx c;
  c.data = bytes.data();
  c.size = bytes.size();
  c.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c.message, on_png_error, on_png_warning);
  if (!c.png) return fail(ErrorCode::Internal, "libpng read init failed");
  c.info = png_create_info_struct(c.png);
  if (!c.info) return fail(ErrorCode::Internal, "libpng read init failed");
  png_set_read_fn(c.png, &c, read_from_span);
  png_set_read_user_chunk_fn(c.png, &c, on_user_chunk);
  c.keep_alpha = keep_alpha;

  switch (header_phase(&c, &limits)) {
    case Phase::Ok: break;
    case Phase::TooLarge:
      return fail(ErrorCode::TooLarge, "PNG is " + std::to_string(c.width) + "x" +
                                           std::to_string(c.height) + ", over the pixel limit");
    case Phase::LibError: return fail(ErrorCode::InvalidInput, std::string("PNG: ") + c.message);
  }
  std::vector<png_bytep> rows = rows_for(c);
  if (!c.on_row && rows.size() != c.height) return fail(ErrorCode::Internal, "PNG: no row buffers");
  if (rows_phase(&c, rows.data()) != Phase::Ok)
    return fail(ErrorCode::InvalidInput, std::string("PNG: ") + c.message);

  PngMeta m;
  m.bit_depth = c.stored_depth;
  if (c.have_cicp) m.cicp = Cicp{c.cicp[0], c.cicp[1], c.cicp[2], c.cicp[3]};
  png_charp name = nullptr;
  int compression = 0;
  png_bytep profile = nullptr;
  png_uint_32 profile_len = 0;
  if (png_get_iCCP(c.png, c.info, &name, &compression, &profile, &profile_len) && profile)
    m.icc.assign(profile, profile + profile_len);
  double gamma = 0;
  if (png_get_gAMA(c.png, c.info, &gamma) && gamma > 0) m.gamma = gamma;
  // eXIf before IDAT, where browsers read it (libpng refuses one that does not start with a
  // TIFF byte order); else one after IDAT (ImageMagick writes it there), flagged as such.
  png_uint_32 exif_len = 0;
  png_bytep exif = nullptr;
  if (png_get_eXIf_1(c.png, c.info, &exif_len, &exif) && exif && exif_len) {
    m.exif.assign(exif, exif + exif_len);
  } else {
    m.exif = trailing_exif(bytes);
    m.exif_after_idat = !m.exif.empty();
  }
  return m;
}

}  // namespace

Result<PngImage> decode_png(ByteView bytes, const Limits& limits) {
  PngImage result;
  bool eight_bit = false;
  REGAIN_TRY(meta, read_png(bytes, limits, [&](const ReadCtx& c) {
    result.pixels = Image16(int(c.width), int(c.height), c.out_channels);
    eight_bit = c.eight_bit;
    std::vector<png_bytep> rows(c.height);
    for (png_uint_32 y = 0; y < c.height; ++y) rows[y] = reinterpret_cast<png_bytep>(result.pixels.row(int(y)));
    return rows;
  }));
  if (eight_bit)
    for (int y = 0; y < result.pixels.height(); ++y) widen_row(result.pixels.row(y), result.pixels.row_elems());
  result.bit_depth = meta.bit_depth;
  result.cicp = meta.cicp;
  result.icc = std::move(meta.icc);
  result.gamma = meta.gamma;
  if (!meta.exif_after_idat) result.exif = std::move(meta.exif);
  return result;
}

Result<PngImage8> decode_png8(ByteView bytes, int channels, const Limits& limits) {
  if (channels != 1 && channels != 3) return fail(ErrorCode::InvalidInput, "decode_png8: 1 or 3 channels");
  // 8-bit files are read straight into 8-bit rows: no 16-bit copy (72 MB at 12 MP).
  Image8 px;
  bool eight_bit = false;
  Image16 wide;
  // 8-bit rows with alpha (non-interlaced): split as they arrive into the colour samples asked
  // for and an alpha plane, so no whole RGBA image is ever held (48 MB at 12 MP).
  Image8 split_alpha;
  bool split = false;
  int split_channels = 0;
  REGAIN_TRY(meta, read_png(bytes, limits, [&](ReadCtx& c) {
    eight_bit = c.eight_bit;
    if (eight_bit && (c.out_channels == 2 || c.out_channels == 4) && !c.interlaced) {
      split = true;
      split_channels = c.out_channels;
      const int sc = c.out_channels, colour = sc == 4 ? 3 : 1, w = int(c.width);
      px = Image8(w, int(c.height), channels);
      split_alpha = Image8(w, int(c.height), 1);
      c.row_buf.resize(size_t(w) * size_t(sc));
      c.on_row = [&px, &split_alpha, sc, colour, w, channels](png_uint_32 y, const uint8_t* row) {
        uint8_t* o = px.row(int(y));
        uint8_t* a = split_alpha.row(int(y));
        for (int x = 0; x < w; ++x) {
          const uint8_t* p = row + size_t(x) * sc;
          for (int k = 0; k < channels; ++k) o[size_t(x) * channels + k] = p[std::min(k, colour - 1)];
          a[x] = p[sc - 1];
        }
      };
      return std::vector<png_bytep>{};
    }
    std::vector<png_bytep> rows(c.height);
    if (eight_bit) {
      px = Image8(int(c.width), int(c.height), c.out_channels);
      for (png_uint_32 y = 0; y < c.height; ++y) rows[y] = px.row(int(y));
    } else {
      wide = Image16(int(c.width), int(c.height), c.out_channels);
      for (png_uint_32 y = 0; y < c.height; ++y) rows[y] = reinterpret_cast<png_bytep>(wide.row(int(y)));
    }
    return rows;
  }, /*keep_alpha=*/true));
  PngImage8 out;
  out.bit_depth = meta.bit_depth;
  out.cicp = meta.cicp;
  out.icc = std::move(meta.icc);
  out.gamma = meta.gamma;
  out.exif = std::move(meta.exif);
  out.exif_after_idat = meta.exif_after_idat;
  if (split) {
    out.source_channels = split_channels;
    out.pixels = std::move(px);
    if (std::any_of(split_alpha.span().begin(), split_alpha.span().end(), [](uint8_t v) { return v != 255; }))
      out.alpha = std::move(split_alpha);
    return out;
  }
  const int src_channels = eight_bit ? px.channels() : wide.channels();
  out.source_channels = src_channels;
  const int w = eight_bit ? px.width() : wide.width(), h = eight_bit ? px.height() : wide.height();
  const size_t n = size_t(w) * h;
  const bool has_alpha = src_channels == 2 || src_channels == 4;
  if (has_alpha) {
    // The alpha plane (the last sample), kept only when some pixel is not opaque (many RGBA
    // files are).
    const int c = src_channels;
    Image8 a(w, h, 1);
    bool any = false;
    for (size_t i = 0; i < n; ++i) {
      const size_t at = i * size_t(c) + size_t(c - 1);
      const uint8_t v = eight_bit ? px.data()[at] : uint8_t((wide.data()[at] * 255u + 32767u) / 65535u);
      a.data()[i] = v;
      any |= v != 255;
    }
    if (any) out.alpha = std::move(a);
  }
  // Colour samples per pixel: gray (1) or RGB (3), alpha aside.
  const int colour = src_channels >= 3 ? 3 : 1;
  if (!eight_bit) {
    if (src_channels == 2) {
      // Gray+alpha: the gray, rounded to 8 bits and repeated, as png_to_8bit rounds.
      out.pixels = Image8(w, h, channels);
      for (size_t i = 0; i < n; ++i) {
        const uint8_t v = uint8_t((wide.data()[2 * i] * 255u + 32767u) / 65535u);
        for (int k = 0; k < channels; ++k) out.pixels.data()[i * channels + k] = v;
      }
      return out;
    }
    PngImage p;
    p.pixels = std::move(wide);
    p.bit_depth = meta.bit_depth;
    out.pixels = png_to_8bit(p, channels);
    return out;
  }
  if (px.channels() == channels) {
    out.pixels = std::move(px);
    return out;
  }
  // Alpha dropped / gray repeated: the first `channels` colour samples, as png_to_8bit takes them.
  const int c = px.channels();
  out.pixels = Image8(px.width(), px.height(), channels);
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < channels; ++k)
      out.pixels.data()[i * channels + k] = px.data()[i * c + std::min(k, colour - 1)];
  return out;
}

Result<Bytes> encode_png16(const Image16& img, const std::optional<Cicp>& cicp,
                           std::span<const uint8_t> icc, Effort effort) {
  try {
    return encode_png(img, 16, cicp ? &*cicp : nullptr, icc, effort);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "PNG encode: out of memory");
  }
}

Result<Bytes> encode_png8(const Image8& img, std::span<const uint8_t> icc, Effort effort) {
  try {
    return encode_png(img, 8, nullptr, icc, effort);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "PNG encode: out of memory");
  }
}

Image8 png_to_8bit(const PngImage& png, int channels) {
  const int c = png.pixels.channels();
  Image8 out(png.pixels.width(), png.pixels.height(), channels);
  const size_t n = size_t(out.width()) * out.height();
  if (png.bit_depth == 8 && c == channels) {
    // Widened 8-bit samples (v * 257): the high byte is v exactly.
    const uint16_t* s = png.pixels.data();
    for (size_t i = 0, m = out.size(); i < m; ++i) out.data()[i] = uint8_t(s[i] >> 8);
    return out;
  }
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < channels; ++k) {
      const uint16_t v = png.pixels.data()[i * c + std::min(k, c - 1)];
      out.data()[i * channels + k] = uint8_t((v * 255u + 32767u) / 65535u);
    }
  return out;
}

}  // namespace regain
