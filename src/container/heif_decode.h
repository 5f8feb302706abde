// HEIF / AVIF image items to pixels: coded items and tiled grids decoded (tiles in
// parallel), converted from YCbCr with the item's nclx, cropped to ispe, and the item's
// transforms (clap, irot, imir, in association order) applied, so a picture comes out in
// displayed orientation. EXIF orientation is informational in HEIF and is not applied.
#pragma once
#include <optional>
#include <vector>

#include "container/heif_gainmap.h"

namespace regain {

struct HeifPicture {
  Image16 pixels;            // 3 channels (RGB) or 1 (monochrome), samples at bit_depth
  int bit_depth = 8;
  std::optional<Nclx> nclx;  // the item's colr nclx (for a grid: the grid's)
  std::vector<uint8_t> icc;
};

Result<HeifPicture> decode_heif_item(const HeifFile& hf, ByteView file, const HeifImageInfo& image,
                                     const Limits& limits = {}, int threads = 0);

// Samples narrowed (or kept) to 8 bits with rounding.
Image8 heif_to_8bit(const HeifPicture& p);

// Primaries of a decoded picture: nclx when it names a gamut we know, else its ICC.
Primaries heif_primaries(const HeifPicture& p);
// Transfer of a decoded picture from its nclx (sRGB when absent or unknown).
Transfer heif_transfer(const HeifPicture& p);

}  // namespace regain
