// Primaries, RGB<->XYZ matrices derived from chromaticities, and gamut conversion.
#include <cmath>

#include "regain/color.h"

namespace regain {

std::array<float, 8> chromaticities(Primaries p) {
  switch (p) {
    case Primaries::BT709: return {0.640f, 0.330f, 0.300f, 0.600f, 0.150f, 0.060f, 0.3127f, 0.3290f};
    case Primaries::DisplayP3: return {0.680f, 0.320f, 0.265f, 0.690f, 0.150f, 0.060f, 0.3127f, 0.3290f};
    case Primaries::BT2020: return {0.708f, 0.292f, 0.170f, 0.797f, 0.131f, 0.046f, 0.3127f, 0.3290f};
  }
  return {};
}

std::string_view primaries_name(Primaries p) {
  switch (p) {
    case Primaries::BT709: return "bt709";
    case Primaries::DisplayP3: return "p3";
    case Primaries::BT2020: return "bt2020";
  }
  return "?";
}
std::optional<Primaries> parse_primaries(std::string_view s) {
  if (s == "bt709" || s == "srgb") return Primaries::BT709;
  if (s == "p3" || s == "displayp3" || s == "display-p3") return Primaries::DisplayP3;
  if (s == "bt2020" || s == "rec2020" || s == "bt2100") return Primaries::BT2020;
  return std::nullopt;
}

Mat3 mul(const Mat3& a, const Mat3& b) {
  Mat3 r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      r[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
  return r;
}

Mat3 inverse(const Mat3& m) {
  // Computed in double: the matrices are well conditioned but float cofactors lose digits.
  double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7], i = m[8];
  double A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  double det = a * A + b * B + c * C;
  double s = 1.0 / det;
  return {float(A * s), float(-(b * i - c * h) * s), float((b * f - c * e) * s),
          float(B * s), float((a * i - c * g) * s),  float(-(a * f - c * d) * s),
          float(C * s), float(-(a * h - b * g) * s), float((a * e - b * d) * s)};
}

bool is_identity(const Mat3& m, float eps) {
  for (int i = 0; i < 9; ++i)
    if (std::fabs(m[i] - ((i % 4 == 0) ? 1.f : 0.f)) > eps) return false;
  return true;
}

Mat3 rgb_to_xyz(Primaries p) {
  auto c = chromaticities(p);
  auto xyz = [](float x, float y) { return Vec3{x / y, 1.f, (1.f - x - y) / y}; };
  Vec3 r = xyz(c[0], c[1]), g = xyz(c[2], c[3]), b = xyz(c[4], c[5]), w = xyz(c[6], c[7]);
  Mat3 m = {r[0], g[0], b[0], r[1], g[1], b[1], r[2], g[2], b[2]};
  Vec3 s = mul(inverse(m), w);
  return {m[0] * s[0], m[1] * s[1], m[2] * s[2], m[3] * s[0], m[4] * s[1],
          m[5] * s[2], m[6] * s[0], m[7] * s[1], m[8] * s[2]};
}

Vec3 luminance_weights(Primaries p) {
  Mat3 m = rgb_to_xyz(p);
  return {m[3], m[4], m[5]};
}

Mat3 gamut_matrix(Primaries from, Primaries to) {
  if (from == to) return {1, 0, 0, 0, 1, 0, 0, 0, 1};
  return mul(inverse(rgb_to_xyz(to)), rgb_to_xyz(from));
}

std::optional<Primaries> identify_primaries(const std::array<float, 8>& xy) {
  for (Primaries p : {Primaries::BT709, Primaries::DisplayP3, Primaries::BT2020}) {
    auto ref = chromaticities(p);
    bool match = true;
    for (int i = 0; i < 8; ++i) match = match && std::fabs(ref[i] - xy[i]) < 0.005f;
    if (match) return p;
  }
  return std::nullopt;
}

std::optional<Transfer> transfer_from_cicp(uint16_t code) {
  switch (code) {
    case 16: return Transfer::PQ;
    case 18: return Transfer::HLG;
    case 8: return Transfer::Linear;
    case 13: return Transfer::SRGB;
    case 1: case 6: case 14: case 15: return Transfer::BT709;
    default: return std::nullopt;
  }
}

std::optional<Primaries> primaries_from_cicp(uint16_t code) {
  switch (code) {
    case 1: return Primaries::BT709;
    case 12: return Primaries::DisplayP3;
    case 9: return Primaries::BT2020;
    default: return std::nullopt;
  }
}

uint16_t cicp_code(Primaries p) {
  switch (p) {
    case Primaries::BT709: return 1;
    case Primaries::DisplayP3: return 12;
    case Primaries::BT2020: return 9;
  }
  return 2;
}

}  // namespace regain
