// CIPA DC-007 Multi-Picture Format index (APP2 "MPF\0"). Offsets are relative to the MP
// Endian field, i.e. the APP2 marker's file offset + 8.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "regain/error.h"

namespace regain {

struct MpfEntry {
  uint32_t attribute = 0;
  uint32_t size = 0;
  uint32_t offset = 0;  // relative to the MP Endian field; 0 for the first image
  uint16_t dependent1 = 0, dependent2 = 0;
};

struct MpfIndex {
  bool big_endian = true;
  uint32_t number_of_images = 0;
  std::vector<MpfEntry> entries;
};

// `payload` is the APP2 payload after "MPF\0".
Result<MpfIndex> parse_mpf(std::span<const uint8_t> payload);

// Full APP2 payload ("MPF\0" included) for a primary + one gain map, big-endian.
std::vector<uint8_t> build_mpf(uint32_t primary_size, uint32_t gainmap_size, uint32_t gainmap_offset);
// Size of build_mpf's output (constant for two images).
constexpr size_t kMpfPayloadSize = 4 + 8 + 2 + 3 * 12 + 4 + 2 * 16;

}  // namespace regain
