// HEIF / AVIF still-image structure (ISO/IEC 23008-12, MIAF, AVIF): the top-level `meta`
// box read into a model of items, item properties, item references and entity groups, plus
// reading item data (iloc extents in the file or in `idat`) and `grid` layouts.
//
// Scope: only the file-level `meta` box (the image items). Tracks in `moov` (image
// sequences, live photos, AVIS animations) are not modelled: their presence is noted in
// `has_moov` and otherwise ignored. Nothing here decodes pixels.
//
// The model owns its strings and small property payloads (codec configs, ICC profiles), so
// it stays valid after the file buffer goes away; item data is read on demand from the
// buffer the caller passes again.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "container/isobmff.h"
#include "regain/codec.h"
#include "regain/error.h"
#include "regain/image.h"
#include "regain/video.h"

namespace regain::heif {

using isobmff::fourcc;
using isobmff::fourcc_name;

// Bounds on hostile counts (each is far above what cameras write: iPhones use ~80 items).
inline constexpr size_t kMaxItems = 4096;
inline constexpr size_t kMaxProperties = 1024;
inline constexpr size_t kMaxAssociationsPerItem = 255;  // association_count is a u8
inline constexpr size_t kMaxReferencesPerBox = 65536;
inline constexpr size_t kMaxReferencesTotal = 1 << 20;
inline constexpr size_t kMaxExtentsPerItem = 65535;     // extent_count is a u16
inline constexpr size_t kMaxExtentsTotal = 1 << 20;
inline constexpr size_t kMaxGroups = 4096;
inline constexpr size_t kMaxEntitiesPerGroup = 65536;
inline constexpr size_t kMaxStringBytes = 65536;        // item names, content types, aux types
inline constexpr size_t kMaxWarnings = 100;             // hostile files could yield millions

// ---- item properties (children of ipco) ----------------------------------------------------
struct CodecConfig {  // 'hvcC' / 'av1C': the bytes after the box header, as decoders want them
  std::vector<uint8_t> bytes;
};
struct Ispe {  // image spatial extents: the coded (reconstructed) size before transforms
  uint32_t width = 0, height = 0;
};
struct Pixi {  // bits per channel; the channel count is bits.size()
  std::vector<uint8_t> bits;
};
struct Colr {  // one 'colr' box; an item may carry an nclx and an ICC one side by side
  uint32_t colour_type = 0;  // 'nclx', 'rICC' or 'prof' (others kept with no payload)
  std::optional<Nclx> nclx;
  std::vector<uint8_t> icc;  // rICC / prof
};
struct Irot {  // rotation by angle * 90 degrees anticlockwise
  uint8_t angle = 0;  // 0..3
};
// Mirroring. ISO/IEC 23008-12:2017 said "axis specifies a vertical (axis = 0) or horizontal
// (axis = 1) axis", which writers read both ways; the 2022 edition settled it the way
// iPhones, libheif and libavif >= 1.0 implement it: axis 0 exchanges top and bottom (EXIF
// orientation 4), axis 1 exchanges left and right (EXIF orientation 2). We follow 2022.
struct Imir {
  uint8_t axis = 0;
  bool flips_top_bottom() const { return axis == 0; }
};
struct Clap {  // clean aperture: a centred crop given as fractions
  uint32_t width_n = 0, width_d = 1, height_n = 0, height_d = 1;
  int32_t horiz_off_n = 0;
  uint32_t horiz_off_d = 1;
  int32_t vert_off_n = 0;
  uint32_t vert_off_d = 1;
};
struct AuxC {  // auxiliary image type, e.g. "urn:com:apple:photo:2020:aux:hdrgainmap"
  std::string aux_type;
  std::vector<uint8_t> subtype;
};
struct Clli {  // content light level (cd/m2)
  uint16_t max_content_light_level = 0, max_pic_average_light_level = 0;
};
struct Lsel {  // layer selection
  uint16_t layer_id = 0;
};
struct OtherProperty {};  // a type we keep only by name (pasp, mdcv, a1op, ...)
struct BadProperty {      // a known type whose payload did not decode; treated as absent
  std::string error;
};
using PropertyValue =
    std::variant<OtherProperty, BadProperty, CodecConfig, Ispe, Pixi, Colr, Irot, Imir, Clap, AuxC, Clli, Lsel>;

struct Property {
  uint32_t type = 0;
  uint64_t offset = 0, size = 0;  // the box in the file
  PropertyValue value;
};

// Decodes one property box (any child of ipco). Never fails: undecodable payloads of known
// types become BadProperty with the reason.
Property decode_property(const isobmff::Box& box);

// ---- items ---------------------------------------------------------------------------------
struct Extent {
  uint64_t index = 0;  // extent_index (only meaningful for construction method 2)
  uint64_t offset = 0;
  uint64_t length = 0;  // 0 = to the end of the file / idat
};
struct ItemLocation {
  uint8_t construction_method = 0;   // 0 file offset, 1 idat offset, 2 item offset
  uint16_t data_reference_index = 0; // 0 = this file
  uint64_t base_offset = 0;
  std::vector<Extent> extents;
};

struct PropertyAssociation {
  uint16_t index = 0;  // 0-based into HeifStructure::properties (ipma stores it 1-based)
  bool essential = false;
};

struct Item {
  uint32_t id = 0;
  uint32_t type = 0;  // item_type ('hvc1', 'av01', 'grid', 'tmap', 'Exif', 'mime', ...); 0 for infe v0/v1
  uint8_t infe_version = 2;
  uint16_t protection_index = 0;
  bool hidden = false;  // infe flags bit 0
  std::string name;
  std::string content_type, content_encoding;  // 'mime' items
  std::string uri_type;                        // 'uri ' items
  std::optional<ItemLocation> location;        // from iloc; derived items without data have none
  std::vector<PropertyAssociation> properties; // in ipma order, which is the transform order
};

// One SingleItemTypeReferenceBox of 'iref'.
struct Reference {
  uint32_t type = 0;  // 'dimg', 'auxl', 'cdsc', 'thmb', 'prem', 'base', ...
  uint32_t from = 0;
  std::vector<uint32_t> to;
};

// One EntityToGroupBox of 'grpl' (e.g. 'altr': alternatives, preferred first).
struct EntityGroup {
  uint32_t type = 0;
  uint8_t version = 0;
  uint32_t flags = 0;
  uint32_t group_id = 0;
  std::vector<uint32_t> entity_ids;
};

struct TopLevelBox {
  uint32_t type = 0;
  uint64_t offset = 0, size = 0;
  bool truncated = false;
};

struct FileRange {
  uint64_t offset = 0, size = 0;
};

struct HeifStructure {
  // ftyp
  bool has_ftyp = false;
  uint32_t major_brand = 0, minor_version = 0;
  std::vector<uint32_t> compatible_brands;
  bool has_brand(uint32_t brand) const;  // major or compatible

