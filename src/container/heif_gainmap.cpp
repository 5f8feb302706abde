// Locating the gain map of a HEIC / AVIF file and its metadata (see heif_gainmap.h for the
// three carriages). Validation mirrors libavif where it decides whether a gain map is shown,
// but is lenient where libavif's rule only affects other readers: a missing 'tmap' brand or
// 'altr' group is reported as a warning and the gain map is still used.
#include "container/heif_gainmap.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "container/exif.h"
#include "container/iso21496.h"
#include "container/xmp.h"
#include "util/bytes.h"
#include "util/orientation.h"

namespace regain {

using heif::fourcc;
using heif::fourcc_name;
using heif::HeifStructure;

namespace {

constexpr uint64_t kMaxMetadataItemBytes = 16u << 20;  // EXIF / XMP items
constexpr uint64_t kMaxTmapBytes = 64u << 10;          // 1 + 61/141 bytes in practice

std::string item_str(uint32_t id) { return "item " + std::to_string(id); }

bool is_xmp_item(const heif::Item& it) {
  if (it.type != fourcc("mime")) return false;
  // Content types may carry parameters ("application/rdf+xml; charset=utf-8").
  std::string ct = it.content_type.substr(0, it.content_type.find(';'));
  while (!ct.empty() && std::isspace(uint8_t(ct.back()))) ct.pop_back();
  std::transform(ct.begin(), ct.end(), ct.begin(), [](char c) { return char(std::tolower(uint8_t(c))); });
  return ct == "application/rdf+xml";
}

struct Reader {
  const HeifStructure& s;
  ByteView file;
  const Limits& limits;
  HeifFile& out;

  void warn(std::string w) {
    if (out.warnings.size() < 2 * heif::kMaxWarnings) out.warnings.push_back(std::move(w));
  }
  void damage(std::string w) {
    warn(w);
    if (!out.damaged) {
      out.damaged = true;
      out.damage = std::move(w);
    }
  }

  // Every byte the image's pixels need lies inside the file (item or all grid tiles).
  Result<void> check_pixels_reachable(const HeifImageInfo& img) {
    auto check = [&](uint32_t id) -> Result<void> {
      auto r = heif::item_ranges(s, id);
      if (!r) return tl::unexpected(r.error());
      uint64_t total = 0;
      for (const auto& x : *r) total += x.size;
      if (total == 0) return fail(ErrorCode::InvalidInput, item_str(id) + " has no coded data");
      return {};
    };
    if (!img.grid) return check(img.item_id);
    for (uint32_t t : img.grid->tiles) {
      auto r = check(t);
      if (!r) return tl::unexpected(with_context(r.error(), "grid tile"));
    }
    return {};
  }

  // The XMP packet of the first XMP item describing `target` ('cdsc'); empty if none.
  std::string xmp_for(uint32_t target) {
    for (uint32_t id : out.xmp_items) {
      auto to = s.references_from(id, fourcc("cdsc"));
      if (std::find(to.begin(), to.end(), target) == to.end()) continue;
      if (!s.item(id)->content_encoding.empty()) {
        warn("XMP " + item_str(id) + " is encoded ('" + s.item(id)->content_encoding + "'): ignored");
        continue;
      }
      auto data = heif::read_item_data(s, file, id, kMaxMetadataItemBytes);
      if (!data) {
        warn("XMP " + item_str(id) + " unreadable: " + data.error().message);
        continue;
      }
      return std::string(data->begin(), data->end());
    }
    return {};
  }

  // hdrgm metadata in an XMP packet: nullopt when the packet has none (no warning); a
  // warning when it has hdrgm properties that do not make valid metadata.
  std::optional<GainMapMetadata> hdrgm_in(const std::string& packet, const std::string& where) {
    if (packet.empty()) return std::nullopt;
    auto x = parse_xmp(packet);
    if (!x) return std::nullopt;
    if (!x->find(kNsHdrgm, "GainMapMax") && !x->value(kNsHdrgm, "HDRCapacityMax")) return std::nullopt;
    auto m = hdrgm_from_xmp(*x);
    if (!m) {
      warn("hdrgm XMP " + where + " ignored: " + m.error().message);
      return std::nullopt;
    }
    return *m;
  }

