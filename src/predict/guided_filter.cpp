// Guided filter (K. He, J. Sun, X. Tang, "Guided Image Filtering", 2010): a local linear
// model q = a*I + b per window, so edges of the guide I survive the smoothing of p.
// Box means via separable running sums: O(1) per pixel whatever the radius.
#include <algorithm>
#include <vector>

#include "regain/predict.h"

namespace regain {

namespace {

// Mean over the (2r+1)^2 window clipped to the image.
ImageF box_mean(const ImageF& in, int r) {
  const int W = in.width(), H = in.height();
  ImageF tmp(W, H, 1), out(W, H, 1);
  for (int y = 0; y < H; ++y) {
    const float* s = in.row(y);
    float* d = tmp.row(y);
    double acc = 0;
    for (int x = 0; x <= std::min(r, W - 1); ++x) acc += s[x];
    for (int x = 0; x < W; ++x) {
      const int lo = std::max(0, x - r), hi = std::min(W - 1, x + r);
      d[x] = float(acc / (hi - lo + 1));
      if (x + r + 1 < W) acc += s[x + r + 1];
      if (x - r >= 0) acc -= s[x - r];
    }
  }
  std::vector<double> acc(W, 0.0);
  for (int y = 0; y <= std::min(r, H - 1); ++y)
    for (int x = 0; x < W; ++x) acc[x] += tmp.at(x, y);
  for (int y = 0; y < H; ++y) {
    const int lo = std::max(0, y - r), hi = std::min(H - 1, y + r);
    float* d = out.row(y);
    for (int x = 0; x < W; ++x) d[x] = float(acc[x] / (hi - lo + 1));
    if (y + r + 1 < H)
      for (int x = 0; x < W; ++x) acc[x] += tmp.at(x, y + r + 1);
    if (y - r >= 0)
      for (int x = 0; x < W; ++x) acc[x] -= tmp.at(x, y - r);
  }
  return out;
}

ImageF product(const ImageF& a, const ImageF& b) {
  ImageF out(a.width(), a.height(), 1);
  for (size_t i = 0; i < a.size(); ++i) out.data()[i] = a.data()[i] * b.data()[i];
  return out;
}

}  // namespace

ImageF guided_filter(const ImageF& I, const ImageF& p, int radius, float eps) {
  const ImageF mean_i = box_mean(I, radius), mean_p = box_mean(p, radius);
  const ImageF corr_ip = box_mean(product(I, p), radius), corr_ii = box_mean(product(I, I), radius);
  ImageF a(I.width(), I.height(), 1), b(I.width(), I.height(), 1);
  for (size_t i = 0; i < I.size(); ++i) {
    const float mi = mean_i.data()[i], mp = mean_p.data()[i];
    const float var = corr_ii.data()[i] - mi * mi;
    const float cov = corr_ip.data()[i] - mi * mp;
    a.data()[i] = cov / (var + eps);
    b.data()[i] = mp - a.data()[i] * mi;
  }
  const ImageF mean_a = box_mean(a, radius), mean_b = box_mean(b, radius);
  ImageF q(I.width(), I.height(), 1);
  for (size_t i = 0; i < I.size(); ++i) q.data()[i] = mean_a.data()[i] * I.data()[i] + mean_b.data()[i];
  return q;
}

}  // namespace regain
