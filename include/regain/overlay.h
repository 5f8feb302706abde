// "Where HDR is added", for SDR screens: on an SDR display the HDR file and the SDR edit look
// the same, so the gain map is shown as a heat overlay on a dimmed grey copy of the picture
// (purple-orange-yellow from 0 to kOverlayFullStops stops of added light, on one absolute
// scale for every file so that two results compare; no colour where the map adds nothing).
// Used by `process --previews`, the service page and the demo.
#pragma once
#include "regain/export.h"
#include "regain/gainmap.h"
#include "regain/image.h"

namespace regain {

inline constexpr float kOverlayFullStops = 3.f;
// sdr: 8-bit RGB; map: 8-bit gain-map codes (1 or 3 channels) read through `meta` (min, max,
// gamma; the brightest channel counts), any size (resampled bilinearly), same orientation.
// Output: sdr's size. Rows on `threads` cores (0 = all).
REGAIN_API Image8 gain_overlay(const Image8& sdr, const Image8& map, const GainMapMetadata& meta, int threads = 0);

}  // namespace regain
