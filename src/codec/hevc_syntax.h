// HEVC header syntax shared by the decoder and the encoder: the HEVCDecoderConfigurationRecord
// (hvcC, ISO/IEC 14496-15 8.3.3) and the parts of the SPS (H.265 7.3.2.2) the item layer
// needs: size for the allocation guard, formats, profile_tier_level for hvcC, VUI signal type.
// Parsing lives in hevc_decode.cpp, writing the record in hevc_encode.cpp.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "regain/codec.h"

namespace regain::hevc {

enum NalType : uint8_t { kVps = 32, kSps = 33, kPps = 34, kAud = 35, kPrefixSei = 39, kSuffixSei = 40 };

inline int nal_type(ByteView nal) { return nal.empty() ? -1 : (nal[0] >> 1) & 0x3f; }

struct Sps {
  // general_profile_space .. general_level_idc, exactly as coded (12 bytes = 96 bits).
  std::array<uint8_t, 12> general_ptl{};
  int max_sub_layers = 1;
  bool temporal_id_nesting = false;
  int chroma_format_idc = 1;
  bool separate_colour_planes = false;
  uint32_t width = 0, height = 0;  // pic_width/height_in_luma_samples (before cropping)
  int bit_depth_luma = 8, bit_depth_chroma = 8;
  // Filled only when the parser got as far as the VUI (vui_parsed).
  bool vui_parsed = false;
  bool signal_type_present = false, full_range = false;
  bool colour_description_present = false;
  uint8_t primaries = 2, transfer = 2, matrix = 2;
  uint32_t min_spatial_segmentation_idc = 0;
};

// `nal` is a whole SPS NAL unit (2-byte header included, emulation prevention still in).
// Errors only when the fields up to the bit depths are unreadable or out of range; later
// damage leaves vui_parsed false.
Result<Sps> parse_sps(ByteView nal);

struct Hvcc {
  int length_size = 4;           // NAL length prefix size in the item data: 1, 2 or 4
  std::vector<ByteView> nals;    // every NAL unit of every array, in record order
};
// Views point into `config`.
Result<Hvcc> parse_hvcc(ByteView config);

// hvcC payload from the encoder's parameter sets; lengthSizeMinusOne = 3.
Bytes build_hvcc(const Sps& sps, const std::vector<Bytes>& vps, const std::vector<Bytes>& sps_nals,
                 const std::vector<Bytes>& pps);

}  // namespace regain::hevc
