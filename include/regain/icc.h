// ICC profiles through lcms2: the profiles we embed, and identifying an input's gamut.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "regain/color.h"
#include "regain/error.h"

namespace regain {

// A v4 matrix/shaper display profile with the sRGB tone curve and the given primaries
// ("sRGB" for BT.709, "Display P3" for P3, "BT.2020 (sRGB TRC)" for BT.2020).
std::vector<uint8_t> make_display_icc(Primaries p);

struct IccInfo {
  std::string description;
  std::optional<Primaries> primaries;  // when its colorants match a known gamut
  bool matrix_shaper = false;
};
Result<IccInfo> inspect_icc(std::span<const uint8_t> icc);

// Converts 8-bit RGB pixels in the profile's space to linear RGB in `target` primaries via
// lcms2 (for inputs whose ICC is not one we know).
Result<std::vector<float>> icc_to_linear(std::span<const uint8_t> icc, std::span<const uint8_t> rgb8,
                                         Primaries target);

}  // namespace regain
