// Still images coded with video codecs, as HEIF and AVIF items carry them: HEVC (libde265
// decodes, x265 encodes) and AV1 (dav1d decodes, libaom encodes). Pixels travel as planar
// YCbCr; conversion to and from RGB follows the item's nclx matrix coefficients (ITU-T H.273).
// The HEIF/AVIF container layer (boxes, items, grids) sits above this and knows no codec API.
#pragma once
#include "regain/export.h"
#include <array>
#include <cstdint>

#include "regain/codec.h"

namespace regain {

enum class Chroma { Mono = 0, Yuv420 = 1, Yuv422 = 2, Yuv444 = 3 };

// Planar samples, right-aligned in 16-bit words whatever the bit depth (8, 10 or 12).
struct YuvImage {
  int width = 0, height = 0;  // luma size (odd sizes allowed; chroma rounds up)
  int bit_depth = 8;
  Chroma chroma = Chroma::Yuv420;
  bool full_range = true;
  std::array<Image16, 3> planes;  // 1 channel each: Y, Cb, Cr; Cb/Cr empty for Mono
};

// Checks that a YuvImage is self-consistent: size >= 1x1, bit depth 8..16, plane sizes as the
// chroma format implies (4:2:0/4:2:2 chroma rounds up), one channel per plane.
REGAIN_API Result<void> validate_yuv(const YuvImage& img);

// HEIF `colr` type nclx / AV1 colour config: H.273 code points.
struct Nclx {
  uint16_t primaries = 2, transfer = 2, matrix = 2;  // 2 = unspecified
  bool full_range = true;
};

// Decodes one coded item. `config` is the payload of the hvcC / av1C property (the bytes
// after the 8-byte box header); `data` the item's bytes (HEVC: NAL units with 4-byte length
// prefixes, or the size hvcC declares; AV1: OBUs). The result's size is the coded size, which
// may exceed `ispe` (the container crops). Errors for corrupt streams, never a crash.
REGAIN_API Result<YuvImage> decode_hevc_item(ByteView config, ByteView data, const Limits& limits = {});
REGAIN_API Result<YuvImage> decode_av1_item(ByteView config, ByteView data, const Limits& limits = {});

struct VideoEncodeOptions {
  int quality = 90;   // 0..100, comparable in spirit to JPEG quality; 100 = near lossless
  int threads = 0;    // 0 = library default
  int effort = 5;     // 0 fastest .. 9 slowest (mapped onto x265 presets / aom cpu-used)
  Nclx nclx;          // written into the bitstream's VUI / sequence header
};

// One coded still image ready to be an item: `config` is the hvcC / av1C payload (no box
// header), `data` the item bytes (HEVC: 4-byte length-prefixed NAL units without the
// parameter sets, which live in hvcC; AV1: sequence header + frame OBUs, no temporal
// delimiter).
struct CodedItem {
  Bytes config;
  Bytes data;
  // Coded picture size, what the decoder will return. AV1: the input size. HEVC pads by
  // repeating the last column / row where it must: to an even width (4:2:0, 4:2:2) and
  // height (4:2:0), and to at least 64x64 (x265 codes no picture smaller than a CTU). The
  // container then writes the input size (ispe) and crops.
  int width = 0, height = 0;
};
REGAIN_API Result<CodedItem> encode_hevc_item(const YuvImage& img, const VideoEncodeOptions& opt = {});
REGAIN_API Result<CodedItem> encode_av1_item(const YuvImage& img, const VideoEncodeOptions& opt = {});

// RGB (or gray, 1 channel) samples at `bit_depth` -> YCbCr with H.273 matrix `matrix`
// (0 identity/GBR, 1 BT.709, 5/6 BT.601, 9 BT.2020 NCL; 2 unspecified is treated as 6),
// chroma downsampled by averaging. A 1-channel input gives Mono.
REGAIN_API Result<YuvImage> rgb_to_yuv(const Image16& rgb, int bit_depth, Chroma chroma, uint16_t matrix,
                            bool full_range);
// Back to RGB at the image's bit depth (chroma upsampled bilinearly, centred siting);
// Mono gives 1 channel. Out-of-range results are clamped. Matrices yuv_matrix_supported()
// rejects are treated as BT.601; an inconsistent YuvImage (plane sizes) or running out of
// memory gives an empty image.
REGAIN_API Image16 yuv_to_rgb(const YuvImage& yuv, uint16_t matrix);

// Matrix coefficients rgb_to_yuv / yuv_to_rgb implement: 0, 1, 2 (as 6), 4, 5, 6, 7, 9.
REGAIN_API bool yuv_matrix_supported(uint16_t matrix);

}  // namespace regain
