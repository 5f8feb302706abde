// Predictors: an SDR image in, a plausible gain map out (log2 gains at map resolution).
// One interface so a learned model can plug in beside the built-in heuristic.
#pragma once
#include "regain/export.h"
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "regain/color.h"
#include "regain/error.h"
#include "regain/image.h"

namespace regain {

struct PredictOptions {
  std::optional<double> boost;  // maximum headroom in stops; default chosen from the scene
  // Reference mode's fill: `boost` is the original's headroom, a ceiling for the prediction
  // rather than a level to scale it to (learned predictors keep their own level under it).
  bool boost_caps_only = false;
  int scale = 4;                // map = ceil(W/scale) x ceil(H/scale)
  Primaries primaries = Primaries::BT709;  // of the SDR pixels
  int orientation = 1;          // EXIF orientation of the SDR (learned models see it as displayed)
  int threads = 0;
  // A transparent edit's alpha (full size, stored orientation), after it was flattened onto a
  // background: scene-wide statistics skip the background, which is not part of the scene.
  const Image8* opacity = nullptr;
};

struct Prediction {
  ImageF log2_gain;   // 1 channel, map resolution, >= 0
  double boost = 0;   // the maximum headroom used, stops
  std::string boost_reason;  // how it was chosen (for the metadata JSON)
};

class REGAIN_API Predictor {
 public:
  virtual ~Predictor() = default;
  virtual std::string name() const = 0;
  // sdr: 8-bit sRGB-encoded RGB, stored orientation.
  virtual Result<Prediction> predict(const Image8& sdr, const PredictOptions& opt) const = 0;
};

// The built-in predictor: lifts light sources, speculars, sky and other bright regions,
// leaves skin, mid-tones and shadows alone, smooths edge-aware (guided filter).
REGAIN_API std::unique_ptr<Predictor> make_builtin_predictor();
// The default: the learned model built into the binary (regain/learned.h).
REGAIN_API std::unique_ptr<Predictor> make_default_predictor();

// Edge-aware smoothing (He et al. guided filter) of `p` guided by `guide`, both 1 channel
// and the same size; radius in pixels, eps on the guide's variance.
REGAIN_API ImageF guided_filter(const ImageF& guide, const ImageF& p, int radius, float eps);

}  // namespace regain
