// Edits with transparent pixels (a removed background, a sticker, a cut-out from an AI tool).
// The SDR base of a gain-map file is opaque, so such an edit is flattened onto a background
// colour, as any "save as JPEG" does, and the gain map adds no HDR where the background shows:
// a flat white backdrop lit up as a highlight would glare on an HDR screen.
#pragma once

#include <array>
#include <cstdint>

#include "regain/image.h"

namespace regain {

// rgb = alpha * rgb + (1 - alpha) * background, per channel in the encoded (sRGB-style)
// values, as browsers composite an image over a page. `premultiplied`: rgb is already
// alpha * colour (TIFF associated alpha). Both images are the same size, alpha 1 channel.
void flatten_onto(Image8& rgb, const Image8& alpha, std::array<uint8_t, 3> background, bool premultiplied,
                  int threads);

// Share of pixels that are not fully opaque.
double transparent_share(const Image8& alpha);

// Scales each log2 gain by the mean alpha of the image pixels its map pixel covers: full gain
// where the edit is opaque, none on the background, in between along soft edges. `alpha` is
// the full-size plane in the same (stored) orientation as the map.
void fade_gain_by_alpha(ImageF& log2_gain, const Image8& alpha, int threads);

}  // namespace regain
