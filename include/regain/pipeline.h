// Whole-file operations built from the lower layers; the CLI and the service call these.
#pragma once
#include "regain/export.h"
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "regain/codec.h"
#include "regain/gainmap.h"
#include "regain/jpegr.h"

namespace regain {

// ---- encode ------------------------------------------------------------------------------
struct EncodeOptions {
  ComputeOptions gain;            // scale, channels, offsets, min/max
  int base_quality = 95;
  int map_quality = 90;
  JpegrWriteOptions container;    // flavours, ICC, EXIF
  int threads = 0;
};

// SDR pixels (8-bit sRGB-encoded RGB, primaries in opt.gain.primaries) + linear HDR of the
// same size -> JPEG_R. The base JPEG is encoded while the map is computed.
REGAIN_API Result<std::vector<uint8_t>> encode_jpegr(const Image8& sdr, const ImageF& hdr, const EncodeOptions& opt = {});
// Same, but the SDR is an existing JPEG carried without re-encoding.
REGAIN_API Result<std::vector<uint8_t>> encode_jpegr_from_jpeg(std::span<const uint8_t> sdr_jpeg, const ImageF& hdr,
                                                    const EncodeOptions& opt = {});
// Package an existing 8-bit gain map (1 or 3 channels) with metadata.
REGAIN_API Result<std::vector<uint8_t>> package_jpegr(std::span<const uint8_t> sdr_jpeg, const Image8& gain_map,
                                           const GainMapMetadata& meta, const EncodeOptions& opt = {});

// ---- decode ------------------------------------------------------------------------------
struct DecodeOptions {
  std::optional<double> headroom;  // log2 display headroom; default: full alternate headroom
  bool apply_orientation = true;   // output in displayed orientation
  Limits limits;
  int threads = 0;
};
struct DecodedHdr {
  ImageF rgb;                      // linear, 1.0 = SDR white
  Primaries primaries = Primaries::BT709;
  double headroom = 0;             // log2 headroom rendered
  GainMapMetadata meta;
  MetadataSource source = MetadataSource::None;
};
// HDR rendition of a gain-map JPEG. NotFound when the file has no usable gain map.
REGAIN_API Result<DecodedHdr> decode_jpegr_hdr(std::span<const uint8_t> file, const DecodeOptions& opt = {});
// The SDR base, 8-bit RGB, optionally oriented for display.
REGAIN_API Result<Image8> decode_jpegr_sdr(std::span<const uint8_t> file, const DecodeOptions& opt = {});
// HEIC / AVIF with a gain map (ISO `tmap`, Apple or Samsung auxiliary image): the same two
// renditions. HEIF transforms (irot/imir/clap) always apply: the output is as displayed.
REGAIN_API Result<DecodedHdr> decode_heif_hdr(std::span<const uint8_t> file, const DecodeOptions& opt = {});
REGAIN_API Result<Image8> decode_heif_sdr(std::span<const uint8_t> file, const DecodeOptions& opt = {});
// Either container, chosen from the file's bytes.
REGAIN_API Result<DecodedHdr> decode_gainmap_hdr(std::span<const uint8_t> file, const DecodeOptions& opt = {});
REGAIN_API Result<Image8> decode_gainmap_sdr(std::span<const uint8_t> file, const DecodeOptions& opt = {});
// Primaries of a JPEG from its ICC profile (BT.709 when absent or unknown).
REGAIN_API Primaries jpeg_primaries(std::span<const uint8_t> icc);

// ---- repair ------------------------------------------------------------------------------
struct RepairResult {
  std::vector<uint8_t> bytes;
  std::vector<std::string> fixes;  // what was changed, for the user
};
// Rewrites container and metadata so every reader finds the gain map; pixels untouched.
REGAIN_API Result<RepairResult> repair_jpegr(std::span<const uint8_t> file);
// HEIC/AVIF whose gain map only Apple/Samsung-aware readers find (no ISO tmap): adds the tmap
// item, every tile and property carried over unchanged.
REGAIN_API Result<RepairResult> repair_heif(std::span<const uint8_t> file);

}  // namespace regain
