// Reference mode: the original HDR photo's gain, aligned to the edited photo, where the
// content is unchanged; predicted gain where the edit changed content or reframed past the
// original; feathered seams.
#pragma once
#include <atomic>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "regain/predict.h"

namespace regain {

struct ReferenceOutcome {
  bool used = false;              // false: fell back to Predictive mode (see warnings)
  ImageF log2_gain;               // map resolution, the edited image's stored orientation
  nlohmann::json alignment;       // transform found (null when none)
  double edited_share = 0;        // map pixels whose content differs from the original
  double outside_share = 0;       // map pixels the original does not cover
  int copied_regions = 0;         // edited regions whose content was copied from elsewhere
  double reference_headroom = 0;  // stops, of the original
  int map_scale = 4;              // edited pixels per map pixel
  std::vector<std::string> warnings;
};

// edited: 8-bit RGB in stored orientation with its EXIF orientation; reference: file bytes.
// `cancel` (optional) is checked between stages; when set the call fails with "cancelled".
Result<ReferenceOutcome> reference_gain(const Image8& edited, int orientation, Primaries primaries,
                                        std::span<const uint8_t> reference, const Predictor& predictor,
                                        const PredictOptions& popt, const Limits& limits,
                                        const std::atomic<bool>* cancel = nullptr);

}  // namespace regain
