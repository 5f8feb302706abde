// 3D colour lookup tables in the .cube text format (Adobe Cube LUT Specification 1.0, also
// written by DaVinci Resolve). `regain master` uses one to derive the SDR base of a gain-map
// export from a graded HDR master when the colourist supplies their own look.
//
// Scope: a single 3D table (LUT_3D_SIZE 2..65) with an optional DOMAIN_MIN/DOMAIN_MAX (or
// Resolve's LUT_3D_INPUT_RANGE). 1D tables (LUT_1D_SIZE, alone or as a Resolve shaper in
// front of the 3D table) are refused as Unsupported rather than half-applied.
#pragma once
#include "regain/export.h"
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "regain/color.h"
#include "regain/error.h"
#include "regain/image.h"

namespace regain {

constexpr int kCubeMinSize = 2;
constexpr int kCubeMaxSize = 65;  // the largest size in common use; 65^3 entries = 3.3 MB
constexpr size_t kCubeMaxFileBytes = size_t(64) << 20;
constexpr size_t kCubeMaxLineBytes = 4096;

struct CubeLut {
  std::string title;
  int size = 0;  // N: the table holds N^3 RGB entries
  Vec3 domain_min{0.f, 0.f, 0.f};
  Vec3 domain_max{1.f, 1.f, 1.f};
  // N^3 RGB triples in file order: red varies fastest, then green, then blue, i.e. the
  // entry for lattice point (r, g, b) starts at 3 * ((b * N + g) * N + r).
  std::vector<float> table;

  const float* entry(int r, int g, int b) const {
    return table.data() + 3 * ((size_t(b) * size + g) * size + r);
  }
};

// Parses .cube text. Errors name the offending line ("line 12: ..."): NaN/inf or
// unparsable numbers, a wrong entry count, trailing tokens, keywords after the table,
// missing/oversized LUT_3D_SIZE, empty or inverted domains, binary data, over-long lines.
REGAIN_API Result<CubeLut> parse_cube_lut(std::string_view text);
// Reads and parses a file, refusing files over kCubeMaxFileBytes before parsing.
REGAIN_API Result<CubeLut> load_cube_lut(const std::filesystem::path& path);

// One RGB triple through the table. The input is normalised through the domain and clamped
// to it (NaN counts as the domain minimum). Tetrahedral interpolation is what the LUT is
// applied with; trilinear exists for comparison in tests.
REGAIN_API Vec3 lut_tetrahedral(const CubeLut& lut, Vec3 rgb);
REGAIN_API Vec3 lut_trilinear(const CubeLut& lut, Vec3 rgb);

// Applies the table in place to the first three channels of an RGB or RGBA float image
// (alpha untouched), rows split over `threads` (0 = all cores).
REGAIN_API void apply_cube_lut(const CubeLut& lut, ImageF& image, int threads = 0);

}  // namespace regain
