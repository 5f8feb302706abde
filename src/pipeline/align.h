// Alignment of an edited photo to its original: which transform takes edited-image pixel
// coordinates to reference-image pixel coordinates (both in displayed orientation).
// Editors resize, crop, reframe, rotate by 90 degrees, mirror and shift; ORB features with
// a RANSAC fit recover all of these (a mirrored reference is tried as well).
#pragma once
#include <array>
#include <string>

#include "regain/error.h"
#include "regain/image.h"

namespace regain {

struct Alignment {
  bool trusted = false;
  std::array<double, 9> edited_to_ref{1, 0, 0, 0, 1, 0, 0, 0, 1};  // 3x3, row-major
  std::string model;     // "similarity" or "homography"
  bool mirrored = false;
  int matches = 0, inliers = 0;
  double scale = 1, rotation_deg = 0, reprojection_px = 0;  // in reference pixels
  std::string reason;    // why it is (not) trusted
};

// Both images 8-bit RGB, displayed orientation.
Result<Alignment> align_images(const Image8& edited, const Image8& reference);

}  // namespace regain
