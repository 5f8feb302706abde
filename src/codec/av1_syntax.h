// AV1 low-overhead bitstream syntax shared by the decoder and the encoder: OBU framing
// (AV1 spec 5.3) and the sequence header OBU (5.5), plus the av1C record (AV1-ISOBMFF 2.3).
// Parsing lives in av1_decode.cpp, writing the record in av1_encode.cpp.
#pragma once
#include <cstdint>
#include <vector>

#include "regain/codec.h"

namespace regain::av1 {

enum ObuType : uint8_t {
  kSequenceHeader = 1,
  kTemporalDelimiter = 2,
  kFrameHeader = 3,
  kTileGroup = 4,
  kMetadata = 5,
  kFrame = 6,
  kPadding = 15,
};

struct Obu {
  int type = 0;
  ByteView whole;    // header + payload
  ByteView payload;
};

// Splits OBUs that carry obu_size; only the last may omit it (it then runs to the end).
Result<std::vector<Obu>> split_obus(ByteView data);

struct SequenceHeader {
  int profile = 0;
  bool still_picture = false, reduced_still_picture_header = false;
  int level_idx0 = 0, tier0 = 0;  // operating point 0
  uint32_t max_width = 0, max_height = 0;
  bool high_bitdepth = false, twelve_bit = false;
  int bit_depth = 8;
  bool mono = false;
  int ss_x = 1, ss_y = 1;
  int chroma_sample_position = 0;
  uint8_t primaries = 2, transfer = 2, matrix = 2;
  bool full_range = false;
};

// `payload` is the sequence header OBU's payload (after the OBU header and size).
Result<SequenceHeader> parse_sequence_header(ByteView payload);

// av1C payload: the 4 fixed bytes from `seq`, then `seq_header_obu` as configOBUs.
Bytes build_av1c(const SequenceHeader& seq, ByteView seq_header_obu);

}  // namespace regain::av1
