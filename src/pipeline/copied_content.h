// Content moved within the photo. Clone stamps and patch-based object removal fill a hole
// with pixels copied from elsewhere in the same picture; the original's gain at the source
// is then the right gain for the hole (trees copied into the sky keep the trees' gain).
#pragma once
#include "regain/image.h"

namespace regain {

// All inputs at map resolution in the edited frame, one channel: `edited` and `reference`
// perceptual luminance (the reference warped into the edited frame), `changed` 1 where the
// content differs (before any growing). For each changed region whose content matches
// another place of the reference (normalised cross-correlation, then pixel by pixel), writes the source's
// gain into `gain` at the copied pixels and sets `found` there to 1; other pixels
// are left alone. Returns the number of regions found.
// `source`, when given (2 channels, same size), receives at each copied pixel the offset
// (dx, dy) from it to its source, so a caller working on a finer grid can copy the finer
// gain from the same place.
int find_copied_content(const ImageF& edited, const ImageF& reference, const ImageF& changed,
                        const ImageF& ref_gain, ImageF& gain, ImageF& found, ImageF* source = nullptr);

}  // namespace regain
