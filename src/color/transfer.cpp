// Transfer functions (IEC 61966-2-1 sRGB, BT.709, gamma 2.2, SMPTE ST 2084 PQ, BT.2100 HLG).
#include <algorithm>
#include <cmath>
#include <memory>

#include "regain/color.h"

namespace regain {

namespace {
constexpr float kPqM1 = 2610.f / 16384.f;
constexpr float kPqM2 = 2523.f / 4096.f * 128.f;
constexpr float kPqC1 = 3424.f / 4096.f;
constexpr float kPqC2 = 2413.f / 4096.f * 32.f;
constexpr float kPqC3 = 2392.f / 4096.f * 32.f;
constexpr float kHlgA = 0.17883277f;
constexpr float kHlgB = 0.28466892f;
constexpr float kHlgC = 0.55991073f;
}  // namespace

float srgb_to_linear(float v) {
  v = std::clamp(v, 0.f, 1.f);
  return v <= 0.04045f ? v / 12.92f : std::pow((v + 0.055f) / 1.055f, 2.4f);
}
float linear_to_srgb(float l) {
  l = std::clamp(l, 0.f, 1.f);
  return l <= 0.0031308f ? 12.92f * l : 1.055f * std::pow(l, 1.f / 2.4f) - 0.055f;
}
float bt709_to_linear(float v) {
  v = std::clamp(v, 0.f, 1.f);
  return v < 0.081f ? v / 4.5f : std::pow((v + 0.099f) / 1.099f, 1.f / 0.45f);
}
float linear_to_bt709(float l) {
  l = std::clamp(l, 0.f, 1.f);
  return l < 0.018f ? 4.5f * l : 1.099f * std::pow(l, 0.45f) - 0.099f;
}
float gamma22_to_linear(float v) { return std::pow(std::clamp(v, 0.f, 1.f), 2.2f); }
float linear_to_gamma22(float l) { return std::pow(std::clamp(l, 0.f, 1.f), 1.f / 2.2f); }

float pq_to_linear(float v) {
  v = std::clamp(v, 0.f, 1.f);
  float p = std::pow(v, 1.f / kPqM2);
  float num = std::max(p - kPqC1, 0.f);
  float den = kPqC2 - kPqC3 * p;
  return std::pow(num / den, 1.f / kPqM1);
}
float linear_to_pq(float l) {
  l = std::clamp(l, 0.f, 1.f);
  float y = std::pow(l, kPqM1);
  return std::pow((kPqC1 + kPqC2 * y) / (1.f + kPqC3 * y), kPqM2);
}
float hlg_to_linear(float v) {
  v = std::clamp(v, 0.f, 1.f);
  return v <= 0.5f ? v * v / 3.f : (std::exp((v - kHlgC) / kHlgA) + kHlgB) / 12.f;
}
float linear_to_hlg(float l) {
  l = std::clamp(l, 0.f, 1.f);
  return l <= 1.f / 12.f ? std::sqrt(3.f * l) : kHlgA * std::log(12.f * l - kHlgB) + kHlgC;
}

float to_linear(Transfer t, float v) {
  switch (t) {
    case Transfer::Linear: return v;
    case Transfer::SRGB: return srgb_to_linear(v);
    case Transfer::BT709: return bt709_to_linear(v);
    case Transfer::Gamma22: return gamma22_to_linear(v);
    case Transfer::PQ: return pq_to_linear(v);
    case Transfer::HLG: return hlg_to_linear(v);
  }
  return v;
}
float from_linear(Transfer t, float l) {
  switch (t) {
    case Transfer::Linear: return l;
    case Transfer::SRGB: return linear_to_srgb(l);
    case Transfer::BT709: return linear_to_bt709(l);
    case Transfer::Gamma22: return linear_to_gamma22(l);
    case Transfer::PQ: return linear_to_pq(l);
    case Transfer::HLG: return linear_to_hlg(l);
  }
  return l;
}

// BT.2100: F_D = Y_S^(gamma-1) * E_S, normalised to the display peak (1.0 = peak).
static float hlg_system_gamma(float peak_nits) {
  return 1.2f + 0.42f * std::log10(peak_nits / 1000.f);
}
Vec3 hlg_ootf(Vec3 rgb, float peak_nits) {
  float g = hlg_system_gamma(peak_nits);
  float ys = 0.2627f * rgb[0] + 0.6780f * rgb[1] + 0.0593f * rgb[2];
  if (ys <= 0.f) return {0.f, 0.f, 0.f};
  float k = std::pow(ys, g - 1.f);
  return {rgb[0] * k, rgb[1] * k, rgb[2] * k};
}
Vec3 hlg_inverse_ootf(Vec3 rgb, float peak_nits) {
  float g = hlg_system_gamma(peak_nits);
  float yd = 0.2627f * rgb[0] + 0.6780f * rgb[1] + 0.0593f * rgb[2];
  if (yd <= 0.f) return {0.f, 0.f, 0.f};
  float k = std::pow(yd, (1.f - g) / g);
  return {rgb[0] * k, rgb[1] * k, rgb[2] * k};
}

std::string_view transfer_name(Transfer t) {
  switch (t) {
    case Transfer::Linear: return "linear";
    case Transfer::SRGB: return "srgb";
    case Transfer::BT709: return "bt709";
    case Transfer::Gamma22: return "gamma22";
    case Transfer::PQ: return "pq";
    case Transfer::HLG: return "hlg";
  }
  return "?";
}
std::optional<Transfer> parse_transfer(std::string_view s) {
  for (Transfer t : {Transfer::Linear, Transfer::SRGB, Transfer::BT709, Transfer::Gamma22,
                     Transfer::PQ, Transfer::HLG})
    if (transfer_name(t) == s) return t;
  return std::nullopt;
}

const std::array<float, 256>& srgb8_to_linear_lut() {
  static const std::array<float, 256> lut = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) t[i] = srgb_to_linear(i / 255.f);
    return t;
  }();
  return lut;
}

const std::array<float, 65536>& to_linear_lut16(Transfer tf) {
  // One table per transfer, built on first use (thread-safe static init).
  auto build = [](Transfer t) {
    auto lut = std::make_unique<std::array<float, 65536>>();
    for (int i = 0; i < 65536; ++i) (*lut)[i] = to_linear(t, i / 65535.f);
    return lut;
  };
  static const auto linear = build(Transfer::Linear);
  static const auto srgb = build(Transfer::SRGB);
  static const auto bt709 = build(Transfer::BT709);
  static const auto g22 = build(Transfer::Gamma22);
  static const auto pq = build(Transfer::PQ);
  static const auto hlg = build(Transfer::HLG);
  switch (tf) {
    case Transfer::Linear: return *linear;
    case Transfer::SRGB: return *srgb;
    case Transfer::BT709: return *bt709;
    case Transfer::Gamma22: return *g22;
    case Transfer::PQ: return *pq;
    case Transfer::HLG: return *hlg;
  }
  return *linear;
}

}  // namespace regain
