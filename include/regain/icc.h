// ICC profiles through lcms2: the profiles we embed, and identifying an input's gamut.
#pragma once
#include "regain/export.h"
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
REGAIN_API std::vector<uint8_t> make_display_icc(Primaries p);
// An RGB profile (sRGB primaries, D65) whose three curves are a grayscale profile's tone
// response, sampled through lcms2 (TRC or LUT profiles alike): neutral RGB pixels tagged with
// it look as the gray pixels did with the gray profile. For black-and-white edits written
// with an RGB base.
REGAIN_API Result<std::vector<uint8_t>> rgb_icc_from_gray(std::span<const uint8_t> gray_icc);

struct IccInfo {
  std::string description;
  std::optional<Primaries> primaries;  // when its colorants match a known gamut
  bool matrix_shaper = false;
};
REGAIN_API Result<IccInfo> inspect_icc(std::span<const uint8_t> icc);

// Converts 8-bit RGB pixels in the profile's space to linear RGB in `target` primaries via
// lcms2 (for inputs whose ICC is not one we know).
REGAIN_API Result<std::vector<float>> icc_to_linear(std::span<const uint8_t> icc, std::span<const uint8_t> rgb8,
                                         Primaries target);

// Converts 8-bit RGB pixels in the profile's space to 8-bit sRGB (relative colorimetric) with
// one lcms2 8-bit transform (optimised to curves + a 3D table), rows split across `threads`
// (0 = all cores): the SDR preview of a Display-P3 12-MP photo in tens of milliseconds.
REGAIN_API Result<std::vector<uint8_t>> icc_to_srgb8(std::span<const uint8_t> icc, std::span<const uint8_t> rgb8, int threads = 0);
// (A trailing partial pixel, rgb8.size() not a multiple of 3, is left 0.) The same into a
// caller's buffer of exactly rgb8.size() bytes, a whole number of pixels (no second
// full-size copy); on error `out` is left as it was.
REGAIN_API Result<void> icc_to_srgb8(std::span<const uint8_t> icc, std::span<const uint8_t> rgb8,
                                     std::span<uint8_t> out, int threads = 0);

// ---- HDR (PQ) display profiles for `regain master` exports (src/color/icc_hdr.cpp) ----
//
// ICC.1 has no way to express luminance above the profile's media white, and its curves
// map into [0, 1]. Both profiles below therefore carry the same PQ TRC *relative to HDR
// Reference White* (203 cd/m2, ITU-R BT.2408): a 4096-entry curveType sampling the
// SMPTE ST 2084 EOTF divided by 203 cd/m2 and clipped at 1.0, so PQ 0.5807 -> 1.0, PQ 0.5
// (92 cd/m2) -> 0.454 and everything brighter than diffuse white -> 1.0. A reader that
// colour-manages by the TRC alone shows a correctly exposed SDR rendition with clipped
// highlights; normalising to 10000 cd/m2 instead would show the picture 5-7 stops too
// dark. HDR-aware readers are expected to ignore the TRC and use the PQ signal itself:
// from the `cicp` tag (profile a) or from the container's own CICP/nclx colour box.
//
//  (a) HdrP3D65St2084: ICC v4.3, description (mluc) "HDR_P3_D65_ST2084", Display P3
//      primaries, D65 white, the TRC above, plus a `cicp` tag (ICC.1:2022 / v4.4 tag,
//      values from ITU-T H.273): ColourPrimaries 12 (P3-D65), TransferCharacteristics 16
//      (PQ), MatrixCoefficients 0 (RGB), VideoFullRangeFlag 1.
//  (b) P3Pq: the compatibility profile for readers that do not know `cicp`. Same colorants
//      and the byte-identical TRC, no `cicp` tag, and a v2.4 structure (textDescription
//      "P3_PQ" instead of mluc) so that v2-only colour managers read it too.
// So the two differ in exactly: header version (4.3 vs 2.4), `desc`/`cprt` tag types (mluc
// vs textDescription/text) and text, and the `cicp` tag. Colorants, white, chad and TRC
// are identical.
//
// What readers do (as far as could be checked from public sources; not tested on Apple or
// Adobe software here):
//  * lcms2 treats `cicp` as informative and colour-manages by the TRC (mm2/Little-CMS#439),
//    as does every pre-ICC.1:2022 CMM: for them (a) and (b) render identically.
//  * Adobe Camera Raw's HDR exports carry the same kind of pair: a TRC that hard-clips at
//    SDR white plus a `cicp` tag naming the real transfer (reported in Little-CMS#439). Our
//    203 cd/m2 clip follows that convention. Adobe's older HDR_*_ST2084 profiles instead
//    emulate PQ with A2B0/B2A0 lookup tables assuming a 100 cd/m2 white (18 KB each; per
//    the libavif author in libvips/libvips#3912); we do not copy or imitate those.
//  * libjxl documents that a PQ TRC normalised to the signal's 10000 cd/m2 is shown 5-7
//    stops too dark by readers that ignore HDR signalling -- why we normalise to 203.
//  * Apple: no public statement found on whether ColorSync derives HDR from an ICC `cicp`
//    tag; Apple's HEIF path reads the container's nclx colour box. Treat (a) on Apple as
//    "correct SDR rendition at worst" until verified on a device.
// The ICC header version of (a) is 4.3 as specified for regain; `cicp` itself was
// introduced in ICC.1:2022 (v4.4). CMMs read tags regardless of the header version.
enum class HdrIccProfile { HdrP3D65St2084, P3Pq };
REGAIN_API std::vector<uint8_t> make_hdr_icc(HdrIccProfile which);

// The TRC's convention in one place: linear value relative to 203 cd/m2 (clipped to 1) for
// a PQ signal in [0, 1].
REGAIN_API float hdr_icc_trc(float pq_signal);

// ITU-T H.273 code points as stored in an ICC `cicp` tag.
struct IccCicp {
  uint8_t colour_primaries = 0;
  uint8_t transfer_characteristics = 0;
  uint8_t matrix_coefficients = 0;
  bool full_range = false;
};
struct IccTagInfo {
  std::string description;      // `desc`, either tag type
  double version = 0;           // e.g. 4.3, 2.4
  std::optional<IccCicp> cicp;  // present only when the profile has a `cicp` tag
};
// Reads the description, version and `cicp` tag of any ICC profile (for tests and inspect).
REGAIN_API Result<IccTagInfo> read_icc_tags(std::span<const uint8_t> icc);

}  // namespace regain
