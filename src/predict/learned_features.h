// Inputs of the learned predictor: per-pixel features of a small "work" image (long side
// ~256 px, displayed orientation) that the per-pixel network maps to a log2 gain.
//
// Why these: a camera's gain map is, to first order, the inverse of its local tone mapping.
// SDR rendering compresses large-scale luminance contrast, so the gain a pixel needs depends
// on its own lightness and colour, on the lightness of its neighbourhood at several scales
// (blurred log luminance = the "local adaptation" the tone mapper used), on how close it is
// to clipping, on where it sits in the frame (sky is at the top), and on the whole scene
// (percentiles of luminance decide the headroom a camera grants). The scene-wide values are
// the model's global branch: identical for every pixel of an image, they let the network
// choose per scene.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "regain/color.h"
#include "regain/image.h"

namespace regain::learned {

inline constexpr int kFeatureVersion = 1;
inline constexpr int kFeatureCount = 31;

// Linear RGB + clipped share, planar, at work resolution.
struct WorkImage {
  int width = 0, height = 0;
  std::vector<float> r, g, b, clip;
  std::vector<float> opacity;  // 0..1 per pixel when the image had transparency; empty: opaque
  size_t size() const { return size_t(width) * height; }
};

// Work size for a W x H image: long side at most `long_side` (never upscaled).
std::pair<int, int> work_size(int W, int H, int long_side);
// Area average in linear light of an 8-bit sRGB-encoded RGB image to w x h: 4 channels,
// linear R, G, B and the share of source pixels with a channel >= 250 (clipped).
ImageF average_rgbc(const Image8& sdr, int w, int h, int threads);
// Area average of a float image (any channel count) to w x h.
ImageF average_float(const ImageF& src, int w, int h);
// A 4-channel average (stored orientation) -> planar work image as displayed.
WorkImage to_work(const ImageF& rgbc, int orientation);
// Both steps: what training uses on its (already displayed) images.
WorkImage downsample_to_work(const Image8& sdr, int long_side, int orientation, int threads);

struct FeatureImage {
  int width = 0, height = 0;
  std::vector<float> x;     // width*height rows of kFeatureCount values (unnormalised)
  std::vector<uint8_t> lit; // 1 where SDR luminance > 0.5 % of SDR white (what is scored)
};

FeatureImage compute_features(const WorkImage& img, Primaries primaries);

// Box filter of radius r (clamp at the borders), in place, w x h plane.
void box_plane(std::vector<float>& plane, int w, int h, int r);
// Separable Gaussian (three box passes, clamp at the borders), in place, w x h plane.
void blur_plane(std::vector<float>& plane, int w, int h, float sigma);

}  // namespace regain::learned
