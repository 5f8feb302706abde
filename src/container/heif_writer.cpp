// HEIF / AVIF box layout (see heif_writer.h for what goes where and why).
//
// The meta box is built twice: once to learn its size, then again with the item offsets
// into mdat, which follows it. All sizes are fixed-width fields, so the second pass has the
// same length.
#include "container/heif_writer.h"

#include <algorithm>
#include <map>

#include "container/box_writer.h"
#include "container/iso21496.h"
#include "container/xmp.h"

namespace regain {
namespace {

constexpr std::string_view kAppleGainMapAux = "urn:com:apple:photo:2020:aux:hdrgainmap";
constexpr std::string_view kSamsungGainMapAux = "urn:com:samsung:photo:2024:aux:hdrgainmap";

struct Item {
  uint32_t id = 0;
  std::string type;
  std::string content_type;  // for `mime` items
  bool hidden = false;
  Bytes data;
  std::vector<std::pair<uint16_t, bool>> props;  // ipco index (1-based), essential
};

// ipco entries are de-duplicated: every tile shares one hvcC, one ispe and one pixi.
class PropertyTable {
 public:
  uint16_t add(Bytes box) {
    auto it = std::find(boxes_.begin(), boxes_.end(), box);
    if (it != boxes_.end()) return uint16_t(it - boxes_.begin() + 1);
    boxes_.push_back(std::move(box));
    return uint16_t(boxes_.size());
  }
  const std::vector<Bytes>& boxes() const { return boxes_; }

