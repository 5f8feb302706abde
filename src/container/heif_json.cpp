#include "container/heif_json.h"

#include "regain/report.h"
#include "util/json_text.h"

namespace regain {

using heif::fourcc_name;
using nlohmann::json;

namespace {

json nclx_json(const Nclx& n) {
  return {{"primaries", n.primaries}, {"transfer", n.transfer}, {"matrix", n.matrix}, {"full_range", n.full_range}};
}

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json image_json(const HeifImageInfo& i) {
  json j{{"item_id", i.item_id},
         {"type", fourcc_name(i.type)},
         {"coded_type", fourcc_name(i.coded_type)},
         {"hidden", i.hidden},
         {"width", i.width},
         {"height", i.height},
         {"display_width", i.display_width},
         {"display_height", i.display_height},
         {"bit_depth", i.bit_depth},
         {"channels", i.channels},
         {"nclx", i.nclx ? nclx_json(*i.nclx) : json(nullptr)},
         {"icc_size", i.icc.size()},
         {"rotation_ccw", i.rotation_ccw},
         {"exif_orientation", i.exif_orientation},
         {"mirror_axis", opt(i.mirror_axis)}};
  json order = json::array();
  for (uint32_t t : i.transform_order) order.push_back(fourcc_name(t));
  j["transforms"] = order;
  if (i.grid)
    j["grid"] = {{"rows", i.grid->rows},
                 {"columns", i.grid->columns},
                 {"tile_width", i.grid->tile_width},
                 {"tile_height", i.grid->tile_height},
                 {"tile_type", fourcc_name(i.grid->tile_type)},
                 {"tiles", i.grid->tiles}};
  else
    j["grid"] = nullptr;
  return j;
}

}  // namespace

json heif_property_json(const heif::Property& p) {
  json j{{"type", fourcc_name(p.type)}, {"offset", p.offset}, {"size", p.size}};
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, heif::BadProperty>) {
          j["error"] = v.error;
        } else if constexpr (std::is_same_v<T, heif::CodecConfig>) {
          j["config_size"] = v.bytes.size();
        } else if constexpr (std::is_same_v<T, heif::Ispe>) {
          j["width"] = v.width;
          j["height"] = v.height;
        } else if constexpr (std::is_same_v<T, heif::Pixi>) {
          j["bits_per_channel"] = v.bits;
        } else if constexpr (std::is_same_v<T, heif::Colr>) {
          j["colour_type"] = fourcc_name(v.colour_type);
          if (v.nclx) j["nclx"] = nclx_json(*v.nclx);
          if (!v.icc.empty()) j["icc_size"] = v.icc.size();
        } else if constexpr (std::is_same_v<T, heif::Irot>) {
          j["angle"] = v.angle;
          j["degrees_ccw"] = 90 * v.angle;
        } else if constexpr (std::is_same_v<T, heif::Imir>) {
          j["axis"] = v.axis;
          j["exchanges"] = v.flips_top_bottom() ? "top-bottom" : "left-right";
        } else if constexpr (std::is_same_v<T, heif::Clap>) {
          j["width"] = {v.width_n, v.width_d};
          j["height"] = {v.height_n, v.height_d};
          j["horiz_off"] = {v.horiz_off_n, v.horiz_off_d};
          j["vert_off"] = {v.vert_off_n, v.vert_off_d};
        } else if constexpr (std::is_same_v<T, heif::AuxC>) {
          j["aux_type"] = v.aux_type;
          j["subtype_size"] = v.subtype.size();
        } else if constexpr (std::is_same_v<T, heif::Clli>) {
          j["max_cll"] = v.max_content_light_level;
          j["max_pall"] = v.max_pic_average_light_level;
        } else if constexpr (std::is_same_v<T, heif::Lsel>) {
          j["layer_id"] = v.layer_id;
        }
      },
      p.value);
  return j;
}

json box_tree_json(const std::vector<isobmff::BoxNode>& nodes) {
  json out = json::array();
  for (const auto& n : nodes) {
    json j{{"type", fourcc_name(n.box.type)}, {"offset", n.box.offset}, {"size", n.box.size}};
    if (n.box.truncated) j["truncated"] = true;
    if (!n.children.empty()) j["children"] = box_tree_json(n.children);
    out.push_back(std::move(j));
  }
  return out;
}

