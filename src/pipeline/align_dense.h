// Dense refinement of an edited -> reference transform. Feature fits (ORB + RANSAC) place
// the edit to a fraction of a pixel at best and to a pixel or more after a non-integer
// resize; a full-resolution gain map warped that far off puts a bright pixel's gain on its
// dark neighbour at every edge. A photometric fit over all textured pixels fixes that.
#pragma once
#include <opencv2/core.hpp>

#include "regain/image.h"

namespace regain {

// `edited_to_ref`: 3x3 CV_64F, full-resolution pixel coordinates (centres at integers), both
// images in displayed orientation (a mirror is part of the transform). Refines an affine
// transform (or a homography when `homography`) by inverse-compositional Lucas-Kanade on
// locally normalised gray images (tonal edits do not bias it) with Huber weights (content
// edits do not either). Returns `edited_to_ref` unchanged when the fit does not lower the
// robust cost or wanders further than the feature fit could have been off.
cv::Mat refine_dense(const Image8& edited, const Image8& reference, const cv::Mat& edited_to_ref, bool homography);

}  // namespace regain
