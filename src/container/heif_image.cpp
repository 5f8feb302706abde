// Describing one displayable HEIF image item: size, codec configuration, bit depth, colour,
// transforms (clap / irot / imir in association order) and grid layout.
#include <string>

#include "container/heif_gainmap.h"
#include "container/heif_util.h"

namespace regain {

using heif::fourcc;
using heif::fourcc_name;

namespace {

bool is_hevc(uint32_t t) { return t == fourcc("hvc1") || t == fourcc("hev1"); }
bool is_av1(uint32_t t) { return t == fourcc("av01"); }

// Properties whose meaning we know (or that cannot change how pixels look); an essential
// property outside this list means a reader that ignores it may show the image wrongly.
bool understood(uint32_t t) {
  switch (t) {
    case fourcc("hvcC"): case fourcc("av1C"): case fourcc("ispe"): case fourcc("pixi"):
    case fourcc("colr"): case fourcc("irot"): case fourcc("imir"): case fourcc("clap"):
    case fourcc("auxC"): case fourcc("clli"): case fourcc("lsel"): case fourcc("pasp"):
    case fourcc("mdcv"): case fourcc("cclv"): case fourcc("amve"): case fourcc("a1op"):
    case fourcc("a1lx"): case fourcc("rloc"): case fourcc("udes"):
      return true;
    default:
      return false;
  }
}

// Bit depth and channel count from an hvcC / av1C payload (0 when not recognisable).
void from_codec_config(uint32_t coded_type, const std::vector<uint8_t>& c, int& bit_depth, int& channels) {
  if (is_hevc(coded_type) && c.size() >= 23) {
    // HEVCDecoderConfigurationRecord: chroma_format_idc in byte 16, bitDepthLumaMinus8 in 17.
    channels = (c[16] & 3) == 0 ? 1 : 3;
    bit_depth = (c[17] & 7) + 8;
  } else if (is_av1(coded_type) && c.size() >= 4) {
    // av1C byte 2: tier(1) high_bitdepth(1) twelve_bit(1) monochrome(1) ...
    const bool high = c[2] & 0x40, twelve = c[2] & 0x20, mono = c[2] & 0x10;
    bit_depth = high ? (twelve ? 12 : 10) : 8;
    channels = mono ? 1 : 3;
  }
}

}  // namespace

// The clean aperture as a crop of a w x h image: the crop is centred at (w-1)/2 + horizOff,
// so its left edge is horizOff + (w - cw)/2. Valid when every result is a whole pixel inside
// the image (MIAF requires integers). 128-bit arithmetic: the fractions are 32-bit each.
bool clap_rect(const heif::Clap& c, uint32_t w, uint32_t h, ClapRect& out) {
  if (!c.width_d || !c.height_d || !c.horiz_off_d || !c.vert_off_d) return false;
  if (c.width_n % c.width_d || c.height_n % c.height_d) return false;
  const __int128 cw128 = c.width_n / c.width_d, ch128 = c.height_n / c.height_d;
  if (cw128 == 0 || ch128 == 0 || cw128 > w || ch128 > h) return false;
  auto edge = [](int32_t off_n, uint32_t off_d, uint32_t size, __int128 crop, __int128& o) {
    // off_n/off_d + (size - crop)/2 = (2*off_n + (size - crop)*off_d) / (2*off_d)
    const __int128 num = __int128(2) * off_n + (__int128(size) - crop) * off_d;
    const __int128 den = __int128(2) * off_d;
    if (num % den) return false;
    o = num / den;
    return o >= 0 && o + crop <= size;
  };
  __int128 x = 0, y = 0;
  if (!edge(c.horiz_off_n, c.horiz_off_d, w, cw128, x) || !edge(c.vert_off_n, c.vert_off_d, h, ch128, y))
    return false;
  out = {uint32_t(x), uint32_t(y), uint32_t(cw128), uint32_t(ch128)};
  return true;
}

namespace {

// Orientation bookkeeping on the 8 EXIF orientations, kept as "flip left-right (f), then
// rotate r quarter turns clockwise" (how EXIF names 5 and 7: "mirror horizontal and rotate").
struct Dihedral {
  int f = 0, r = 0;
  void rotate_cw(int k) { r = (r + k) & 3; }
  // FlipLR after Rot(r) equals Rot(-r) after FlipLR.
  void flip_left_right() { f ^= 1; r = (4 - r) & 3; }
  void flip_top_bottom() { flip_left_right(); rotate_cw(2); }  // top-bottom = left-right + 180
  int exif() const {
    static constexpr int table[2][4] = {{1, 6, 3, 8}, {2, 7, 4, 5}};
    return table[f][r];
  }
};

}  // namespace

const char* heif_kind_name(HeifKind k) {
  switch (k) {
    case HeifKind::Heic: return "heic";
    case HeifKind::Avif: return "avif";
    default: return "unknown";
  }
}

Result<HeifImageInfo> describe_heif_image(const heif::HeifStructure& s, ByteView file, uint32_t item_id,
                                          const Limits& limits, std::vector<std::string>& warnings) {
  const std::string where = "item " + std::to_string(item_id);
  const heif::Item* it = s.item(item_id);
  if (!it) return fail(ErrorCode::NotFound, where + " does not exist");
  HeifImageInfo info;
  info.item_id = item_id;
  info.type = it->type;
  info.hidden = it->hidden;
  uint32_t config_item = item_id;  // where the codec configuration lives
  if (it->type == fourcc("grid")) {
    REGAIN_TRY(g, heif::read_grid(s, file, item_id, limits, &warnings));
    info.width = g.output_width;
    info.height = g.output_height;
    info.coded_type = g.tile_type;
    config_item = g.tiles.front();
    info.grid = std::move(g);
  } else if (is_hevc(it->type) || is_av1(it->type)) {
    const heif::Ispe* ispe = s.property<heif::Ispe>(item_id);
    if (!ispe) return fail(ErrorCode::InvalidInput, where + " ('" + fourcc_name(it->type) + "') has no 'ispe'");
    if (ispe->width > limits.max_dimension || ispe->height > limits.max_dimension ||
        uint64_t(ispe->width) * ispe->height > limits.max_pixels)
      return fail(ErrorCode::TooLarge, where + ": " + std::to_string(ispe->width) + "x" +
                                           std::to_string(ispe->height) + " is over the pixel limits");
    info.width = ispe->width;
    info.height = ispe->height;
    info.coded_type = it->type;
  } else {
    return fail(ErrorCode::Unsupported, where + ": '" + fourcc_name(it->type) +
                                            "' images are not supported (hvc1, av01 and grid are)");
  }
  if (!is_hevc(info.coded_type) && !is_av1(info.coded_type))
    return fail(ErrorCode::Unsupported, where + ": grid tiles of type '" + fourcc_name(info.coded_type) +
                                            "' are not supported");

  // Codec configuration of the matching kind.
  const uint32_t want = is_hevc(info.coded_type) ? fourcc("hvcC") : fourcc("av1C");
  if (const heif::Item* ci = s.item(config_item))
    for (const auto& a : ci->properties)
      if (s.properties[a.index].type == want)
        if (auto* cc = std::get_if<heif::CodecConfig>(&s.properties[a.index].value)) {
          info.codec_config = cc->bytes;
          break;
        }
  if (info.codec_config.empty())
    return fail(ErrorCode::InvalidInput, where + ": no usable '" + fourcc_name(want) + "' codec configuration" +
                                             (config_item != item_id ? " on its first tile" : ""));
  if (const auto* pixi = s.property<heif::Pixi>(item_id); pixi || (pixi = s.property<heif::Pixi>(config_item))) {
    info.channels = int(pixi->bits.size());
    info.bit_depth = pixi->bits.front();
  } else {
    from_codec_config(info.coded_type, info.codec_config, info.bit_depth, info.channels);
  }

  // Colour: the item's own colr boxes, else (grids written without them) the first tile's.
  auto colrs = s.properties_of<heif::Colr>(item_id);
  if (colrs.empty() && config_item != item_id) colrs = s.properties_of<heif::Colr>(config_item);
  for (const auto* c : colrs) {
    if (c->nclx && !info.nclx) info.nclx = c->nclx;
    if (!c->icc.empty() && info.icc.empty()) info.icc = c->icc;
  }

  // Transforms in association order; the displayed size follows them.
  uint32_t w = info.width, h = info.height;
  Dihedral orient;
  for (const auto& a : it->properties) {
    const heif::Property& p = s.properties[a.index];
    if (const auto* rot = std::get_if<heif::Irot>(&p.value)) {
      info.transform_order.push_back(p.type);
      info.rotation_ccw = (info.rotation_ccw + 90 * rot->angle) % 360;
      orient.rotate_cw(4 - rot->angle);  // irot turns anticlockwise
      if (rot->angle & 1) std::swap(w, h);
    } else if (const auto* mir = std::get_if<heif::Imir>(&p.value)) {
      info.transform_order.push_back(p.type);
      if (info.mirror_axis) warnings.push_back(where + ": more than one 'imir' (only the first is reported)");
      else info.mirror_axis = mir->axis;
      if (mir->flips_top_bottom()) orient.flip_top_bottom();
      else orient.flip_left_right();
    } else if (const auto* clap = std::get_if<heif::Clap>(&p.value)) {
      ClapRect r;
      if (info.clap) {
        warnings.push_back(where + ": more than one 'clap' (only the first is used)");
      } else if (clap_rect(*clap, w, h, r)) {
        info.transform_order.push_back(p.type);
        info.clap = *clap;
        w = r.width;
        h = r.height;
      } else {
        warnings.push_back(where + ": 'clap' does not describe a whole-pixel crop inside the image: ignored");
      }
    } else if (a.essential && !understood(p.type)) {
      warnings.push_back(where + ": essential property '" + fourcc_name(p.type) +
                         "' is not understood; the image may not display as intended");
    }
  }
  info.display_width = w;
  info.display_height = h;
  info.exif_orientation = orient.exif();
  return info;
}

}  // namespace regain
