// .cube 3D LUTs (Adobe/Resolve text) for `regain master --lut`: parse, then look up colours
// inside and outside the domain with both interpolations.
#include <cstdint>
#include <string_view>

#include "regain/lut.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto lut = regain::parse_cube_lut(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!lut) return 0;
  for (float v : {-1.f, 0.f, 0.37f, 1.f, 2.f}) {
    (void)regain::lut_tetrahedral(*lut, regain::Vec3{v, 1.f - v, v * 0.5f});
    (void)regain::lut_trilinear(*lut, regain::Vec3{v, v, v});
  }
  return 0;
}