json heif_structure_json(const heif::HeifStructure& s) {
  json j;
  json brands = json::array();
  for (uint32_t b : s.compatible_brands) brands.push_back(fourcc_name(b));
  j["major_brand"] = fourcc_name(s.major_brand);
  j["minor_version"] = s.minor_version;
  j["compatible_brands"] = brands;
  j["primary_item"] = opt(s.primary_item);
  j["has_moov"] = s.has_moov;
  j["truncated"] = s.truncated;
  json boxes = json::array();
  for (const auto& b : s.boxes)
    boxes.push_back({{"type", fourcc_name(b.type)}, {"offset", b.offset}, {"size", b.size}, {"truncated", b.truncated}});
  j["boxes"] = boxes;
  j["idat"] = s.idat ? json{{"offset", s.idat->offset}, {"size", s.idat->size}} : json(nullptr);

  json items = json::array();
  for (const auto& it : s.items) {
    json ji{{"id", it.id}, {"type", fourcc_name(it.type)}, {"name", it.name}, {"hidden", it.hidden}};
    if (!it.content_type.empty()) ji["content_type"] = it.content_type;
    if (!it.content_encoding.empty()) ji["content_encoding"] = it.content_encoding;
    if (!it.uri_type.empty()) ji["uri_type"] = it.uri_type;
    if (it.location) {
      json d{{"construction_method", it.location->construction_method},
             {"extents", it.location->extents.size()}};
      if (auto r = heif::item_ranges(s, it.id)) {
        uint64_t total = 0;
        for (const auto& x : *r) total += x.size;
        d["size"] = total;
        if (!r->empty()) d["offset"] = r->front().offset;
      } else {
        d["error"] = r.error().message;
      }
      ji["data"] = d;
    } else {
      ji["data"] = nullptr;
    }
    json props = json::array();
    for (const auto& a : it.properties) {
      json p = heif_property_json(s.properties[a.index]);
      p["index"] = a.index + 1;  // as ipma numbers them
      p["essential"] = a.essential;
      props.push_back(p);
    }
    ji["properties"] = props;
    json refs = json::array();
    for (const auto& r : s.references)
      if (r.from == it.id) refs.push_back({{"type", fourcc_name(r.type)}, {"to", r.to}});
    ji["references"] = refs;
    items.push_back(ji);
  }
  j["items"] = items;
  json groups = json::array();
  for (const auto& g : s.groups)
    groups.push_back({{"type", fourcc_name(g.type)}, {"group_id", g.group_id}, {"entities", g.entity_ids}});
  j["groups"] = groups;
  j["property_count"] = s.properties.size();
  j["warnings"] = s.warnings;
  return j;
}

json heif_file_json(const HeifFile& f) {
  json j;
  j["format"] = heif_kind_name(f.kind);
  j["major_brand"] = f.major_brand;
  j["compatible_brands"] = f.compatible_brands;
  j["width"] = f.primary.width;
  j["height"] = f.primary.height;
  j["display_width"] = f.primary.display_width;
  j["display_height"] = f.primary.display_height;
  j["orientation"] = f.orientation;
  j["has_gps"] = f.has_gps;
  j["primary"] = image_json(f.primary);
  j["exif_item"] = opt(f.exif_item);
  j["xmp_items"] = f.xmp_items;
  json aux = json::array();
  for (const auto& [id, type] : f.aux_images) aux.push_back({{"item_id", id}, {"aux_type", type}});
  j["aux_images"] = aux;
  if (!f.gain_map) {
    j["gain_map"] = nullptr;
  } else {
    json g = image_json(*f.gain_map);
    g["metadata_source"] = metadata_source_name(f.source);
    g["metadata"] = f.metadata ? metadata_to_json(*f.metadata) : json(nullptr);
    g["iso"] = f.iso_metadata ? metadata_to_json(*f.iso_metadata) : json(nullptr);
    g["xmp"] = f.xmp_metadata ? metadata_to_json(*f.xmp_metadata) : json(nullptr);
    g["orientation_inherited_from_primary"] = f.gain_map_orientation_inherited;
    g["apple_aux_item"] = opt(f.apple_aux_item);
    g["samsung_aux_item"] = opt(f.samsung_aux_item);
    if (f.apple_headroom || f.apple_version || f.apple_maker33 || f.apple_maker48)
      g["apple"] = {{"headroom", opt(f.apple_headroom)},
                    {"version", opt(f.apple_version)},
                    {"makernote_33", opt(f.apple_maker33)},
                    {"makernote_48", opt(f.apple_maker48)}};
    else
      g["apple"] = nullptr;
    j["gain_map"] = g;
  }
  if (f.tmap_item) {
    j["tmap"] = {{"item_id", *f.tmap_item},
                 {"brand", f.tmap_brand},
                 {"altr_group", f.altr_group},
                 {"width", f.tmap_size ? json(f.tmap_size->width) : json(nullptr)},
                 {"height", f.tmap_size ? json(f.tmap_size->height) : json(nullptr)},
                 {"alternate_nclx", f.alternate_nclx ? nclx_json(*f.alternate_nclx) : json(nullptr)},
                 {"alternate_icc_size", f.alternate_icc.size()},
                 {"alternate_bits_per_channel", f.alternate_pixi ? json(f.alternate_pixi->bits) : json(nullptr)},
                 {"alternate_clli", f.alternate_clli ? json{f.alternate_clli->max_content_light_level,
                                                            f.alternate_clli->max_pic_average_light_level}
                                                     : json(nullptr)}};
  } else {
    j["tmap"] = nullptr;
  }
  j["warnings"] = f.warnings;
  j["damaged"] = f.damaged;
  j["damage"] = f.damage;
  j["structure"] = heif_structure_json(f.structure);
  make_utf8(j);  // brands, handler names, URNs and XMP text come from the file
  return j;
}

}  // namespace regain
