// XMP packets: a namespace-resolved view (prefixes vary between writers; Chromium resolves
// namespaces, so must we), the hdrgm gain-map properties, the GContainer directory and
// Apple's HDRGainMap properties; and the packets we write.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "regain/gainmap.h"

namespace regain {

inline constexpr std::string_view kNsHdrgm = "http://ns.adobe.com/hdr-gain-map/1.0/";
inline constexpr std::string_view kNsContainer = "http://ns.google.com/photos/1.0/container/";
inline constexpr std::string_view kNsItem = "http://ns.google.com/photos/1.0/container/item/";
inline constexpr std::string_view kNsRdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
inline constexpr std::string_view kNsApple = "http://ns.apple.com/HDRGainMap/1.0/";
inline constexpr std::string_view kNsApdi = "http://ns.apple.com/pixeldatainfo/1.0/";
inline constexpr std::string_view kNsXmpNote = "http://ns.adobe.com/xmp/note/";

struct XmpProperty {
  std::string ns, name;
  std::vector<std::string> values;  // one for simple values, several for rdf:Seq/Bag
};

struct ContainerItem {
  std::string semantic, mime;
  std::optional<uint64_t> length, padding;
};

struct Xmp {
  std::vector<XmpProperty> properties;      // from every rdf:Description
  std::vector<std::string> namespaces;      // every namespace URI declared
  std::vector<ContainerItem> directory;     // GContainer items, in order

  const XmpProperty* find(std::string_view ns, std::string_view name) const;
  std::optional<std::string> value(std::string_view ns, std::string_view name) const;
  bool declares(std::string_view ns) const;
};

Result<Xmp> parse_xmp(std::string_view packet);

// hdrgm properties -> model. Requires hdrgm:Version "1.0", GainMapMax and HDRCapacityMax.
Result<GainMapMetadata> hdrgm_from_xmp(const Xmp& xmp);

struct AppleXmp {
  std::optional<int64_t> version;       // HDRGainMapVersion (65536, 131072)
  std::optional<double> headroom;       // HDRGainMapHeadroom (linear ratio)
  std::string aux_type;                 // apdi:AuxiliaryImageType
};
AppleXmp apple_from_xmp(const Xmp& xmp);

// Primary-image packet: hdrgm:Version + GContainer directory (Primary, GainMap of
// `gainmap_length` bytes).
std::string primary_xmp(uint64_t gainmap_length);
// Gain-map packet with the hdrgm properties (attribute form when the channels agree, rdf:Seq
// otherwise). Unsupported when the metadata cannot be said in XMP (use_base_colour_space 0).
Result<std::string> gainmap_xmp(const GainMapMetadata& m);

// Merging into a packet that already exists (rewriting someone's file): properties in
// other namespaces survive (authoring data, Apple HDRGainMap/apdi, xmpNote:HasExtendedXMP);
// previous hdrgm and GContainer properties are replaced. An empty `existing` gives the
// fresh packet.
Result<std::string> merge_primary_xmp(std::string_view existing, uint64_t gainmap_length);
Result<std::string> merge_gainmap_xmp(std::string_view existing, const GainMapMetadata& m);
// The packet without any hdrgm / GContainer property (for images written without them).
std::string strip_gain_map_xmp(std::string_view existing);

// Shortest decimal text that reads back as the same double.
std::string format_double(double v);

}  // namespace regain
