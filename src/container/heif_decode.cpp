// HEIF / AVIF items to pixels (see heif_decode.h).
#include "container/heif_decode.h"

#include <algorithm>
#include <cstring>

#include "regain/icc.h"
#include "util/orientation.h"
#include "util/parallel.h"

namespace regain {
namespace {

using heif::fourcc;

// The top-left `w` x `h` of a coded picture, chroma planes cut to match.
YuvImage crop_yuv(YuvImage&& y, int w, int h) {
  if (w >= y.width && h >= y.height) return std::move(y);
  w = std::min(w, y.width);
  h = std::min(h, y.height);
  const int sx = (y.chroma == Chroma::Yuv420 || y.chroma == Chroma::Yuv422) ? 2 : 1;
  const int sy = y.chroma == Chroma::Yuv420 ? 2 : 1;
  for (int p = 0; p < 3; ++p) {
    Image16& pl = y.planes[p];
    if (pl.empty()) continue;
    const int pw = p == 0 ? w : (w + sx - 1) / sx, ph = p == 0 ? h : (h + sy - 1) / sy;
    Image16 c(pw, ph, 1);
    for (int r = 0; r < ph; ++r) std::memcpy(c.row(r), pl.row(r), size_t(pw) * 2);
    pl = std::move(c);
  }
  y.width = w;
  y.height = h;
  return std::move(y);
}

// One coded item (a tile or a whole image) to RGB / gray samples at its bit depth, cut to
// its visible `w` x `h` before chroma is upsampled: encoders fill the padding beyond the
// image with anything (Samsung: zeros), which must not bleed into the edge pixels.
Result<Image16> decode_coded(const heif::HeifStructure& s, ByteView file, uint32_t id, uint32_t coded_type,
                             const std::optional<Nclx>& nclx, const Limits& limits, int w, int h,
                             int& bit_depth) {
  const auto* cc = s.property<heif::CodecConfig>(id);
  if (!cc) return fail(ErrorCode::InvalidInput, "item " + std::to_string(id) + " has no codec configuration");
  // The largest coded picture a tile of an allowed image can need: bounded by the limits.
  REGAIN_TRY(data, heif::read_item_data(s, file, id, std::min<uint64_t>(limits.max_file_bytes, file.size())));
  auto yuv = coded_type == fourcc("av01") ? decode_av1_item(cc->bytes, data, limits)
                                          : decode_hevc_item(cc->bytes, data, limits);
  if (!yuv) return tl::unexpected(with_context(yuv.error(), "item " + std::to_string(id)));
  // nclx overrides the bitstream's range; without one, the bitstream's VUI / sequence header
  // says. Matrix: nclx, else BT.601 (what phones write and HEIF readers assume).
  if (nclx) yuv->full_range = nclx->full_range;
  const uint16_t matrix = nclx && nclx->matrix != 2 ? nclx->matrix : 6;
  bit_depth = yuv->bit_depth;
  if (yuv->width < w || yuv->height < h)
    return fail(ErrorCode::InvalidInput, "item " + std::to_string(id) + " decodes smaller than its ispe");
  const YuvImage visible = crop_yuv(std::move(*yuv), w, h);
  Image16 rgb = yuv_to_rgb(visible, yuv_matrix_supported(matrix) ? matrix : 6);
  if (rgb.empty()) return fail(ErrorCode::Internal, "item " + std::to_string(id) + ": colour conversion failed");
  return rgb;
}

Image16 crop(const Image16& src, int x0, int y0, int w, int h) {
  Image16 out(w, h, src.channels());
  for (int y = 0; y < h; ++y)
    std::memcpy(out.row(y), src.row(y0 + y) + size_t(x0) * src.channels(), size_t(w) * src.channels() * 2);
  return out;
}


// The single EXIF orientation equal to applying `first`, then `then`.
int compose_orientation(int first, int then) {
  Image8 probe(3, 2, 1);
  for (int i = 0; i < 6; ++i) probe.data()[i] = uint8_t(i);
  const Image8 want = apply_orientation(apply_orientation(probe, first), then);
  for (int o = 1; o <= 8; ++o) {
    const Image8 got = apply_orientation(probe, o);
    if (got.width() == want.width() && std::equal(got.data(), got.data() + got.size(), want.data())) return o;
  }
  return 1;  // unreachable: the eight orientations form a group
}

// Where stored pixel (X, Y) of a W x H picture is displayed under orientation o, as
// x = ax X + bx Y + cx, y = ay X + by Y + cy.
struct OrientedMap {
  int ax, bx, cx, ay, by, cy;
  OrientedMap(int o, int W, int H) {
    switch (o) {
      case 2: *this = {-1, 0, W - 1, 0, 1, 0}; break;
      case 3: *this = {-1, 0, W - 1, 0, -1, H - 1}; break;
      case 4: *this = {1, 0, 0, 0, -1, H - 1}; break;
      case 5: *this = {0, 1, 0, 1, 0, 0}; break;
      case 6: *this = {0, -1, H - 1, 1, 0, 0}; break;
      case 7: *this = {0, -1, H - 1, -1, 0, W - 1}; break;
      case 8: *this = {0, 1, 0, -1, 0, W - 1}; break;
      default: *this = {1, 0, 0, 0, 1, 0}; break;
    }
  }
  OrientedMap(int ax_, int bx_, int cx_, int ay_, int by_, int cy_)
      : ax(ax_), bx(bx_), cx(cx_), ay(ay_), by(by_), cy(cy_) {}
};

// Samples narrowed to 8 bits as heif_to_8bit does (rounding), or kept.
template <class T>
T narrow(uint16_t v, int bit_depth) {
  if constexpr (sizeof(T) == 2) {
    return v;
  } else {
    if (bit_depth <= 8) return uint8_t(std::min<uint16_t>(v, 255));
    const uint32_t max = (1u << bit_depth) - 1;
    return uint8_t((std::min<uint32_t>(v, max) * 255 + max / 2) / max);
  }
}

// Copies `tile` (stored pixels at x0, y0 of a W x H picture) into `out` as displayed.
template <class T>
void place_oriented(const Image16& tile, Image<T>& out, int x0, int y0, const OrientedMap& m, int bit_depth) {
  const int w = tile.width(), h = tile.height(), c = out.channels();
  for (int ty = 0; ty < h; ++ty) {
    const uint16_t* s = tile.row(ty);
    const int Y = y0 + ty;
    for (int tx = 0; tx < w; ++tx) {
      const int X = x0 + tx;
      const int dx = m.ax * X + m.bx * Y + m.cx, dy = m.ay * X + m.by * Y + m.cy;
      if (dx < 0 || dy < 0 || dx >= out.width() || dy >= out.height()) continue;
      T* d = out.row(dy) + size_t(dx) * c;
      for (int k = 0; k < c; ++k) d[k] = narrow<T>(s[size_t(tx) * c + k], bit_depth);
    }
  }
}

// The item's transforms in association order (irot angles were summed by the reader) as one
// orientation; nullopt when a clap crop is among them (applied afterwards, in order).
std::optional<int> transforms_as_orientation(const HeifImageInfo& img) {
  int o = 1;
  bool rotated = false;
  for (uint32_t t : img.transform_order) {
    if (t == fourcc("clap") && img.clap) return std::nullopt;
    if (t == fourcc("irot") && !rotated) {
      rotated = true;
      // Anticlockwise quarter turns as EXIF orientations: 90 = 8, 180 = 3, 270 = 6.
      const int r = img.rotation_ccw == 90 ? 8 : img.rotation_ccw == 180 ? 3 : img.rotation_ccw == 270 ? 6 : 1;
      o = compose_orientation(o, r);
    } else if (t == fourcc("imir") && img.mirror_axis) {
      o = compose_orientation(o, *img.mirror_axis == 0 ? 4 : 2);
    }
  }
  return o;
}

// Tiles decoded in parallel and placed into the picture as soon as each is decoded (tiles
// are disjoint, so threads never write the same pixels), already in displayed orientation
// and, for T = uint8_t, already narrowed: peak memory is the picture plus one tile per
// thread. The first tile fixes channels and bit depth.
template <class T>
Result<Image<T>> assemble_grid(const heif::HeifStructure& s, ByteView file, const HeifImageInfo& img,
                               const Limits& limits, int threads, int orientation, int& bit_depth) {
  const auto& g = *img.grid;
  const size_t n = g.tiles.size();
  if (n == 0) return fail(ErrorCode::InvalidInput, "grid without tiles");
  const int W = int(g.output_width), H = int(g.output_height);
  const OrientedMap m(orientation, W, H);
  std::vector<int> depths(n, 0);
  std::vector<std::optional<Error>> errors(n);
  auto tile_rect = [&](size_t i, int& x0, int& y0, int& vw, int& vh) {
    x0 = int(i % g.columns) * int(g.tile_width), y0 = int(i / g.columns) * int(g.tile_height);
    vw = std::min<int>(int(g.tile_width), W - x0);
    vh = std::min<int>(int(g.tile_height), H - y0);
    return vw > 0 && vh > 0;  // a tile wholly outside the output (MIAF forbids): skipped
  };
  Image<T> full;
  int channels = 0;
  {
    int x0, y0, vw, vh;
    if (!tile_rect(0, x0, y0, vw, vh)) return fail(ErrorCode::InvalidInput, "the grid's first tile is outside it");
    REGAIN_TRY(first, decode_coded(s, file, g.tiles[0], g.tile_type, img.nclx, limits, vw, vh, depths[0]));
    channels = first.channels();
    const bool swap = orientation_swaps_axes(orientation);
    full = Image<T>(swap ? H : W, swap ? W : H, channels);
    place_oriented(first, full, x0, y0, m, depths[0]);
  }
  parallel_for(int(n) - 1, threads, [&](int i0, int i1) {
    for (int k = i0; k < i1; ++k) {
      const size_t i = size_t(k) + 1;
      int x0, y0, vw, vh;
      if (!tile_rect(i, x0, y0, vw, vh)) continue;
      auto t = decode_coded(s, file, g.tiles[i], g.tile_type, img.nclx, limits, vw, vh, depths[i]);
      if (!t) errors[i] = t.error();
      else if (t->channels() != channels || depths[i] != depths[0])
        errors[i] = Error{ErrorCode::InvalidInput, "grid tiles differ in channels or bit depth"};
      else place_oriented(*t, full, x0, y0, m, depths[0]);
    }
  });
  for (auto& e : errors)
    if (e) return tl::unexpected(with_context(*e, "grid tile"));
  bit_depth = depths[0];
  return full;
}

Image8 narrow_all(const Image16& p, int bit_depth) {
  Image8 out(p.width(), p.height(), p.channels());
  for (size_t i = 0, n = out.size(); i < n; ++i) out.data()[i] = narrow<uint8_t>(p.data()[i], bit_depth);
  return out;
}

}  // namespace

Result<HeifPicture> decode_heif_item(const HeifFile& hf, ByteView file, const HeifImageInfo& img,
                                     const Limits& limits, int threads, bool eight_bit) {
  const auto& s = hf.structure;
  if (uint64_t(img.width) * img.height > limits.max_pixels || img.width > limits.max_dimension ||
      img.height > limits.max_dimension)
    return fail(ErrorCode::TooLarge, "image " + std::to_string(img.width) + "x" + std::to_string(img.height) +
                                         " is over the pixel limit");
  if (img.coded_type != fourcc("hvc1") && img.coded_type != fourcc("av01"))
    return fail(ErrorCode::Unsupported, "image coded as '" + heif::fourcc_name(img.coded_type) + "'");
  HeifPicture out;
  out.nclx = img.nclx;
  out.icc = img.icc;
  const std::optional<int> orientation = transforms_as_orientation(img);
  if (img.grid && orientation) {
    // The common phone layout: a grid, rotated and/or mirrored, assembled as displayed.
    if (eight_bit) {
      REGAIN_TRY(px, assemble_grid<uint8_t>(s, file, img, limits, threads, *orientation, out.bit_depth));
      out.pixels8 = std::move(px);
    } else {
      REGAIN_TRY(px, assemble_grid<uint16_t>(s, file, img, limits, threads, *orientation, out.bit_depth));
      out.pixels = std::move(px);
    }
    return out;
  }
  Image16 full;
  if (img.grid) {
    REGAIN_TRY(px, assemble_grid<uint16_t>(s, file, img, limits, threads, 1, out.bit_depth));
    full = std::move(px);
  } else {
    REGAIN_TRY(px, decode_coded(s, file, img.item_id, img.coded_type, img.nclx, limits, int(img.width),
                                int(img.height), out.bit_depth));
    full = std::move(px);
  }

  // Transforms in association order (irot angles were summed by the reader).
  bool rotated = false;
  for (uint32_t t : img.transform_order) {
    if (t == fourcc("clap") && img.clap) {
      ClapRect r;
      if (clap_rect(*img.clap, uint32_t(full.width()), uint32_t(full.height()), r))
        full = crop(full, int(r.x), int(r.y), int(r.width), int(r.height));
    } else if (t == fourcc("irot") && !rotated) {
      rotated = true;
      const int o = img.rotation_ccw == 90 ? 8 : img.rotation_ccw == 180 ? 3 : img.rotation_ccw == 270 ? 6 : 1;
      if (o != 1) full = apply_orientation(full, o);
    } else if (t == fourcc("imir") && img.mirror_axis) {
      full = apply_orientation(full, *img.mirror_axis == 0 ? 4 : 2);
    }
  }
  if (eight_bit) out.pixels8 = narrow_all(full, out.bit_depth);
  else out.pixels = std::move(full);
  return out;
}

Image8 take_8bit(HeifPicture&& p) {
  if (!p.pixels8.empty()) return std::move(p.pixels8);
  Image8 out = heif_to_8bit(p);
  p.pixels = Image16();
  return out;
}

Image8 heif_to_8bit(const HeifPicture& p) {
  if (!p.pixels8.empty()) return p.pixels8;
  Image8 out(p.pixels.width(), p.pixels.height(), p.pixels.channels());
  const int shift = p.bit_depth - 8;
  const uint16_t* s = p.pixels.data();
  uint8_t* d = out.data();
  const size_t n = out.size();
  if (shift <= 0) {
    for (size_t i = 0; i < n; ++i) d[i] = uint8_t(std::min<uint16_t>(s[i], 255));
  } else {
    const uint32_t max = (1u << p.bit_depth) - 1;
    for (size_t i = 0; i < n; ++i) d[i] = uint8_t((uint32_t(std::min<uint32_t>(s[i], max)) * 255 + max / 2) / max);
  }
  return out;
}

Primaries heif_primaries(const HeifPicture& p) {
  if (p.nclx)
    if (auto g = primaries_from_cicp(p.nclx->primaries)) return *g;
  if (!p.icc.empty())
    if (auto info = inspect_icc(p.icc); info && info->primaries) return *info->primaries;
  return Primaries::BT709;
}

Transfer heif_transfer(const HeifPicture& p) {
  if (!p.nclx) return Transfer::SRGB;
  return transfer_from_cicp(p.nclx->transfer).value_or(Transfer::SRGB);
}

bool is_hdr_transfer(const std::optional<Nclx>& nclx) {
  if (!nclx) return false;
  const Transfer t = transfer_from_cicp(nclx->transfer).value_or(Transfer::SRGB);
  return t == Transfer::PQ || t == Transfer::HLG || t == Transfer::Linear;
}

}  // namespace regain
