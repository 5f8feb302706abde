// Pixels -> HEIC / AVIF: RGB is cut into tiles (phones use 512x512 grids: hardware decoders
// and parallel coding both want them), each tile converted to YCbCr and coded on its own
// thread, then the container is assembled by heif_writer.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "container/heif_writer.h"
#include "container/xmp.h"
#include "util/orientation.h"
#include "regain/heif.h"
#include "regain/icc.h"
#include "util/parallel.h"

namespace regain {
namespace {

struct PlaneSpec {
  int bit_depth = 8;
  Chroma chroma = Chroma::Yuv420;
  Nclx nclx;
  int quality = 90;
};

// Copies a tile (edge pixels repeated past the image: every grid tile has one size).
template <class T>
Image16 cut_tile(const Image<T>& src, int x0, int y0, int tw, int th) {
  Image16 t(tw, th, src.channels());
  const int c = src.channels();
  for (int y = 0; y < th; ++y) {
    const T* s = src.row(std::min(y0 + y, src.height() - 1));
    uint16_t* d = t.row(y);
    for (int x = 0; x < tw; ++x) {
      const int sx = std::min(x0 + x, src.width() - 1);
      for (int k = 0; k < c; ++k) d[x * c + k] = s[sx * c + k];
    }
  }
  return t;
}

// True when tile (x0, y0, tw, th), clipped to the image, holds the same samples in a and b.
template <class T>
bool same_tile(const Image<T>& a, const Image<T>& b, int x0, int y0, int tw, int th) {
  const int x1 = std::min(x0 + tw, a.width()), y1 = std::min(y0 + th, a.height());
  const size_t bytes = size_t(x1 - x0) * a.channels() * sizeof(T);
  for (int y = y0; y < y1; ++y)
    if (std::memcmp(a.row(y) + size_t(x0) * a.channels(), b.row(y) + size_t(x0) * b.channels(), bytes) != 0) return false;
  return true;
}

// Codes `src` as one item or a grid; tiles run in parallel, one codec thread each. With
// `reuse` (an item already coded from `reuse_src` with the same spec and options), tiles
// whose samples are unchanged are copied instead of coded again.
template <class T>
Result<HeifImageItem> code_image(const Image<T>& src, const PlaneSpec& spec, const HeifEncodeOptions& opt,
                                 const HeifImageItem* reuse = nullptr, const Image<T>* reuse_src = nullptr) {
  HeifImageItem item;
  item.coding = opt.avif ? "av01" : "hvc1";
  item.width = uint32_t(src.width());
  item.height = uint32_t(src.height());
  item.bit_depth = spec.bit_depth;
  item.channels = src.channels() == 1 ? 1 : 3;
  item.nclx = spec.nclx;
  const uint32_t ts = opt.tile_size;
  // MIAF (ISO/IEC 23000-22, 7.3.11.4.2) wants a 4:2:0 grid's output size even; libavif (and
  // so Chromium) refuses odd-sized subsampled AVIF grids, so those are coded as one item
  // (AV1 codes any size).
  const bool odd_subsampled = opt.avif && spec.chroma == Chroma::Yuv420 && ((item.width | item.height) & 1);
  const bool grid = ts > 0 && (item.width > ts || item.height > ts) && !odd_subsampled;
  item.tile_width = grid ? ts : item.width;
  item.tile_height = grid ? ts : item.height;
  item.columns = grid ? (item.width + ts - 1) / ts : 1;
  item.rows = grid ? (item.height + ts - 1) / ts : 1;
  if (item.columns > 256 || item.rows > 256) return fail(ErrorCode::TooLarge, "image too large for a 256x256 tile grid");
  const size_t n = size_t(item.columns) * item.rows;
  item.tiles.resize(n);
  std::vector<Bytes> configs(n);
  std::vector<std::optional<Error>> errors(n);

  VideoEncodeOptions vo;
  vo.quality = spec.quality;
  vo.effort = opt.effort;
  vo.nclx = spec.nclx;
  const int threads = resolve_threads(opt.threads);
  // One tile per thread; a single large item gets the codec's own threads instead.
  vo.threads = n > 1 ? 1 : threads;
  const bool can_reuse = reuse && reuse_src && reuse_src->width() == src.width() &&
                         reuse_src->height() == src.height() && reuse_src->channels() == src.channels() &&
                         reuse->tiles.size() == n;
  parallel_for(int(n), n > 1 ? threads : 1, [&](int i0, int i1) {
    for (int i = i0; i < i1; ++i) {
      const int tx = int(i % item.columns) * int(item.tile_width);
      const int ty = int(i / item.columns) * int(item.tile_height);
      if (can_reuse && same_tile(src, *reuse_src, tx, ty, int(item.tile_width), int(item.tile_height))) {
        configs[i] = reuse->config;
        item.tiles[i] = reuse->tiles[i];
        continue;
      }
      Image16 tile = cut_tile(src, tx, ty, int(item.tile_width), int(item.tile_height));
      auto yuv = rgb_to_yuv(tile, spec.bit_depth, spec.chroma, spec.nclx.matrix, spec.nclx.full_range);
      if (!yuv) { errors[i] = yuv.error(); continue; }
      auto coded = opt.avif ? encode_av1_item(*yuv, vo) : encode_hevc_item(*yuv, vo);
      if (!coded) { errors[i] = coded.error(); continue; }
      configs[i] = std::move(coded->config);
      item.tiles[i] = std::move(coded->data);
    }
  });
  for (auto& e : errors)
    if (e) return tl::unexpected(*e);
  // A grid shares one decoder configuration; identical encoder settings give identical
  // parameter sets, which is checked rather than assumed.
  for (size_t i = 1; i < n; ++i)
    if (configs[i] != configs[0])
      return fail(ErrorCode::Internal, "tile encoder produced differing decoder configurations");
  item.config = std::move(configs[0]);
  return item;
}

}  // namespace

Result<Bytes> encode_heif_gainmap(const Image8& sdr, Primaries primaries, std::span<const uint8_t> icc,
                                  const Image8& gain_map, const GainMapMetadata& meta, const HeifEncodeOptions& opt) {
  if (sdr.channels() != 3) return fail(ErrorCode::InvalidInput, "SDR base must be RGB");
  if (gain_map.channels() != 1 && gain_map.channels() != 3)
    return fail(ErrorCode::InvalidInput, "gain map must have 1 or 3 channels");
  REGAIN_CHECK(validate(meta));
  if (opt.rotation_ccw % 90 != 0 || opt.rotation_ccw < 0 || opt.rotation_ccw > 270)
    return fail(ErrorCode::InvalidInput, "rotation must be 0, 90, 180 or 270 degrees");
  // Stored turned back: irot (anticlockwise) then shows it as given.
  const int turn_back = opt.rotation_ccw == 90 ? 6 : opt.rotation_ccw == 180 ? 3 : opt.rotation_ccw == 270 ? 8 : 1;
  const Image8 stored = apply_orientation(sdr, turn_back);
  const Image8 stored_map = apply_orientation(gain_map, turn_back);

  PlaneSpec base;
  base.nclx = {cicp_code(primaries), 13, 6, true};  // sRGB transfer, BT.601 full range
  base.quality = opt.quality;
  REGAIN_TRY(base_item, code_image(stored, base, opt));
  base_item.rotation_ccw = opt.rotation_ccw;
  base_item.icc = icc.empty() ? make_display_icc(primaries) : std::vector<uint8_t>(icc.begin(), icc.end());

  // Gain-map codes are not colour: monochrome like Apple's for 1 channel; 4:4:4 for three so
  // no channel loses resolution to chroma subsampling.
  PlaneSpec gm;
  gm.chroma = gain_map.channels() == 1 ? Chroma::Mono : Chroma::Yuv444;
  gm.nclx = {2, 2, uint16_t(gain_map.channels() == 1 ? 2 : 6), true};
  gm.quality = opt.gain_map_quality;
  REGAIN_TRY(gm_item, code_image(stored_map, gm, opt));
  if (!opt.map_without_irot) gm_item.rotation_ccw = opt.rotation_ccw;

  HeifWriteInput in;
  in.avif = opt.avif;
  in.base = std::move(base_item);
  in.gain_map = std::move(gm_item);
  in.metadata = meta;
  // The alternate (HDR) rendition: same primaries as the base, PQ-coded when displayed.
  // Matrix: a YCbCr one, not identity, so a reader that codes the HDR rendition with
  // subsampled chroma (libavif's tonemap picks 4:2:0) can use it as given.
  in.alternate_nclx = Nclx{cicp_code(primaries), 16, uint16_t(primaries == Primaries::BT2020 ? 9 : 1), true};
  in.alternate_bit_depth = 10;
  in.apple_aux = opt.apple_aux && !opt.avif && !opt.samsung_layout;
  if (in.apple_aux)
    in.gain_map_xmp = apple_gain_map_xmp(std::exp2(std::max(meta.alternate_headroom, meta.base_headroom)));
  if (opt.samsung_layout && !opt.avif) {
    in.write_tmap = false;
    in.samsung_aux = true;
    REGAIN_TRY(x, gainmap_xmp(meta));
    in.gain_map_xmp = std::move(x);
  }
  in.exif = opt.exif;
  in.xmp = opt.xmp;
  return write_heif(in);
}

Result<std::vector<Bytes>> encode_heif_image_set(std::span<const HeifImageVariant> variants, int bit_depth,
                                                 const Nclx& nclx, const HeifEncodeOptions& opt) {
  if (variants.empty()) return fail(ErrorCode::InvalidInput, "no images to encode");
  if (bit_depth != 8 && bit_depth != 10 && bit_depth != 12) return fail(ErrorCode::InvalidInput, "bit depth must be 8, 10 or 12");
  std::vector<Bytes> out;
  std::optional<HeifImageItem> first;
  for (const auto& v : variants) {
    if (!v.rgb || (v.rgb->channels() != 3 && v.rgb->channels() != 1))
      return fail(ErrorCode::InvalidInput, "image must be RGB or gray");
    PlaneSpec spec;
    spec.bit_depth = bit_depth;
    // Identity matrix (GBR) is only defined without subsampling.
    spec.chroma = v.rgb->channels() == 1 ? Chroma::Mono : nclx.matrix == 0 ? Chroma::Yuv444 : Chroma::Yuv420;
    spec.nclx = nclx;
    spec.quality = opt.quality;
    REGAIN_TRY(item, code_image(*v.rgb, spec, opt, first ? &*first : nullptr, first ? variants[0].rgb : nullptr));
    item.icc.assign(v.icc.begin(), v.icc.end());
    if (!first) first = item;
    HeifWriteInput in;
    in.avif = opt.avif;
    in.base = std::move(item);
    in.exif = opt.exif;
    in.xmp = opt.xmp;
    REGAIN_TRY(bytes, write_heif(in));
    out.push_back(std::move(bytes));
  }
  return out;
}

Result<Bytes> encode_heif_image(const Image16& rgb, int bit_depth, const Nclx& nclx, std::span<const uint8_t> icc,
                                const HeifEncodeOptions& opt) {
  const HeifImageVariant v{&rgb, icc};
  REGAIN_TRY(files, encode_heif_image_set({&v, 1}, bit_depth, nclx, opt));
  return std::move(files[0]);
}

}  // namespace regain
