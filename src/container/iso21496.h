// ISO 21496-1 binary gain-map metadata (JPEG APP2 payload after the URN; HEIF tmap item data
// after its version byte).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "regain/gainmap.h"

namespace regain {

// Full GainMapMetadata structure (61 or 141 bytes).
Result<std::vector<uint8_t>> encode_iso21496(const GainMapMetadata& m);
// Accepts the standard layout and the legacy common-denominator layout (flag 0x08) that
// older libultrahdr wrote. Result is validated.
Result<GainMapMetadata> decode_iso21496(std::span<const uint8_t> data);

struct IsoVersion {
  uint16_t minimum_version = 0, writer_version = 0;
};
// The 4-byte version-only payload of the primary image.
Result<IsoVersion> decode_iso_version(std::span<const uint8_t> data);
inline std::vector<uint8_t> iso_version_payload() { return {0, 0, 0, 0}; }

}  // namespace regain