  void read_exif() {
    std::vector<uint32_t> exif_items;
    for (const auto& it : s.items)
      if (it.type == fourcc("Exif")) exif_items.push_back(it.id);
    for (uint32_t id : exif_items) {
      auto to = s.references_from(id, fourcc("cdsc"));
      if (std::find(to.begin(), to.end(), out.primary.item_id) != to.end()) {
        out.exif_item = id;
        break;
      }
    }
    if (!out.exif_item && exif_items.size() == 1 && s.references_from(exif_items[0], fourcc("cdsc")).empty()) {
      out.exif_item = exif_items[0];
      warn("Exif " + item_str(exif_items[0]) + " is not linked to the primary ('cdsc'): used anyway");
    }
    if (!out.exif_item) return;
    auto data = heif::read_item_data(s, file, *out.exif_item, kMaxMetadataItemBytes);
    if (!data) {
      warn("Exif " + item_str(*out.exif_item) + " unreadable: " + data.error().message);
      return;
    }
    // Payload: u32 offset from after this field to the TIFF header, then the TIFF stream.
    ByteReader r(*data);
    uint32_t offset = 0;
    if (!r.u32(offset) || offset > r.remaining()) {
      warn("Exif " + item_str(*out.exif_item) + ": TIFF header offset past the end of the item");
      return;
    }
    ByteView tiff = ByteView(*data).subspan(4 + size_t(offset));
    // Some writers count the offset to "Exif\0\0" rather than past it.
    if (starts_with(tiff, std::string_view("Exif\0\0", 6))) tiff = tiff.subspan(6);
    out.exif_tiff.assign(tiff.begin(), tiff.end());
    auto exif = parse_exif(out.exif_tiff);
    if (!exif) {
      warn("primary EXIF unreadable: " + exif.error().message);
      return;
    }
    out.orientation = exif->orientation;
    out.has_gps = exif->has_gps;
    out.apple_maker33 = exif->apple_maker33;
    out.apple_maker48 = exif->apple_maker48;
  }

  // Candidate tmap: inputs must be exactly [primary, gain map].
  std::optional<uint32_t> find_tmap(uint32_t& gain_map_id) {
    for (const auto& it : s.items) {
      if (it.type != fourcc("tmap")) continue;
      auto in = s.references_from(it.id, fourcc("dimg"));
      if (in.size() != 2) {
        warn("tmap " + item_str(it.id) + " ignored: it has " + std::to_string(in.size()) +
             " 'dimg' inputs, expected 2 [base, gain map]");
        continue;
      }
      if (in[0] != out.primary.item_id) {
        warn("tmap " + item_str(it.id) + " ignored: its base input " + item_str(in[0]) + " is not the primary " +
             item_str(out.primary.item_id));
        continue;
      }
      if (in[1] == in[0]) {
        warn("tmap " + item_str(it.id) + " ignored: its gain-map input is the base image itself");
        continue;
      }
      if (!s.item(in[1])) {
        damage("tmap " + item_str(it.id) + ": gain-map input " + item_str(in[1]) + " does not exist");
        continue;
      }
      gain_map_id = in[1];
      return it.id;
    }
    return std::nullopt;
  }

