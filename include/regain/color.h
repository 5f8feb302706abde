// Colour science: transfer functions, primaries, gamut conversion, luminance.
#pragma once
#include "regain/export.h"
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace regain {

enum class Transfer { Linear, SRGB, BT709, Gamma22, PQ, HLG };
enum class Primaries { BT709, DisplayP3, BT2020 };

using Mat3 = std::array<float, 9>;  // row-major
using Vec3 = std::array<float, 3>;

REGAIN_API std::string_view transfer_name(Transfer t);
REGAIN_API std::string_view primaries_name(Primaries p);
REGAIN_API std::optional<Transfer> parse_transfer(std::string_view s);
REGAIN_API std::optional<Primaries> parse_primaries(std::string_view s);

// Signal <-> linear. SDR curves map [0,1] <-> [0,1]. PQ maps to absolute cd/m2 / 10000,
// HLG to scene light in [0,1] (no OOTF; see hlg_ootf).
REGAIN_API float srgb_to_linear(float v);
REGAIN_API float linear_to_srgb(float l);
REGAIN_API float bt709_to_linear(float v);   // inverse BT.709 OETF (Apple gain maps)
REGAIN_API float linear_to_bt709(float l);
REGAIN_API float gamma22_to_linear(float v);
REGAIN_API float linear_to_gamma22(float l);
REGAIN_API float pq_to_linear(float v);      // EOTF, result 1.0 = 10000 cd/m2
REGAIN_API float linear_to_pq(float l);      // inverse EOTF
REGAIN_API float hlg_to_linear(float v);     // inverse OETF, scene light [0,1]
REGAIN_API float linear_to_hlg(float l);     // OETF
REGAIN_API float to_linear(Transfer t, float v);
REGAIN_API float from_linear(Transfer t, float l);

// BT.2100 HLG OOTF on an RGB triple (scene light -> display light relative to peak) with
// system gamma for the given peak luminance, and its inverse.
REGAIN_API Vec3 hlg_ootf(Vec3 rgb, float peak_nits = 1000.f);
REGAIN_API Vec3 hlg_inverse_ootf(Vec3 rgb, float peak_nits = 1000.f);

constexpr float kSdrWhiteNits = 203.f;
constexpr float kPqMaxNits = 10000.f;
constexpr float kHlgPeakNits = 1000.f;

// ITU-T H.273 code points (PNG cICP, HEIF/AVIF nclx, ICC cicp) <-> ours; nullopt for code
// points we do not model. Transfer 1/6/14/15 are the BT.709 curve family.
REGAIN_API std::optional<Transfer> transfer_from_cicp(uint16_t code);
REGAIN_API std::optional<Primaries> primaries_from_cicp(uint16_t code);
REGAIN_API uint16_t cicp_code(Primaries p);

// Primaries. chromaticities() gives R,G,B,W xy in that order.
REGAIN_API std::array<float, 8> chromaticities(Primaries p);
REGAIN_API Mat3 rgb_to_xyz(Primaries p);
REGAIN_API Vec3 luminance_weights(Primaries p);
REGAIN_API Mat3 gamut_matrix(Primaries from, Primaries to);  // linear RGB -> linear RGB
// Identify a gamut from xy chromaticities (R,G,B,W), tolerance 0.005.
REGAIN_API std::optional<Primaries> identify_primaries(const std::array<float, 8>& xy);

inline Vec3 mul(const Mat3& m, Vec3 v) {
  return {m[0] * v[0] + m[1] * v[1] + m[2] * v[2], m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
          m[6] * v[0] + m[7] * v[1] + m[8] * v[2]};
}
REGAIN_API Mat3 mul(const Mat3& a, const Mat3& b);
REGAIN_API Mat3 inverse(const Mat3& m);
REGAIN_API bool is_identity(const Mat3& m, float eps = 1e-6f);

// Lookup tables for the hot paths: 8-bit and 16-bit code -> linear.
REGAIN_API const std::array<float, 256>& srgb8_to_linear_lut();
REGAIN_API const std::array<float, 65536>& to_linear_lut16(Transfer t);

}  // namespace regain
