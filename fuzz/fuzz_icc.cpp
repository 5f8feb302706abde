// ICC profiles from users' files (JPEG APP2 chunks, HEIF colr prof, PNG iCCP, TIFF): the
// gamut identification, both lcms2 conversions the pipelines run on them, and the RGB
// profile made from a grayscale one (black-and-white edits) with the process's next step on it.
#include <cstdint>
#include <span>

#include "regain/icc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> icc(data, size);
  (void)regain::inspect_icc(icc);
  static const uint8_t px[12] = {0, 0, 0, 255, 255, 255, 200, 30, 40, 12, 180, 90};
  (void)regain::icc_to_linear(icc, px, regain::Primaries::BT709);
  (void)regain::icc_to_srgb8(icc, px, 1);
  if (auto rgb = regain::rgb_icc_from_gray(icc)) {
    (void)regain::inspect_icc(*rgb);
    (void)regain::icc_to_srgb8(*rgb, px, 1);
  }
  return 0;
}
