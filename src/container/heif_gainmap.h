// What a HEIC / AVIF file holds for the product: its primary image, the gain map in any of
// its three carriages, and the metadata that goes with it. Mirrors JpegrFile (regain/jpegr.h):
// the winning metadata plus each flavour as found, Apple headroom, EXIF orientation,
// warnings and a `damaged` flag.
//
// Gain-map carriages (often the same item in one file):
//  (a) ISO 21496-1 in HEIF: a derived item of type 'tmap' whose 'dimg' inputs are
//      [base (= primary), gain map]; its item data is a version byte (0) + GainMapMetadata.
//      Its own colr/pixi/clli describe the alternate (HDR) rendition.
//  (b) Apple: an auxiliary image ('auxl' -> primary) whose auxC type is
//      urn:com:apple:photo:2020:aux:hdrgainmap; headroom from its XMP (HDRGainMapHeadroom,
//      linear) or else the primary's EXIF MakerNote.
//  (c) Samsung: an auxiliary image with auxC urn:com:samsung:photo:2024:aux:hdrgainmap
//      (Samsung files also carry a tmap, which gives the metadata).
// Metadata precedence: ISO tmap > Apple > none.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "container/heif_structure.h"
#include "regain/gainmap.h"
#include "regain/jpegr.h"  // MetadataSource

namespace regain {

inline constexpr std::string_view kAppleGainMapAux = "urn:com:apple:photo:2020:aux:hdrgainmap";
inline constexpr std::string_view kSamsungGainMapAux = "urn:com:samsung:photo:2024:aux:hdrgainmap";

enum class HeifKind { Unknown, Heic, Avif };
const char* heif_kind_name(HeifKind k);

// One displayable image item (coded, or a grid of coded tiles) as the pixel layer needs it.
struct HeifImageInfo {
  uint32_t item_id = 0;
  uint32_t type = 0;        // item type: 'hvc1', 'av01' or 'grid'
  uint32_t coded_type = 0;  // codec of the pixels: `type`, or the grid's tile type
  bool hidden = false;
  uint32_t width = 0, height = 0;                  // ispe (for a grid: its output size)
  uint32_t display_width = 0, display_height = 0;  // after clap and irot
  int bit_depth = 0;  // pixi (first channel), else the codec configuration; 0 = unknown
  int channels = 0;   // pixi channel count, else codec config (monochrome 1, else 3); 0 = unknown
  std::optional<Nclx> nclx;   // colr nclx
  std::vector<uint8_t> icc;   // colr rICC/prof (both colr kinds may be present)
  // Transforms, in the order they apply (ipma association order): 'clap', 'irot', 'imir'.
  std::vector<uint32_t> transform_order;
  int rotation_ccw = 0;                // irot in degrees anticlockwise: 0, 90, 180, 270
  std::optional<uint8_t> mirror_axis;  // imir axis (0: top<->bottom, 1: left<->right; see Imir)
  std::optional<heif::Clap> clap;      // only when it describes a valid crop
  // The EXIF orientation (1..8) that irot/imir amount to (clap aside), so that callers can
  // reuse apply_orientation(): 6 for an iPhone's irot angle 3 (90 degrees clockwise).
  int exif_orientation = 1;
  std::optional<heif::GridLayout> grid;
  std::vector<uint8_t> codec_config;   // hvcC / av1C payload of the item or of its first tile
};

struct HeifFile {
  // ftyp
  std::string major_brand;
  std::vector<std::string> compatible_brands;
  HeifKind kind = HeifKind::Unknown;  // from the primary's codec, else the brands

  HeifImageInfo primary;

  // The gain-map image, whichever carriage named it; empty when there is none or it cannot
  // be used (see warnings / damaged).
  std::optional<HeifImageInfo> gain_map;
  std::optional<GainMapMetadata> metadata;  // the one that wins (ISO > hdrgm XMP > Apple); set iff usable
  MetadataSource source = MetadataSource::None;

