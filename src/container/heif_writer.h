// HEIF / AVIF file assembly from already-coded items: the box layout only. Pixel coding
// happens before (codec layer), so the same writer serves HEIC (hvc1) and AVIF (av01), plain
// HDR images and gain-map files.
//
// A gain-map file is laid out the way current readers look for it:
//   - ISO 21496-1: a `tmap` derived item, `dimg` -> [base, gain map], in an `altr` group
//     [tmap, base] (preferred first), brand `tmap`, with the alternate rendition's `colr`,
//     `pixi` and `ispe` (= base size) on the tmap item; `pitm` stays on the base so readers
//     without tmap support show the SDR image.
//   - Apple (HEIC, optional): the same gain-map item is also an auxiliary image of the base
//     (`auxl`, `auxC` urn:com:apple:photo:2020:aux:hdrgainmap) with an HDRGainMap XMP item,
//     which is how iOS 14-17 and older macOS find it.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "container/heif_structure.h"
#include "regain/gainmap.h"
#include "regain/video.h"

namespace regain {

// One image: a single coded item, or a grid of equally sized tiles (row-major) cropped to
// width x height.
struct HeifImageItem {
  std::string coding = "hvc1";  // "hvc1" or "av01"
  Bytes config;                 // hvcC / av1C payload shared by every tile
  std::vector<Bytes> tiles;     // 1 entry: single item
  uint32_t columns = 1, rows = 1;
  uint32_t tile_width = 0, tile_height = 0;  // coded tile size (single item: = width/height)
  uint32_t width = 0, height = 0;            // the image (grid output size)
  int bit_depth = 8;
  int channels = 3;             // pixi: 3 colour, 1 gray
  std::optional<Nclx> nclx;
  std::vector<uint8_t> icc;     // colr prof, written in addition to nclx when present
  int rotation_ccw = 0;         // irot (0, 90, 180, 270): the pixels are stored turned back
};

struct HeifWriteInput {
  bool avif = false;            // brands avif/av01 vs heic/hvc1
  HeifImageItem base;
  std::optional<HeifImageItem> gain_map;
  std::optional<GainMapMetadata> metadata;  // required with gain_map
  // The alternate (HDR) rendition's colour description, put on the tmap item.
  std::optional<Nclx> alternate_nclx;
  std::vector<uint8_t> alternate_icc;
  int alternate_bit_depth = 10;
  std::optional<std::pair<uint16_t, uint16_t>> alternate_clli;  // max CLL, max FALL (cd/m2)
  // The ISO 21496-1 tmap item (Samsung's S24-era files have none: hdrgm XMP instead).
  bool write_tmap = true;
  // Declare the gain map as an Apple auxiliary image too (HEIC only); samsung_aux uses
  // Samsung's auxC type instead (test fixtures shaped like Galaxy S24 files).
  bool apple_aux = true;
  bool samsung_aux = false;
  std::string gain_map_xmp;        // an XMP packet describing (cdsc) the gain-map item (empty: none)
  std::vector<uint8_t> exif;       // TIFF stream (the item gets the 4-byte offset prefix)
  std::string xmp;                 // primary XMP packet
  std::optional<std::pair<uint16_t, uint16_t>> clli;  // for plain HDR images
};

// The whole file: ftyp, meta, mdat. Deterministic: the same input gives the same bytes.
Result<Bytes> write_heif(const HeifWriteInput& in);

// An existing file re-laid out with an ISO 21496-1 `tmap` item added (dimg -> [primary,
// gain map], an `altr` group [tmap, primary], brand `tmap`): every item's bytes, every
// property box and every reference are carried over unchanged (no tile is re-encoded; item
// names are not kept), for readers that only know `tmap` (Samsung S24-era and Apple-only
// files). `alternate` describes the HDR rendition on the tmap item.
struct TmapAddition {
  uint32_t gain_map_item = 0;
  GainMapMetadata metadata;
  Nclx alternate;
  uint32_t width = 0, height = 0;  // the tmap's ispe: the primary's coded size
  // The gain map is stored in the primary's coded orientation without transforms of its own
  // (Samsung): give it the primary's irot/imir, as tmap readers take each input's own.
  bool gain_map_takes_primary_transforms = false;
};
Result<Bytes> add_tmap_item(const heif::HeifStructure& s, ByteView file, const TmapAddition& t);

// Apple's gain-map XMP (HDRGainMapVersion 131072 + HDRGainMapHeadroom, a linear ratio).
std::string apple_gain_map_xmp(double headroom_linear);

}  // namespace regain