  void read_tmap(uint32_t tmap) {
    out.tmap_brand = s.has_brand(fourcc("tmap"));
    if (!out.tmap_brand) warn("ftyp does not list brand 'tmap': libavif-based readers ignore the gain map");
    for (const auto& g : s.groups) {
      if (g.type != fourcc("altr")) continue;
      auto t = std::find(g.entity_ids.begin(), g.entity_ids.end(), tmap);
      auto b = std::find(g.entity_ids.begin(), g.entity_ids.end(), out.primary.item_id);
      if (t != g.entity_ids.end() && b != g.entity_ids.end() && t < b) out.altr_group = true;
    }
    if (!out.altr_group)
      warn("no 'altr' group lists the tmap before the primary: libavif-based readers ignore the gain map");
    if (const auto* ispe = s.property<heif::Ispe>(tmap)) {
      out.tmap_size = *ispe;
      const bool stored = ispe->width == out.primary.width && ispe->height == out.primary.height;
      const bool shown = ispe->width == out.primary.display_width && ispe->height == out.primary.display_height;
      if (!stored && !shown)
        warn("tmap ispe " + std::to_string(ispe->width) + "x" + std::to_string(ispe->height) +
             " matches neither the primary's size nor its displayed size");
    } else {
      warn("tmap " + item_str(tmap) + " has no 'ispe' (required)");
    }
    for (const auto* c : s.properties_of<heif::Colr>(tmap)) {
      if (c->nclx && !out.alternate_nclx) out.alternate_nclx = c->nclx;
      if (!c->icc.empty() && out.alternate_icc.empty()) out.alternate_icc = c->icc;
    }
    if (const auto* p = s.property<heif::Pixi>(tmap)) out.alternate_pixi = *p;
    if (const auto* c = s.property<heif::Clli>(tmap)) out.alternate_clli = *c;
    // iPhones and Samsung put an identity irot (angle 0) on the tmap: harmless.
    const auto* rot = s.property<heif::Irot>(tmap);
    if ((rot && rot->angle != 0) || s.property<heif::Imir>(tmap) || s.property<heif::Clap>(tmap))
      warn("tmap " + item_str(tmap) + " carries transforms (they belong on its inputs; libavif rejects this)");

    auto data = heif::read_item_data(s, file, tmap, kMaxTmapBytes);
    if (!data) {
      if (data.error().code == ErrorCode::InvalidInput)
        damage("tmap " + item_str(tmap) + " metadata cannot be read: " + data.error().message);
      else
        warn("tmap " + item_str(tmap) + " metadata ignored: " + data.error().message);
      return;
    }
    if (data->empty()) {
      warn("tmap " + item_str(tmap) + " has no metadata bytes: gain map ignored");
      return;
    }
    if ((*data)[0] != 0) {
      warn("tmap " + item_str(tmap) + " version " + std::to_string((*data)[0]) + " is not understood: gain map ignored");
      return;
    }
    auto m = decode_iso21496(ByteView(*data).subspan(1));
    if (!m) {
      warn("tmap " + item_str(tmap) + " metadata ignored: " + m.error().message);
      return;
    }
    out.iso_metadata = *m;
  }

  // Auxiliary images of the primary, by auxC type.
  void find_aux() {
    for (const auto& it : s.items) {
      auto to = s.references_from(it.id, fourcc("auxl"));
      if (std::find(to.begin(), to.end(), out.primary.item_id) == to.end()) continue;
      const auto* aux = s.property<heif::AuxC>(it.id);
      std::string type = aux ? aux->aux_type : std::string();
      out.aux_images.emplace_back(it.id, type);
      if (type == kAppleGainMapAux && !out.apple_aux_item) out.apple_aux_item = it.id;
      if (type == kSamsungGainMapAux && !out.samsung_aux_item) out.samsung_aux_item = it.id;
    }
  }

  // The alpha plane, if the primary has one that can be decoded (a problem only warns: the
  // picture itself is fine without it).
  void find_alpha() {
    for (const auto& [id, type] : out.aux_images) {
      if (type != "urn:mpeg:hevc:2015:auxid:1" && type != "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha") continue;
      std::vector<std::string> w;
      auto info = describe_heif_image(s, file, id, limits, w);
      for (auto& m : w) warn("alpha: " + m);
      if (!info) {
        warn("alpha " + item_str(id) + " unusable: " + info.error().message);
        return;
      }
      if (auto r = check_pixels_reachable(*info); !r) {
        warn("alpha " + item_str(id) + " unusable: " + r.error().message);
        return;
      }
      // An alpha without transforms of its own is coded like the primary and shown with the
      // primary's clap/irot/imir (as libheif applies them to colour and alpha together).
      HeifImageInfo& a = *info;
      const HeifImageInfo& p = out.primary;
      if (a.transform_order.empty() && !p.transform_order.empty() && a.width == p.width && a.height == p.height) {
        a.transform_order = p.transform_order;
        a.rotation_ccw = p.rotation_ccw;
        a.mirror_axis = p.mirror_axis;
        a.clap = p.clap;
        a.exif_orientation = p.exif_orientation;
        a.display_width = p.display_width;
        a.display_height = p.display_height;
      }
      const auto prem = s.references_from(out.primary.item_id, fourcc("prem"));
      out.alpha_premultiplied = std::find(prem.begin(), prem.end(), id) != prem.end();
      out.alpha = std::move(*info);
      return;
    }
  }