 private:
  std::vector<Bytes> boxes_;
};

Bytes box_ispe(uint32_t w, uint32_t h) {
  BoxWriter b;
  b.open_full("ispe", 0, 0);
  b.out().u32(w);
  b.out().u32(h);
  b.close();
  return b.take();
}

Bytes box_pixi(int channels, int bit_depth) {
  BoxWriter b;
  b.open_full("pixi", 0, 0);
  b.out().u8(uint8_t(channels));
  for (int c = 0; c < channels; ++c) b.out().u8(uint8_t(bit_depth));
  b.close();
  return b.take();
}

Bytes box_nclx(const Nclx& n) {
  BoxWriter b;
  b.open("colr");
  b.out().append("nclx");
  b.out().u16(n.primaries);
  b.out().u16(n.transfer);
  b.out().u16(n.matrix);
  b.out().u8(n.full_range ? 0x80 : 0);
  b.close();
  return b.take();
}

Bytes box_icc(std::span<const uint8_t> icc) {
  BoxWriter b;
  b.open("colr");
  b.out().append("prof");
  b.out().append(icc);
  b.close();
  return b.take();
}

Bytes box_config(const std::string& coding, std::span<const uint8_t> payload) {
  BoxWriter b;
  b.open(coding == "av01" ? "av1C" : "hvcC");
  b.out().append(payload);
  b.close();
  return b.take();
}

Bytes box_auxc(std::string_view urn) {
  BoxWriter b;
  b.open_full("auxC", 0, 0);
  b.cstring(urn);
  b.close();
  return b.take();
}

Bytes box_irot(int rotation_ccw) {
  BoxWriter b;
  b.open("irot");
  b.out().u8(uint8_t((rotation_ccw / 90) & 3));
  b.close();
  return b.take();
}

Bytes box_clli(std::pair<uint16_t, uint16_t> v) {
  BoxWriter b;
  b.open("clli");
  b.out().u16(v.first);
  b.out().u16(v.second);
  b.close();
  return b.take();
}

Bytes grid_payload(const HeifImageItem& img) {
  bool wide = img.width > 0xFFFF || img.height > 0xFFFF;
  ByteWriter w;
  w.u8(0);  // version
  w.u8(wide ? 1 : 0);
  w.u8(uint8_t(img.rows - 1));
  w.u8(uint8_t(img.columns - 1));
  if (wide) {
    w.u32(img.width);
    w.u32(img.height);
  } else {
    w.u16(uint16_t(img.width));
    w.u16(uint16_t(img.height));
  }
  return w.take();
}

Result<void> check_image(const HeifImageItem& img, const char* what) {
  auto bad = [&](const std::string& m) { return fail(ErrorCode::InvalidInput, std::string(what) + ": " + m); };
  if (img.coding != "hvc1" && img.coding != "av01") return bad("coding must be hvc1 or av01");
  if (img.width == 0 || img.height == 0) return bad("empty image");
  if (img.columns == 0 || img.rows == 0 || img.columns > 256 || img.rows > 256)
    return bad("grid must have 1..256 rows and columns");
  if (img.tiles.size() != size_t(img.columns) * img.rows) return bad("tile count does not match the grid");
  if (img.tiles.size() > 1) {
    if (uint64_t(img.tile_width) * img.columns < img.width || uint64_t(img.tile_height) * img.rows < img.height)
      return bad("tiles do not cover the image");
    // Spec: the right and bottom tiles may overhang, but no whole tile column/row may be spare.
    if (uint64_t(img.tile_width) * (img.columns - 1) >= img.width ||
        uint64_t(img.tile_height) * (img.rows - 1) >= img.height)
      return bad("grid has a tile row or column entirely outside the image");
  }
  if (img.channels != 1 && img.channels != 3) return bad("channels must be 1 or 3");
  if (img.bit_depth < 8 || img.bit_depth > 12) return bad("bit depth must be 8..12");
  for (const auto& t : img.tiles)
    if (t.empty()) return bad("empty tile data");
  return {};
}

// Adds the items for one image (single coded item, or grid + hidden tiles); returns the id
// that stands for the image.
uint32_t add_image(std::vector<Item>& items, PropertyTable& props, const HeifImageItem& img, bool hidden,
                   std::map<uint32_t, std::vector<uint32_t>>& dimg, uint32_t& next_id) {
  auto colour_props = [&](Item& it) {
    it.props.push_back({props.add(box_pixi(img.channels, img.bit_depth)), false});
    if (img.nclx) it.props.push_back({props.add(box_nclx(*img.nclx)), false});
    if (!img.icc.empty()) it.props.push_back({props.add(box_icc(img.icc)), false});
  };
  uint16_t config = props.add(box_config(img.coding, img.config));
  if (img.tiles.size() == 1) {
    Item it;
    it.id = next_id++;
    it.type = img.coding;
    it.hidden = hidden;
    it.data = img.tiles[0];
    it.props.push_back({config, true});
    it.props.push_back({props.add(box_ispe(img.width, img.height)), false});
    colour_props(it);
    if (img.rotation_ccw) it.props.push_back({props.add(box_irot(img.rotation_ccw)), true});
    items.push_back(std::move(it));
    return items.back().id;
  }
  Item grid;
  grid.id = next_id++;
  grid.type = "grid";
  grid.hidden = hidden;
  grid.data = grid_payload(img);
  grid.props.push_back({props.add(box_ispe(img.width, img.height)), false});
  colour_props(grid);
  if (img.rotation_ccw) grid.props.push_back({props.add(box_irot(img.rotation_ccw)), true});
  uint32_t grid_id = grid.id;
  items.push_back(std::move(grid));
  uint16_t tile_ispe = props.add(box_ispe(img.tile_width, img.tile_height));
  uint16_t tile_pixi = props.add(box_pixi(img.channels, img.bit_depth));
  for (const auto& t : img.tiles) {
    Item it;
    it.id = next_id++;
    it.type = img.coding;
    it.hidden = true;  // tiles are never shown on their own
    it.data = t;
    it.props = {{config, true}, {tile_ispe, false}, {tile_pixi, false}};
    dimg[grid_id].push_back(it.id);
    items.push_back(std::move(it));
  }
  return grid_id;
}

struct Layout {
  std::vector<Item> items;
  PropertyTable props;
  uint32_t primary = 0;
  std::vector<std::tuple<std::string, uint32_t, std::vector<uint32_t>>> refs;  // type, from, to
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> altr;               // group id, entities
  std::vector<std::string> brands;
  std::string major;
};

Bytes build_meta(const Layout& L, uint64_t mdat_payload_start) {
  bool wide_ids = false;
  for (const auto& it : L.items) wide_ids |= it.id > 0xFFFF;
  BoxWriter b;
  b.open_full("meta", 0, 0);

  b.open_full("hdlr", 0, 0);
  b.out().u32(0);
  b.out().append("pict");
  for (int i = 0; i < 3; ++i) b.out().u32(0);
  b.cstring("");
  b.close();

  b.open_full("pitm", wide_ids ? 1 : 0, 0);
  wide_ids ? b.out().u32(L.primary) : b.out().u16(uint16_t(L.primary));
  b.close();

  // iloc v1/v2 would allow idat; every item lives in mdat, so v0 (v2 for 32-bit ids) with
  // 4-byte offsets is enough (files stay far below 4 GiB: see Limits).
  b.open_full("iloc", wide_ids ? 2 : 0, 0);
  b.out().u8(0x44);  // offset_size 4, length_size 4
  b.out().u8(wide_ids ? 0x00 : 0x00);  // base_offset_size 0, index_size / reserved 0
  wide_ids ? b.out().u32(uint32_t(L.items.size())) : b.out().u16(uint16_t(L.items.size()));
  uint64_t offset = mdat_payload_start;
  for (const auto& it : L.items) {
    wide_ids ? b.out().u32(it.id) : b.out().u16(uint16_t(it.id));
    if (wide_ids) b.out().u16(0);  // v2: reserved(12) + construction_method(4) = file offset
    b.out().u16(0);                 // data_reference_index: this file
    b.out().u16(1);                 // extent_count
    b.out().u32(uint32_t(offset));
    b.out().u32(uint32_t(it.data.size()));
    offset += it.data.size();
  }
  b.close();

  b.open_full("iinf", 0, 0);
  b.out().u16(uint16_t(L.items.size()));
  for (const auto& it : L.items) {
    b.open_full("infe", wide_ids ? 3 : 2, it.hidden ? 1 : 0);
    wide_ids ? b.out().u32(it.id) : b.out().u16(uint16_t(it.id));
    b.out().u16(0);  // protection index
    b.out().append(it.type);
    b.cstring("");
    if (it.type == "mime") b.cstring(it.content_type);
    b.close();
  }
  b.close();

  if (!L.refs.empty()) {
    b.open_full("iref", wide_ids ? 1 : 0, 0);
    auto id = [&](uint32_t v) { wide_ids ? b.out().u32(v) : b.out().u16(uint16_t(v)); };
    for (const auto& [type, from, to] : L.refs) {
      b.open(type);
      id(from);
      b.out().u16(uint16_t(to.size()));
      for (uint32_t t : to) id(t);
      b.close();
    }
    b.close();
  }

  b.open("iprp");
  b.open("ipco");
  for (const auto& p : L.props.boxes()) b.out().append(p);
  b.close();
  bool wide_index = L.props.boxes().size() > 127;
  b.open_full("ipma", wide_ids ? 1 : 0, wide_index ? 1 : 0);
  b.out().u32(uint32_t(L.items.size()));
  for (const auto& it : L.items) {
    wide_ids ? b.out().u32(it.id) : b.out().u16(uint16_t(it.id));
    b.out().u8(uint8_t(it.props.size()));
    for (auto [index, essential] : it.props) {
      if (wide_index) b.out().u16(uint16_t((essential ? 0x8000 : 0) | index));
      else b.out().u8(uint8_t((essential ? 0x80 : 0) | index));
    }
  }
  b.close();
  b.close();  // iprp

  if (!L.altr.empty()) {
    b.open("grpl");
    for (const auto& [group, entities] : L.altr) {
      b.open_full("altr", 0, 0);
      b.out().u32(group);
      b.out().u32(uint32_t(entities.size()));
      for (uint32_t e : entities) b.out().u32(e);
      b.close();
    }
    b.close();
  }
  b.close();  // meta
  return b.take();
}

Bytes build_ftyp(const Layout& L) {
  BoxWriter b;
  b.open("ftyp");
  b.out().append(L.major);
  b.out().u32(0);
  for (const auto& br : L.brands) b.out().append(br);
  b.close();
  return b.take();
}

// A hidden XMP ('mime' application/rdf+xml) item describing (cdsc) `target`.
void add_xmp_item(Layout& L, uint32_t& next_id, const std::string& packet, uint32_t target) {
  Item x;
  x.id = next_id++;
  x.type = "mime";
  x.content_type = "application/rdf+xml";
  x.hidden = true;
  x.data.assign(packet.begin(), packet.end());
  L.refs.push_back({"cdsc", x.id, {target}});
  L.items.push_back(std::move(x));
}

// ftyp, meta (iloc pointing into mdat), then mdat with every item's bytes in item order.
Result<Bytes> assemble(const Layout& L) {
  uint64_t total_data = 0;
  for (const auto& it : L.items) total_data += it.data.size();
  Bytes ftyp = build_ftyp(L);
  Bytes meta = build_meta(L, 0);
  const uint64_t mdat_start = ftyp.size() + meta.size();
  if (mdat_start + 8 + total_data > 0xFFFFFFFFull) return fail(ErrorCode::TooLarge, "HEIF output over 4 GiB");
  meta = build_meta(L, mdat_start + 8);
  Bytes out;
  out.reserve(mdat_start + 8 + total_data);
  out.insert(out.end(), ftyp.begin(), ftyp.end());
  out.insert(out.end(), meta.begin(), meta.end());
  ByteWriter mdat_header;
  mdat_header.u32(uint32_t(8 + total_data));
  mdat_header.append("mdat");
  out.insert(out.end(), mdat_header.bytes().begin(), mdat_header.bytes().end());
  for (const auto& it : L.items) out.insert(out.end(), it.data.begin(), it.data.end());
  return out;
}

}  // namespace

std::string apple_gain_map_xmp(double headroom_linear) {
  return "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"" + std::string(kNsRdf) +
         "\"><rdf:Description rdf:about=\"\" xmlns:HDRGainMap=\"" + std::string(kNsApple) +
         "\" HDRGainMap:HDRGainMapVersion=\"131072\" HDRGainMap:HDRGainMapHeadroom=\"" +
         format_double(headroom_linear) + "\"/></rdf:RDF></x:xmpmeta>";
}

Result<Bytes> write_heif(const HeifWriteInput& in) {
  REGAIN_CHECK(check_image(in.base, "base image"));
  std::string coding = in.avif ? "av01" : "hvc1";
  if (in.base.coding != coding) return fail(ErrorCode::InvalidInput, "base image coding does not match the brand");
  if (in.gain_map) {
    REGAIN_CHECK(check_image(*in.gain_map, "gain map"));
    if (in.gain_map->coding != coding)
      return fail(ErrorCode::InvalidInput, "gain map coding does not match the base");
    if (!in.metadata) return fail(ErrorCode::InvalidInput, "gain map without metadata");
  }

  Layout L;
  std::map<uint32_t, std::vector<uint32_t>> dimg;
  uint32_t next_id = 1;
  L.primary = add_image(L.items, L.props, in.base, false, dimg, next_id);
  if (in.clli && !in.gain_map) {
    for (auto& it : L.items)
      if (it.id == L.primary) it.props.push_back({L.props.add(box_clli(*in.clli)), false});
  }

  std::optional<uint32_t> tmap_id;
  if (in.gain_map) {
    uint32_t gm = add_image(L.items, L.props, *in.gain_map, true, dimg, next_id);
    if (in.write_tmap) {
      REGAIN_TRY(iso, encode_iso21496(*in.metadata));
      Item tmap;
      tmap.id = next_id++;
      tmap.type = "tmap";
      tmap.data.push_back(0);  // tmap item version
      tmap.data.insert(tmap.data.end(), iso.begin(), iso.end());
      tmap.props.push_back({L.props.add(box_ispe(in.base.width, in.base.height)), false});
      tmap.props.push_back({L.props.add(box_pixi(3, in.alternate_bit_depth)), false});
      if (in.alternate_nclx) tmap.props.push_back({L.props.add(box_nclx(*in.alternate_nclx)), false});
      if (!in.alternate_icc.empty()) tmap.props.push_back({L.props.add(box_icc(in.alternate_icc)), false});
      if (in.alternate_clli) tmap.props.push_back({L.props.add(box_clli(*in.alternate_clli)), false});
      tmap_id = tmap.id;
      L.items.push_back(std::move(tmap));
      L.refs.push_back({"dimg", *tmap_id, {L.primary, gm}});
    }
    if (!in.avif && (in.apple_aux || in.samsung_aux)) {
      const std::string_view urn = in.samsung_aux ? kSamsungGainMapAux : kAppleGainMapAux;
      for (auto& it : L.items)
        if (it.id == gm) it.props.push_back({L.props.add(box_auxc(urn)), false});
      L.refs.push_back({"auxl", gm, {L.primary}});
    }
    if (!in.gain_map_xmp.empty()) add_xmp_item(L, next_id, in.gain_map_xmp, gm);
  }
  if (!in.exif.empty()) {
    Item e;
    e.id = next_id++;
    e.type = "Exif";
    e.hidden = true;
    e.data = {0, 0, 0, 0};  // offset from here to the TIFF header
    e.data.insert(e.data.end(), in.exif.begin(), in.exif.end());
    L.refs.push_back({"cdsc", e.id, {L.primary}});
    L.items.push_back(std::move(e));
  }
  if (!in.xmp.empty()) add_xmp_item(L, next_id, in.xmp, L.primary);
  for (auto& [from, to] : dimg) L.refs.insert(L.refs.begin(), {"dimg", from, to});
  if (tmap_id) L.altr.push_back({next_id, {*tmap_id, L.primary}});

  if (in.avif) {
    L.major = "avif";
    L.brands = {"mif1", "avif", "miaf"};
  } else {
    // `heic` is for Main / Main Still Picture; 10-bit and 4:4:4 streams are `heix`.
    L.major = in.base.bit_depth > 8 ? "heix" : "heic";
    L.brands = {"mif1", L.major, "miaf"};
  }
  if (tmap_id) L.brands.push_back("tmap");

  return assemble(L);
}

Result<Bytes> add_tmap_item(const heif::HeifStructure& s, ByteView file, const TmapAddition& t) {
  REGAIN_CHECK(validate(t.metadata));
  if (!s.primary_item) return fail(ErrorCode::InvalidInput, "no primary item");
  if (s.has_moov) return fail(ErrorCode::Unsupported, "the file also holds tracks (an image sequence): not rewritten");
  Layout L;
  L.primary = *s.primary_item;
  uint32_t max_id = 0;
  for (const auto& it : s.items) {
    max_id = std::max(max_id, it.id);
    if (it.type == heif::fourcc("tmap")) return fail(ErrorCode::InvalidInput, "the file already has a tmap item");
    if (it.type == heif::fourcc("uri ") || it.type == 0 || it.protection_index != 0 || !it.content_encoding.empty())
      return fail(ErrorCode::Unsupported, "item " + std::to_string(it.id) + " (" + heif::fourcc_name(it.type) +
                                              ") cannot be carried over by this writer");
    Item out;
    out.id = it.id;
    out.type = heif::fourcc_name(it.type);
    out.content_type = it.content_type;
    out.hidden = it.hidden;
    if (it.location) {
      REGAIN_TRY(data, heif::read_item_data(s, file, it.id, file.size()));
      out.data = std::move(data);
    }
    for (const auto& a : it.properties) {
      if (a.index >= s.properties.size()) return fail(ErrorCode::InvalidInput, "property index out of range");
      const auto& p = s.properties[a.index];
      if (p.offset + p.size > file.size()) return fail(ErrorCode::InvalidInput, "property box outside the file");
      out.props.push_back({L.props.add(Bytes(file.begin() + long(p.offset), file.begin() + long(p.offset + p.size))),
                           a.essential});
    }
    if (it.id == t.gain_map_item && t.gain_map_takes_primary_transforms) {
      const heif::Item* primary = s.item(*s.primary_item);
      for (const auto& a : primary ? primary->properties : std::vector<heif::PropertyAssociation>{}) {
        const auto& p = s.properties[a.index];
        if (!std::holds_alternative<heif::Irot>(p.value) && !std::holds_alternative<heif::Imir>(p.value)) continue;
        out.props.push_back({L.props.add(Bytes(file.begin() + long(p.offset), file.begin() + long(p.offset + p.size))),
                             true});
      }
    }
    L.items.push_back(std::move(out));
  }
  // Group ids share the item id space (ISO/IEC 14496-12 8.18.3): the new ids avoid both.
  for (const auto& g : s.groups) {
    max_id = std::max(max_id, g.group_id);
    for (uint32_t e : g.entity_ids) max_id = std::max(max_id, e);
  }
  if (max_id >= 0xFFFFFFF0u) return fail(ErrorCode::Unsupported, "item ids exhausted");
  for (const auto& r : s.references) L.refs.push_back({heif::fourcc_name(r.type), r.from, r.to});
  uint32_t next_group = max_id + 2;
  for (const auto& g : s.groups) {
    if (g.type != heif::fourcc("altr"))
      return fail(ErrorCode::Unsupported, "entity group '" + heif::fourcc_name(g.type) + "' cannot be carried over");
    L.altr.push_back({g.group_id, g.entity_ids});
    next_group = std::max(next_group, g.group_id + 1);
  }
  REGAIN_TRY(iso, encode_iso21496(t.metadata));
  Item tmap;
  tmap.id = max_id + 1;
  tmap.type = "tmap";
  tmap.data.push_back(0);  // tmap item version
  tmap.data.insert(tmap.data.end(), iso.begin(), iso.end());
  tmap.props.push_back({L.props.add(box_ispe(t.width, t.height)), false});
  tmap.props.push_back({L.props.add(box_pixi(3, 10)), false});
  tmap.props.push_back({L.props.add(box_nclx(t.alternate)), false});
  L.refs.push_back({"dimg", tmap.id, {L.primary, t.gain_map_item}});
  L.altr.push_back({next_group, {tmap.id, L.primary}});
  L.items.push_back(std::move(tmap));
  L.major = heif::fourcc_name(s.major_brand);
  for (uint32_t b : s.compatible_brands) L.brands.push_back(heif::fourcc_name(b));
  if (!s.has_brand(heif::fourcc("tmap"))) L.brands.push_back("tmap");

  return assemble(L);
}

}  // namespace regain