  // meta
  std::optional<uint32_t> primary_item;  // pitm
  std::vector<Item> items;               // iinf order
  std::vector<Property> properties;      // ipco order
  std::vector<Reference> references;     // iref order
  std::vector<EntityGroup> groups;       // grpl order
  std::optional<FileRange> idat;         // the payload of meta's idat, in file offsets

  // file level
  std::vector<TopLevelBox> boxes;
  bool has_moov = false;   // tracks present (ignored: still images only)
  bool truncated = false;  // a top-level box runs past the end of the file
  uint64_t file_size = 0;
  std::vector<std::string> warnings;  // tolerated oddities (dangling harmless references, ...)
  void warn(std::string w);           // appends, up to kMaxWarnings (then one "more" line)

  const Item* item(uint32_t id) const;
  // The first property of alternative T associated with the item (BadProperty ones skipped).
  template <class T>
  const T* property(uint32_t item_id) const {
    const Item* it = item(item_id);
    if (!it) return nullptr;
    for (const auto& a : it->properties)
      if (a.index < properties.size())
        if (const T* v = std::get_if<T>(&properties[a.index].value)) return v;
    return nullptr;
  }
  // Every property of alternative T associated with the item, in association order.
  template <class T>
  std::vector<const T*> properties_of(uint32_t item_id) const {
    std::vector<const T*> out;
    if (const Item* it = item(item_id))
      for (const auto& a : it->properties)
        if (a.index < properties.size())
          if (const T* v = std::get_if<T>(&properties[a.index].value)) out.push_back(v);
    return out;
  }
  // to_item_IDs of the first reference of `type` from `from` (empty when there is none).
  std::vector<uint32_t> references_from(uint32_t from, uint32_t type) const;
  // Items that hold a reference of `type` to `to`, in iref order.
  std::vector<uint32_t> referencing(uint32_t to, uint32_t type) const;

  // Built by the parser: item id -> index in `items`; (from << 32 | type) -> index of the
  // first reference box of that type from that item (lookups stay O(1) on hostile files).
  std::unordered_map<uint32_t, size_t> item_index;
  std::unordered_map<uint64_t, size_t> reference_index;
};

// Parses the file's box structure and its top-level `meta`. Errors for anything that makes
// the item model unreliable (no meta, bad box sizes, counts over the limits, duplicate item
// ids, dimg loops, property indices out of range); harmless oddities become warnings.
// A file cut short after its `meta` still parses (`truncated` is set).
Result<HeifStructure> parse_heif_structure(ByteView file);

// ---- item data -----------------------------------------------------------------------------
// The item's bytes as file ranges, in order (idat extents resolved to the file offsets of
// the idat payload). Every extent is checked to lie inside the file / idat; extent_length 0
// means "to the end". Unsupported for construction method 2 and external data references.
Result<std::vector<FileRange>> item_ranges(const HeifStructure& s, uint32_t item_id);

// Concatenated item data, at most `max_bytes` (TooLarge beyond).
Result<std::vector<uint8_t>> read_item_data(const HeifStructure& s, ByteView file, uint32_t item_id,
                                            uint64_t max_bytes);
// The same without copying when the data is one contiguous range (a view into `file`);
// Unsupported when it is split into several ranges (use read_item_data then).
Result<ByteView> item_data_view(const HeifStructure& s, ByteView file, uint32_t item_id);

// ---- grid ----------------------------------------------------------------------------------
struct GridLayout {
  uint32_t rows = 0, columns = 0;
  uint32_t output_width = 0, output_height = 0;  // the mosaic is cropped to this (right/bottom)
  uint32_t tile_width = 0, tile_height = 0;      // every tile's ispe
  uint32_t tile_type = 0;                        // item type shared by all tiles
  std::vector<uint32_t> tiles;                   // item ids, row-major (the dimg order)
};

// Reads and validates a 'grid' item: version 0, rows*columns == number of dimg inputs,
// existing coded tiles of one type with equal ispe, output covered by the tiles and within
// `limits`. Tiles that are cropped away entirely give a warning in `warnings` (MIAF forbids
// them; decoding still works).
Result<GridLayout> read_grid(const HeifStructure& s, ByteView file, uint32_t grid_item_id, const Limits& limits,
                             std::vector<std::string>* warnings = nullptr);

}  // namespace regain::heif
