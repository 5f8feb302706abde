// What gain the original gives each colour: a table from the edited image's sRGB colour to
// the original's mean log2 gain over the pixels Reference mode kept. Content an editor adds
// (patches copied from elsewhere in the photo, inpainting that continues the surroundings,
// a recoloured shirt) takes the gain this photo's own grade gave such colours, which a
// scene-agnostic predictor cannot know (a night shot lifts its dark sky, a daylight one
// does not).
#pragma once
#include <array>
#include <optional>
#include <vector>

#include "regain/image.h"

namespace regain {

class ColourGainTable {
 public:
  // rgb: 3-channel sRGB-encoded values in [0,1] (map resolution); log2_gain and known: one
  // channel, same size; only pixels with known > 0.5 are learned from.
  ColourGainTable(const ImageF& rgb, const ImageF& log2_gain, const ImageF& known);
  // Mean gain of the finest bin (16, 8 or 4 levels per channel) holding enough pixels;
  // nothing when the colour was never seen.
  std::optional<float> lookup(const float* rgb) const;

 private:
  struct Level {
    int n;
    std::vector<double> sum;
    std::vector<uint32_t> count;
  };
  std::array<Level, 3> levels_;
  static size_t bin(const Level& l, const float* rgb);
};

}  // namespace regain