  void read_apple() {
    const std::string packet = xmp_for(*out.apple_aux_item);
    if (!packet.empty()) {
      auto x = parse_xmp(packet);
      if (!x) {
        warn("Apple gain-map XMP ignored: " + x.error().message);
      } else {
        auto a = apple_from_xmp(*x);
        out.apple_version = a.version;
        if (a.headroom && *a.headroom >= 1.0) out.apple_headroom = a.headroom;
        else if (a.headroom) warn("Apple HDRGainMapHeadroom " + std::to_string(*a.headroom) + " below 1 ignored");
      }
    }
    if (!out.apple_headroom && (out.apple_maker33 || out.apple_maker48)) {
      ExifInfo e;
      e.apple_maker33 = out.apple_maker33;
      e.apple_maker48 = out.apple_maker48;
      out.apple_headroom = apple_headroom_from_makernote(e);
    }
  }

  // Fills gain_map from `id`; leaves it empty (with a warning, or damage when cut off) when
  // the image cannot be used.
  void describe_gain_map(uint32_t id) {
    std::vector<std::string> w;
    auto info = describe_heif_image(s, file, id, limits, w);
    for (auto& m : w) warn("gain map: " + m);
    if (!info) {
      warn("gain-map " + item_str(id) + " unusable: " + info.error().message);
      return;
    }
    if (auto r = check_pixels_reachable(*info); !r) {
      // Cut off or pointing outside the file is damage; a feature we lack is not.
      if (r.error().code == ErrorCode::InvalidInput)
        damage("gain-map " + item_str(id) + " data cannot be reached: " + r.error().message);
      else
        warn("gain-map " + item_str(id) + " unusable: " + r.error().message);
      return;
    }
    if (!info->hidden) warn("gain-map " + item_str(id) + " is not hidden: some readers show it as an image");
    out.gain_map = std::move(*info);
  }
};

HeifKind kind_of(const HeifStructure& s, uint32_t coded_type) {
  if (coded_type == fourcc("av01")) return HeifKind::Avif;
  if (coded_type == fourcc("hvc1") || coded_type == fourcc("hev1")) return HeifKind::Heic;
  if (s.has_brand(fourcc("avif")) || s.has_brand(fourcc("avis"))) return HeifKind::Avif;
  for (uint32_t b : {fourcc("heic"), fourcc("heix"), fourcc("heim"), fourcc("heis"), fourcc("hevc")})
    if (s.has_brand(b)) return HeifKind::Heic;
  return HeifKind::Unknown;
}

}  // namespace

Result<HeifFile> read_heif(ByteView file, const Limits& limits) {
  if (file.size() > limits.max_file_bytes)
    return fail(ErrorCode::TooLarge, "file of " + std::to_string(file.size()) + " bytes is over the limit");
  HeifFile out;
  REGAIN_TRY(parsed, heif::parse_heif_structure(file));
  out.structure = std::move(parsed);
  const HeifStructure& s = out.structure;
  out.warnings = s.warnings;
  out.major_brand = fourcc_name(s.major_brand);
  for (uint32_t b : s.compatible_brands) out.compatible_brands.push_back(fourcc_name(b));
  Reader rd{s, file, limits, out};

  // ---- primary ---------------------------------------------------------------------------
  if (!s.primary_item) return fail(ErrorCode::InvalidInput, "meta has no primary item ('pitm')");
  uint32_t primary_id = *s.primary_item;
  const heif::Item* pitem = s.item(primary_id);
  if (!pitem) return fail(ErrorCode::InvalidInput, "pitm: primary " + item_str(primary_id) + " does not exist");
  std::optional<uint32_t> primary_tmap;
  if (pitem->type == fourcc("tmap")) {
    // Some writers make the tone-mapped rendition primary; its first input is the base image.
    auto in = s.references_from(primary_id, fourcc("dimg"));
    if (in.empty()) return fail(ErrorCode::InvalidInput, "primary tmap " + item_str(primary_id) + " has no inputs");
    primary_tmap = primary_id;
    rd.warn("the primary item is the tmap " + item_str(primary_id) + "; its base input " + item_str(in[0]) +
            " is reported as the primary");
    primary_id = in[0];
  }
  {
    std::vector<std::string> w;
    auto info = describe_heif_image(s, file, primary_id, limits, w);
    for (auto& m : w) rd.warn("primary: " + m);
    if (!info) return tl::unexpected(with_context(info.error(), "primary image"));
    out.primary = std::move(*info);
  }
  if (auto r = rd.check_pixels_reachable(out.primary); !r)
    return tl::unexpected(with_context(r.error(), "primary image"));
  out.kind = kind_of(s, out.primary.coded_type);

  // ---- EXIF and XMP ------------------------------------------------------------------------
  rd.read_exif();
  for (const auto& it : s.items)
    if (is_xmp_item(it)) out.xmp_items.push_back(it.id);
  out.primary_xmp = rd.xmp_for(out.primary.item_id);

  // ---- gain map ----------------------------------------------------------------------------
  uint32_t tmap_gain_map = 0;
  std::optional<uint32_t> tmap = rd.find_tmap(tmap_gain_map);
  if (primary_tmap && !tmap) rd.warn("the primary tmap's inputs are not [base, gain map]");
  if (tmap) {
    out.tmap_item = tmap;
    rd.read_tmap(*tmap);
  }
  rd.find_aux();
  rd.find_alpha();
  if (out.apple_aux_item) rd.read_apple();
  if (tmap && out.apple_aux_item && *out.apple_aux_item != tmap_gain_map)
    rd.warn("the tmap gain map " + item_str(tmap_gain_map) + " and the Apple gain map " +
            item_str(*out.apple_aux_item) + " are different images; the tmap one is used");
  if (tmap && out.samsung_aux_item && *out.samsung_aux_item != tmap_gain_map)
    rd.warn("the tmap gain map " + item_str(tmap_gain_map) + " and the Samsung gain map " +
            item_str(*out.samsung_aux_item) + " are different images; the tmap one is used");

  // hdrgm XMP (Samsung Galaxy S24-era files carry no tmap: Version, GainMapMin/Max, Gamma,
  // offsets and HDRCapacity in an XMP item describing the gain-map item; failing that, the
  // primary's XMP).
  std::optional<uint32_t> xmp_gm;
  for (std::optional<uint32_t> cand : {tmap ? std::optional<uint32_t>(tmap_gain_map) : std::nullopt,
                                       out.samsung_aux_item, out.apple_aux_item}) {
    if (!cand) continue;
    if (auto m = rd.hdrgm_in(rd.xmp_for(*cand), "of the gain map " + item_str(*cand))) {
      out.xmp_metadata = m;
      xmp_gm = cand;
      break;
    }
  }
  if (!out.xmp_metadata && (tmap || out.samsung_aux_item || out.apple_aux_item)) {
    if (auto m = rd.hdrgm_in(out.primary_xmp, "of the primary")) {
      out.xmp_metadata = m;
      xmp_gm = tmap ? std::optional<uint32_t>(tmap_gain_map) : out.samsung_aux_item ? out.samsung_aux_item
                                                                                    : out.apple_aux_item;
    }
  }

  // Which image is the gain map, and which metadata applies to it: tmap > hdrgm XMP > Apple.
  const bool apple_usable = out.apple_aux_item && out.apple_headroom;
  std::optional<uint32_t> gm_id;
  if (out.iso_metadata) {
    gm_id = tmap_gain_map;
    out.source = MetadataSource::Iso;
  } else if (out.xmp_metadata) {
    gm_id = xmp_gm;
    out.source = MetadataSource::Xmp;
  } else if (apple_usable) {
    gm_id = out.apple_aux_item;
    out.source = MetadataSource::Apple;
  } else if (tmap) {
    gm_id = tmap_gain_map;
  } else if (out.apple_aux_item) {
    gm_id = out.apple_aux_item;
  } else if (out.samsung_aux_item) {
    gm_id = out.samsung_aux_item;
  }
  if (gm_id) {
    rd.describe_gain_map(*gm_id);
    out.gain_map_xmp = rd.xmp_for(*gm_id);
  }
  // An auxiliary gain map with no transforms of its own is stored in the primary's coded
  // orientation (Samsung: primary grid with irot, map grid without; the map lines up with
  // the displayed picture only once turned the same way): it takes the primary's irot/imir.
  // ISO tmap inputs keep their own transforms, as the standard says.
  const bool aux_map = gm_id && (gm_id == out.apple_aux_item || gm_id == out.samsung_aux_item) &&
                       !(tmap && gm_id == tmap_gain_map);
  if (out.gain_map && aux_map && out.gain_map->transform_order.empty() && out.primary.exif_orientation != 1) {
    HeifImageInfo& g = *out.gain_map;
    for (uint32_t t : out.primary.transform_order)
      if (t != fourcc("clap")) g.transform_order.push_back(t);
    g.rotation_ccw = out.primary.rotation_ccw;
    g.mirror_axis = out.primary.mirror_axis;
    g.exif_orientation = out.primary.exif_orientation;
    if (orientation_swaps_axes(g.exif_orientation)) std::swap(g.display_width, g.display_height);
    out.gain_map_orientation_inherited = true;
  }
  if (out.gain_map && out.source == MetadataSource::Iso) {
    out.metadata = out.iso_metadata;
  } else if (out.gain_map && out.source == MetadataSource::Xmp) {
    out.metadata = out.xmp_metadata;
  } else if (out.gain_map && out.source == MetadataSource::Apple) {
    out.metadata = apple_metadata(*out.apple_headroom);
  } else {
    if (out.gain_map) rd.warn("gain map has no usable metadata: it will be ignored");
    out.source = MetadataSource::None;
  }
  // Two flavours that disagree: say which one is used.
  auto close = [](const GainMapMetadata& a, const GainMapMetadata& b) {
    auto near = [](double x, double y) { return std::fabs(x - y) <= 0.01 + 0.01 * std::fabs(y); };
    if (!near(a.alternate_headroom, b.alternate_headroom) || !near(a.base_headroom, b.base_headroom)) return false;
    for (int c = 0; c < 3; ++c)
      if (!near(a.channel[c].min, b.channel[c].min) || !near(a.channel[c].max, b.channel[c].max) ||
          !near(a.channel[c].gamma, b.channel[c].gamma))
        return false;
    return true;
  };
  if (out.iso_metadata && out.xmp_metadata && !close(*out.iso_metadata, *out.xmp_metadata))
    rd.warn("the tmap (ISO 21496-1) and hdrgm XMP metadata disagree; the tmap is used");
  if (out.xmp_metadata && out.apple_headroom && !out.iso_metadata &&
      std::fabs(out.xmp_metadata->alternate_headroom - std::log2(*out.apple_headroom)) > 0.1)
    rd.warn("the hdrgm XMP headroom (" + std::to_string(out.xmp_metadata->alternate_headroom) +
            " stops) and the Apple headroom disagree; the XMP is used");
  if (out.orientation != 1 && out.orientation != out.primary.exif_orientation)
    rd.warn("EXIF orientation " + std::to_string(out.orientation) + " disagrees with the primary's irot/imir (" +
            std::to_string(out.primary.exif_orientation) + "); HEIF readers follow irot/imir");
  if (out.gain_map && out.gain_map->exif_orientation != out.primary.exif_orientation)
    rd.warn("the gain map's irot/imir (orientation " + std::to_string(out.gain_map->exif_orientation) +
            ") differ from the primary's (" + std::to_string(out.primary.exif_orientation) + ")");
  if (out.apple_aux_item && !out.apple_headroom)
    rd.warn("Apple gain map without a headroom (no HDRGainMapHeadroom, no MakerNote tags 33/48)");
  if (out.gain_map && out.metadata && out.gain_map->channels && out.metadata->channel_count() == 3 &&
      out.gain_map->channels == 1)
    rd.warn("3-channel gain-map metadata for a 1-channel gain-map image");
  return out;
}

}  // namespace regain
