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
  Image8 pixels8;            // instead of `pixels` when asked for 8 bits (narrowed, rounded)
  int bit_depth = 8;
  std::optional<Nclx> nclx;  // the item's colr nclx (for a grid: the grid's)
  std::vector<uint8_t> icc;
};

// eight_bit: fill pixels8 instead (grid tiles narrowed as they are placed: a 200-MP photo
// never exists at 16 bits).
Result<HeifPicture> decode_heif_item(const HeifFile& hf, ByteView file, const HeifImageInfo& image,
                                     const Limits& limits = {}, int threads = 0, bool eight_bit = false);

// Samples narrowed (or kept) to 8 bits with rounding (pixels8 when that is what was decoded).
Image8 heif_to_8bit(const HeifPicture& p);
// The same, moving pixels8 out when present and freeing the 16-bit samples.
Image8 take_8bit(HeifPicture&& p);

// Primaries of a decoded picture: nclx when it names a gamut we know, else its ICC.
Primaries heif_primaries(const HeifPicture& p);
// Transfer of a decoded picture from its nclx (sRGB when absent or unknown).
Transfer heif_transfer(const HeifPicture& p);
// PQ, HLG or linear: an HDR signal (known from the item's nclx before decoding).
bool is_hdr_transfer(const std::optional<Nclx>& nclx);

}  // namespace regain
