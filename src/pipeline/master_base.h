// Internal pieces of `regain master` (src/pipeline/master*.cpp): SDR base from a LUT,
// labels in PQ code values, and the gain map with "no gain" under the label.
#pragma once
#include <optional>
#include <string_view>

#include "regain/gainmap.h"
#include "regain/label.h"
#include "regain/lut.h"
#include "regain/master.h"

namespace regain {

// The LUT applied to the master's PQ signal (P3-D65); its output codes become the base.
Image8 lut_base(const ImageF& master_p3, const CubeLut& lut, int threads = 0);

// Burns `text` into PQ code values at `bits`: the label's SDR light at 203 cd/m2 white.
Result<LabelRect> paint_label_pq(Image16& pq, std::string_view text, int bits);

// Map pixels [x0, x1) x [y0, y1) that influence any image pixel of `r` when a reader
// upsamples the map (bilinear, plus one pixel of margin).
struct MapRange {
  int x0 = 0, x1 = 0, y0 = 0, y1 = 0;
};
MapRange map_pixels_under(const LabelRect& r, int image_w, int image_h, int map_w, int map_h);

// HDR linear over SDR linear (both in `primaries`), luminance map; gains forced to exactly 0
// over map_pixels_under(no_gain); range = the map's exact min/max with 0 on a code.
Result<ComputedGainMap> master_gain_map(const Image8& base, const ImageF& hdr, Primaries primaries, int scale,
                                        const std::optional<LabelRect>& no_gain, int threads = 0);

}  // namespace regain
