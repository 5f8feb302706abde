// EXIF (TIFF-structured) parsing and allow-listed rebuilding. Input and output are the TIFF
// stream only (what follows "Exif\0\0" in a JPEG APP1, or the payload of a HEIF Exif item
// after its 4-byte header offset).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "regain/error.h"

namespace regain {

struct ExifInfo {
  bool big_endian = false;
  int orientation = 1;  // 1..8 (TIFF Orientation); 1 when absent or out of range
  bool has_gps = false;
  std::string make, model, software, date_time_original;
  // Apple MakerNote ("Apple iOS" header) tags 33 (0x21) and 48 (0x30), SRATIONAL or other
  // numeric types converted to double. Present only when found.
  std::optional<double> apple_maker33, apple_maker48;
  bool has_apple_makernote = false;
  int thumbnail_count = 0;  // IFD1 JPEG thumbnails (informational)
};

// Never reads outside `tiff`; loops in IFD chains and absurd counts give InvalidInput.
Result<ExifInfo> parse_exif(std::span<const uint8_t> tiff);

// Apple's documented MakerNote headroom formula (linear ratio >= 1). nullopt when neither tag
// is present. Missing single tag counts as 0.
std::optional<double> apple_headroom_from_makernote(const ExifInfo& info);

struct ExifRebuildOptions {
  bool keep_gps = false;
  std::optional<int> orientation;  // override (e.g. 1 after pixels were rotated)
  // Written as PixelXDimension/PixelYDimension when given (dimensions of the new image).
  std::optional<std::pair<uint32_t, uint32_t>> pixel_dimensions;
};

// A new TIFF stream holding only allow-listed tags (camera, lens, exposure, dates, author,
// copyright, orientation; GPS only on request). Drops MakerNote, thumbnails, unknown tags.
// Keeps the input's byte order.
Result<std::vector<uint8_t>> rebuild_exif(std::span<const uint8_t> tiff,
                                          const ExifRebuildOptions& opt = {});

// A minimal big-endian TIFF stream with just IFD0 Orientation.
std::vector<uint8_t> make_orientation_exif(int orientation);

}  // namespace regain
