// Gain-map JPEGs: Ultra HDR (JPEG_R), Adobe/Photoshop/Camera Raw XMP files, ISO 21496-1
// JPEGs and Apple iPhone JPEGs. Reading locates the gain map through MPF (or the GContainer
// directory), never by scanning for the next SOI; writing emits both metadata flavours.
#pragma once
#include "regain/export.h"
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "regain/codec.h"
#include "regain/gainmap.h"

namespace regain {

struct JpegSegmentInfo {
  std::string marker;   // "APP1", "DQT", ...
  std::string kind;     // "EXIF", "XMP (hdrgm, GContainer)", "ISO 21496-1 (version)", "MPF", ...
  size_t offset = 0;    // file offset of the marker
  size_t size = 0;      // marker + length + payload
};

struct JpegPartInfo {
  size_t offset = 0, size = 0;  // SOI..EOI in the file
  int width = 0, height = 0, components = 0;
  std::vector<JpegSegmentInfo> segments;  // up to the first SOS
  bool xmp_hdrgm = false;         // hdrgm namespace / properties in XMP
  bool xmp_container = false;     // GContainer directory
  bool iso_version = false;       // 4-byte ISO APP2
  bool iso_full = false;          // full ISO APP2
  bool apple_xmp = false;         // HDRGainMap namespace
  bool exif = false, icc = false, mpf = false;
};

struct MpfEntryInfo {
  uint32_t attribute = 0, size = 0, offset = 0;
  size_t file_offset = 0;  // where the entry points, resolved against the MP Endian field
  bool valid = false;      // points at an SOI inside the file
};

enum class MetadataSource { None, Iso, Xmp, Apple };
REGAIN_API const char* metadata_source_name(MetadataSource s);

struct JpegrFile {
  JpegPartInfo primary;
  std::optional<JpegPartInfo> gain_map;
  std::vector<MpfEntryInfo> mpf_entries;
  std::optional<GainMapMetadata> metadata;  // the one that wins (ISO > XMP > Apple)
  MetadataSource source = MetadataSource::None;
  std::optional<GainMapMetadata> iso_metadata, xmp_metadata;  // each flavour as found
  std::optional<double> apple_headroom;       // linear, from XMP or MakerNote
  std::optional<int64_t> apple_version;
  std::optional<double> apple_maker33, apple_maker48;
  int orientation = 1;
  bool has_gps = false;
  std::vector<uint8_t> icc;                   // primary ICC
  std::vector<uint8_t> gain_map_icc;          // ICC inside the gain-map image, if any
  size_t trailing_bytes = 0;                  // non-padding bytes after the gain map
  std::vector<std::string> warnings;          // reasons a reader may ignore the gain map
  // The file announces or points at a gain map that is cut off or cannot be reached:
  // damaged input, as opposed to a photo without a gain map. `damage` says why.
  bool damaged = false;
  std::string damage;
  bool repair_would_help = false;
  // Views into the caller's buffer (valid while it lives).
  std::span<const uint8_t> primary_bytes, gain_map_bytes, exif_tiff;
};

// Plain JPEGs succeed with gain_map empty. Broken structure gives an error.
REGAIN_API Result<JpegrFile> read_jpegr(std::span<const uint8_t> file);

struct JpegrWriteOptions {
  bool write_xmp = true;  // Google/Adobe hdrgm + GContainer
  bool write_iso = true;  // ISO 21496-1
  // Replace the primary's ICC / EXIF (TIFF stream) when set; kept from the input otherwise.
  std::optional<std::vector<uint8_t>> icc;
  std::optional<std::vector<uint8_t>> exif;
  // Other XMP properties of the inputs (authoring data, Apple HDRGainMap, extended XMP) are
  // kept and our signalling merged in; false writes only our packets (privacy: XMP can
  // hold GPS too).
  bool keep_other_xmp = true;
  // ICC for the gain-map image: the colour space of the gain-map math when
  // use_base_colour_space is 0. Unset: an ICC already in the gain-map input is kept then.
  std::optional<std::vector<uint8_t>> gain_map_icc;
};

// The primary JPEG without gain-map signalling (MPF, ISO version, hdrgm/GContainer XMP):
// what to hand out as "the SDR image" so no reader looks for a gain map that is not there.
REGAIN_API Result<std::vector<uint8_t>> strip_gain_map_signalling(std::span<const uint8_t> primary_jpeg);

// A plain JPEG with EXIF (TIFF stream) and ICC segments put in after JFIF (either may be
// empty); any existing EXIF/ICC/XMP/MPF/ISO segments are dropped.
REGAIN_API Result<std::vector<uint8_t>> with_jpeg_metadata(std::span<const uint8_t> jpeg, std::span<const uint8_t> exif,
                                                std::span<const uint8_t> icc);

// Packs an already-encoded primary and gain-map JPEG into one JPEG_R file; the pixel data
// of both is copied unchanged. Old gain-map metadata and MPF in the inputs are dropped.
REGAIN_API Result<std::vector<uint8_t>> assemble_jpegr(std::span<const uint8_t> primary_jpeg,
                                            std::span<const uint8_t> gain_map_jpeg,
                                            const GainMapMetadata& meta,
                                            const JpegrWriteOptions& opt = {});

}  // namespace regain
