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

// The original, decoded: what Reference mode needs of it, whatever its format.
struct RefRenditions {
  Image8 sdr8;      // for alignment, displayed orientation
  ImageF sdr_lin;   // linear SDR luminance (gain-map references)
  ImageF hdr_lum;   // linear HDR luminance, 1.0 = SDR white (HDR-only references)
  // Gain (HDR over SDR luminance, linear) at the original's full resolution (gain-map
  // references). Warping the ratio itself keeps it exact wherever the edit samples whole
  // pixels, and between pixels it averages gains linearly: a log-domain average would
  // under-state a highlight's gain at its edge (a dim rim round every highlight), 0.9 dB
  // PU21 on a resized full-resolution map (acr17, `regain eval`).
  ImageF gain;
  bool hdr_only = false;
  double headroom = 0;
  double pixels_per_map_pixel = 2;  // the original's gain-map density (HDR-only: 2)
};

// Decodes the original (gain-map JPEG/HEIC/AVIF or an HDR float image). Independent of the
// edit, so a caller can run it while the edit decodes.
Result<RefRenditions> load_reference(std::span<const uint8_t> bytes, const Limits& limits);

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

// edited: 8-bit RGB in stored orientation with its EXIF orientation; ref: the decoded
// original (consumed: its planes are released as soon as they are used).
// `cancel` (optional) is checked between stages; when set the call fails with "cancelled".
Result<ReferenceOutcome> reference_gain(const Image8& edited, int orientation, Primaries primaries, RefRenditions ref,
                                        const Predictor& predictor, const PredictOptions& popt,
                                        const std::atomic<bool>* cancel = nullptr);

}  // namespace regain
