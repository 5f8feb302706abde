// JSON forms of gain-map metadata and of a gain-map JPEG (the inspect/extract contract); lives
// with the containers because the HEIF summary uses the same forms.
#include "regain/report.h"

#include "container/heif_gainmap.h"
#include "container/heif_json.h"
#include "regain/codec.h"
#include "util/json_text.h"
#include "util/orientation.h"

namespace regain {

using nlohmann::json;

json metadata_to_json(const GainMapMetadata& m) {
  json ch = json::array();
  for (int c = 0; c < 3; ++c) {
    const auto& x = m.channel[c];
    ch.push_back({{"gain_map_min", x.min},
                  {"gain_map_max", x.max},
                  {"gamma", x.gamma},
                  {"base_offset", x.base_offset},
                  {"alternate_offset", x.alternate_offset}});
  }
  return {{"minimum_version", m.minimum_version},
          {"writer_version", m.writer_version},
          {"multichannel", m.multichannel},
          {"use_base_colour_space", m.use_base_colour_space},
          {"base_hdr_headroom", m.base_headroom},
          {"alternate_hdr_headroom", m.alternate_headroom},
          {"base_rendition_is_hdr", m.base_is_hdr()},
          {"curve", m.curve == GainCurve::AppleLinear ? "apple" : "iso21496-1"},
          {"channels", ch}};
}

Result<GainMapMetadata> metadata_from_json(const json& j) {
  try {
    if (!j.is_object()) return fail(ErrorCode::InvalidInput, "metadata JSON must be an object");
    GainMapMetadata m;
    m.minimum_version = j.value("minimum_version", 0);
    m.writer_version = j.value("writer_version", 0);
    m.multichannel = j.value("multichannel", false);
    m.use_base_colour_space = j.value("use_base_colour_space", true);
    m.base_headroom = j.value("base_hdr_headroom", 0.0);
    if (!j.contains("alternate_hdr_headroom"))
      return fail(ErrorCode::InvalidInput, "metadata JSON: alternate_hdr_headroom is missing");
    m.alternate_headroom = j.at("alternate_hdr_headroom").get<double>();
    if (j.value("curve", std::string("iso21496-1")) == "apple") m.curve = GainCurve::AppleLinear;
    if (!j.contains("channels") || !j["channels"].is_array() ||
        (j["channels"].size() != 1 && j["channels"].size() != 3))
      return fail(ErrorCode::InvalidInput, "metadata JSON: channels must be an array of 1 or 3 objects");
    const auto& chs = j["channels"];
    for (int c = 0; c < 3; ++c) {
      const auto& x = chs[chs.size() == 3 ? c : 0];
      if (!x.contains("gain_map_max"))
        return fail(ErrorCode::InvalidInput, "metadata JSON: channels[" + std::to_string(c) + "].gain_map_max is missing");
      m.channel[c] = {x.value("gain_map_min", 0.0), x.at("gain_map_max").get<double>(), x.value("gamma", 1.0),
                      x.value("base_offset", 1.0 / 64), x.value("alternate_offset", 1.0 / 64)};
    }
    if (chs.size() == 1) m.multichannel = false;
    REGAIN_CHECK(validate(m));
    return m;
  } catch (const json::exception& e) {
    return fail(ErrorCode::InvalidInput, std::string("metadata JSON: ") + e.what());
  }
}

namespace {
json part_to_json(const JpegPartInfo& p) {
  json segs = json::array();
  for (const auto& s : p.segments)
    segs.push_back({{"marker", s.marker}, {"kind", s.kind}, {"offset", s.offset}, {"size", s.size}});
  return {{"offset", p.offset},
          {"size", p.size},
          {"width", p.width},
          {"height", p.height},
          {"components", p.components},
          {"flavours",
           {{"xmp_hdrgm", p.xmp_hdrgm},
            {"xmp_container", p.xmp_container},
            {"iso_version", p.iso_version},
            {"iso_metadata", p.iso_full},
            {"apple_xmp", p.apple_xmp},
            {"mpf", p.mpf},
            {"exif", p.exif},
            {"icc", p.icc}}},
          {"segments", segs}};
}
}  // namespace

json jpegr_to_json(const JpegrFile& f) {
  const bool swap = orientation_swaps_axes(f.orientation);
  json j;
  j["format"] = "jpeg";
  j["width"] = f.primary.width;
  j["height"] = f.primary.height;
  j["orientation"] = f.orientation;
  j["display_width"] = swap ? f.primary.height : f.primary.width;
  j["display_height"] = swap ? f.primary.width : f.primary.height;
  j["has_gps"] = f.has_gps;
  j["primary"] = part_to_json(f.primary);
  json mpf = json::array();
  for (const auto& e : f.mpf_entries)
    mpf.push_back({{"attribute", e.attribute}, {"size", e.size}, {"offset", e.offset},
                   {"file_offset", e.file_offset}, {"valid", e.valid}});
  j["mpf"] = mpf;
  if (!f.gain_map) {
    j["gain_map"] = nullptr;
  } else {
    json g = part_to_json(*f.gain_map);
    g["channels"] = f.gain_map->components;
    g["metadata_source"] = metadata_source_name(f.source);
    g["metadata"] = f.metadata ? metadata_to_json(*f.metadata) : json(nullptr);
    g["iso"] = f.iso_metadata ? metadata_to_json(*f.iso_metadata) : json(nullptr);
    g["xmp"] = f.xmp_metadata ? metadata_to_json(*f.xmp_metadata) : json(nullptr);
    if (f.apple_headroom || f.apple_version || f.apple_maker33 || f.apple_maker48) {
      json a;
      a["headroom"] = f.apple_headroom ? json(*f.apple_headroom) : json(nullptr);
      a["version"] = f.apple_version ? json(*f.apple_version) : json(nullptr);
      a["makernote_33"] = f.apple_maker33 ? json(*f.apple_maker33) : json(nullptr);
      a["makernote_48"] = f.apple_maker48 ? json(*f.apple_maker48) : json(nullptr);
      g["apple"] = a;
    } else {
      g["apple"] = nullptr;
    }
    j["gain_map"] = g;
  }
  j["warnings"] = f.warnings;
  j["repair_would_help"] = f.repair_would_help;
  make_utf8(j);  // XMP values, ICC descriptions and warnings quoting them come from the file
  return j;
}

Result<nlohmann::json> inspect_json(std::span<const uint8_t> file) {
  const FileType t = sniff_file_type(file);
  if (t == FileType::Jpeg) {
    REGAIN_TRY(jr, read_jpegr(file));
    return jpegr_to_json(jr);
  }
  if (t == FileType::Heif || t == FileType::Avif) {
    REGAIN_TRY(hf, read_heif(file));
    return heif_file_json(hf);
  }
  return fail(ErrorCode::Unsupported,
              std::string("inspect handles JPEG, HEIC and AVIF files; this is ") + file_type_name(t));
}

}  // namespace regain