  // (a) ISO tmap
  std::optional<uint32_t> tmap_item;        // a tmap item with inputs [primary, gain map]
  std::optional<GainMapMetadata> iso_metadata;
  bool tmap_brand = false;                  // ftyp lists 'tmap' (libavif ignores tmap otherwise)
  bool altr_group = false;                  // an 'altr' group lists the tmap before the primary
  std::optional<heif::Ispe> tmap_size;      // tmap ispe (iPhones give the displayed size)
  std::optional<Nclx> alternate_nclx;       // tmap colr nclx: the HDR rendition's colour space
  std::vector<uint8_t> alternate_icc;       // tmap colr ICC
  std::optional<heif::Pixi> alternate_pixi; // bit depth / channels hint for the HDR rendition
  std::optional<heif::Clli> alternate_clli;

  // hdrgm XMP describing the gain-map item (or else the primary): Samsung S24-era files
  std::optional<GainMapMetadata> xmp_metadata;
  // The aux gain map had no irot/imir of its own and took the primary's (it is stored in the
  // primary's coded orientation).
  bool gain_map_orientation_inherited = false;

  // (b) Apple, (c) Samsung auxiliary gain maps
  std::optional<uint32_t> apple_aux_item, samsung_aux_item;
  std::optional<int64_t> apple_version;  // HDRGainMap:HDRGainMapVersion of the aux image's XMP
  std::optional<double> apple_headroom;  // linear, from XMP or else the MakerNote
  std::optional<double> apple_maker33, apple_maker48;
  std::vector<std::pair<uint32_t, std::string>> aux_images;  // every aux image of the primary: id, auxC type
  // The primary's alpha plane (auxC "urn:mpeg:hevc:2015:auxid:1" or
  // "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"), when present and decodable; premultiplied
  // when the primary has a 'prem' reference to it.
  std::optional<HeifImageInfo> alpha;
  bool alpha_premultiplied = false;

  // Metadata items
  std::optional<uint32_t> exif_item;   // 'Exif' item describing (cdsc) the primary
  std::vector<uint8_t> exif_tiff;      // its TIFF stream (after the 4-byte offset header); owned
  // EXIF Orientation of the Exif item. Informational: HEIF readers display by irot/imir
  // (primary.exif_orientation); a disagreement is warned about.
  int orientation = 1;
  bool has_gps = false;
  std::vector<uint32_t> xmp_items;     // every 'mime' item of type application/rdf+xml
  std::string primary_xmp;             // the XMP packet describing the primary, if any
  std::string gain_map_xmp;            // the XMP packet describing the gain-map item, if any

  std::vector<std::string> warnings;   // includes the structure parser's warnings
  // The file announces a gain map whose data is cut off or cannot be reached (damaged
  // input, as opposed to a photo without a gain map). `damage` says why.
  bool damaged = false;
  std::string damage;

  heif::HeifStructure structure;  // the full item model (inspect, pixel assembly)
};

// Reads the structure and locates primary, gain map and metadata. Files without a gain map
// succeed with gain_map empty. Errors: broken structure, no usable primary image (missing,
// unsupported type, its data past the end of the file, over `limits`).
Result<HeifFile> read_heif(ByteView file, const Limits& limits = {});

// A clean aperture as a whole-pixel rectangle of a w x h image; false when it is not one.
struct ClapRect {
  uint32_t x = 0, y = 0, width = 0, height = 0;
};
bool clap_rect(const heif::Clap& c, uint32_t w, uint32_t h, ClapRect& out);

// The displayable description of one image item (used for primary and gain map; public so
// that the pixel layer can describe other items, e.g. thumbnails). `warnings` collects
// non-fatal remarks.
Result<HeifImageInfo> describe_heif_image(const heif::HeifStructure& s, ByteView file, uint32_t item_id,
                                          const Limits& limits, std::vector<std::string>& warnings);

}  // namespace regain
