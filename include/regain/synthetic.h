// Deterministic synthetic HDR scenes (sky gradient, sun, speculars, shadows, colour patches)
// for the demo, tests and benchmarks: the project generates its own fixtures.
#pragma once
#include "regain/export.h"
#include "regain/image.h"

namespace regain {

enum class SceneKind { Sunset, Interior, Night };

// Linear BT.709 RGB, 1.0 = SDR white; peaks reach ~16x (4 stops) in the sun and speculars.
REGAIN_API ImageF synthetic_hdr_scene(int width, int height, SceneKind kind = SceneKind::Sunset);
// A simple global tone map of such a scene to 8-bit sRGB (what a phone's SDR base holds).
REGAIN_API Image8 tone_map_to_sdr(const ImageF& hdr);

}  // namespace regain
