// Validation and weight rules of the ISO 21496-1 model.
#include <algorithm>
#include <cmath>
#include <string>

#include "regain/gainmap.h"

namespace regain {

namespace {
Result<void> bad(const std::string& field, const std::string& why) {
  return fail(ErrorCode::InvalidInput, "gain-map metadata: " + field + " " + why);
}
constexpr const char* kChannelNames[3] = {"red", "green", "blue"};
}  // namespace

Result<void> validate(const GainMapMetadata& m) {
  if (m.writer_version < m.minimum_version)
    return bad("writer_version", "is below minimum_version");
  if (!std::isfinite(m.base_headroom) || m.base_headroom < 0)
    return bad("base_hdr_headroom", "must be a finite value >= 0 (got " + std::to_string(m.base_headroom) + ")");
  if (!std::isfinite(m.alternate_headroom) || m.alternate_headroom < 0)
    return bad("alternate_hdr_headroom", "must be a finite value >= 0 (got " +
                                             std::to_string(m.alternate_headroom) + ")");
  if (m.base_headroom == m.alternate_headroom)
    return bad("alternate_hdr_headroom", "equals base_hdr_headroom: the map would never apply");
  if (m.base_headroom > 30 || m.alternate_headroom > 30)
    return bad("hdr_headroom", "is above 30 stops");
  for (int c = 0; c < m.channel_count(); ++c) {
    const auto& ch = m.channel[c];
    std::string p = std::string(m.multichannel ? kChannelNames[c] : "all") + " channels ";
    if (m.multichannel) p = std::string(kChannelNames[c]) + " ";
    auto finite = [](double v) { return std::isfinite(v); };
    if (!finite(ch.min) || !finite(ch.max)) return bad(p + "gain_map_min/max", "is not finite");
    if (ch.max < ch.min) return bad(p + "gain_map_max", "is below gain_map_min");
    if (std::fabs(ch.min) > 32 || std::fabs(ch.max) > 32)
      return bad(p + "gain_map_min/max", "is beyond +-32 stops");
    if (!finite(ch.gamma) || ch.gamma <= 0) return bad(p + "gamma", "must be > 0");
    if (!finite(ch.base_offset) || !finite(ch.alternate_offset))
      return bad(p + "offset", "is not finite");
    // Any offset ISO 21496-1's signed 32-bit fractions can carry (Photoshop writes 10.3);
    // (x + offset) * 2^32 stays far inside float range.
    if (std::fabs(ch.base_offset) > kMaxGainMapOffset || std::fabs(ch.alternate_offset) > kMaxGainMapOffset)
      return bad(p + "offset", "is beyond +-2^31 - 1");
  }
  return {};
}

GainMapMetadata apple_metadata(double headroom_linear) {
  GainMapMetadata m;
  double stops = std::log2(std::max(headroom_linear, 1.0));
  m.curve = GainCurve::AppleLinear;
  m.base_headroom = 0;
  m.alternate_headroom = std::max(stops, 1e-3);
  for (auto& ch : m.channel) ch = {0.0, stops, 1.0, 0.0, 0.0};
  return m;
}

double gain_map_weight(const GainMapMetadata& m, double display_headroom) {
  double span = m.alternate_headroom - m.base_headroom;
  if (span == 0 || std::isnan(display_headroom)) return 0;
  double f = std::clamp((display_headroom - m.base_headroom) / span, 0.0, 1.0);
  return span > 0 ? f : -f;
}

}  // namespace regain
