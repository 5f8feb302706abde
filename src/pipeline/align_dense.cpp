#include "pipeline/cv_view.h"
#include "pipeline/align_dense.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace regain {

namespace {

constexpr int kDenseSide = 1536;     // the edited image is fitted at up to this longer side
constexpr int kMaxSamples = 80000;   // textured pixels used per pyramid level

struct Level {
  cv::Mat img;   // locally normalised gray, CV_32F
  cv::Matx33d S;  // image pixel -> level pixel (pixel centres as cv::resize samples them)
};

// Gray at scale `s`, smoothed a little (Lucas-Kanade wants smooth gradients) and locally
// normalised: zero mean, unit contrast over 17x17 px, so exposure and curve edits cancel.
Level make_level(const Image8& img, double s) {
  cv::Mat g;
  cv::cvtColor(cv_view(img), g, cv::COLOR_RGB2GRAY);
  if (s < 1.0) cv::resize(g, g, cv::Size(std::max(8, int(std::lround(img.width() * s))), std::max(8, int(std::lround(img.height() * s)))), 0, 0, cv::INTER_AREA);
  const double sx = double(g.cols) / img.width(), sy = double(g.rows) / img.height();
  cv::Mat f, mu, d, var;
  g.convertTo(f, CV_32F, 1.0 / 255);
  cv::GaussianBlur(f, f, cv::Size(), 1.0, 1.0, cv::BORDER_REPLICATE);
  // Box windows (constant time per pixel): only the local level and contrast are wanted.
  cv::blur(f, mu, cv::Size(17, 17), cv::Point(-1, -1), cv::BORDER_REPLICATE);
  d = f - mu;
  cv::blur(d.mul(d), var, cv::Size(17, 17), cv::Point(-1, -1), cv::BORDER_REPLICATE);
  cv::sqrt(var, var);
  cv::divide(d, var + 0.02, f);
  return {f, cv::Matx33d(sx, 0, 0.5 * sx - 0.5, 0, sy, 0.5 * sy - 0.5, 0, 0, 1)};
}

float bilinear(const cv::Mat& m, double x, double y) {
  const int x0 = int(x), y0 = int(y);
  const float fx = float(x - x0), fy = float(y - y0);
  const float* r0 = m.ptr<float>(y0);
  const float* r1 = m.ptr<float>(y0 + 1);
  return (r0[x0] * (1 - fx) + r0[x0 + 1] * fx) * (1 - fy) + (r1[x0] * (1 - fx) + r1[x0 + 1] * fx) * fy;
}

struct Sample {
  float x, y, t;
  float sd[8];  // steepest-descent row: template gradient times the warp Jacobian at identity
};

struct Fit {
  cv::Matx33d M;  // level: template pixel -> reference pixel
  double cost_before = 0, cost_after = 0;
  bool ok = false;
};

// Inverse-compositional Lucas-Kanade (Baker & Matthews) with the warp parameterised in
// centred, scaled template coordinates for conditioning.
// `M`: the start; `M0`: the transform the result must beat (robust cost on the same samples).
Fit lucas_kanade(const cv::Mat& T, const cv::Mat& R, const cv::Matx33d& M, const cv::Matx33d& M0, bool homography) {
  Fit fit;
  fit.M = M;
  const int np = homography ? 8 : 6;
  const double cx = 0.5 * (T.cols - 1), cy = 0.5 * (T.rows - 1), sc = 0.5 * std::max(T.cols, T.rows);
  const cv::Matx33d N(1 / sc, 0, -cx / sc, 0, 1 / sc, -cy / sc, 0, 0, 1);
  const cv::Matx33d Ninv = N.inv();
  cv::Mat gx, gy;
  cv::Sobel(T, gx, CV_32F, 1, 0, 3, 1.0 / 8, 0, cv::BORDER_REPLICATE);
  cv::Sobel(T, gy, CV_32F, 0, 1, 3, 1.0 / 8, 0, cv::BORDER_REPLICATE);
  // The most textured pixels carry the fit; flat ones only add noise.
  std::vector<float> mags;
  mags.reserve(size_t(T.rows) * T.cols);
  for (int y = 2; y < T.rows - 2; ++y)
    for (int x = 2; x < T.cols - 2; ++x) {
      const float u = gx.at<float>(y, x), v = gy.at<float>(y, x);
      mags.push_back(u * u + v * v);  // squared: only the order matters
    }
  if (mags.size() < 2000) return fit;
  const size_t keep = std::min(mags.size() * 2 / 5, size_t(kMaxSamples));
  std::nth_element(mags.begin(), mags.begin() + (mags.size() - keep), mags.end());
  const float thr2 = std::max(mags[mags.size() - keep], 0.05f * 0.05f);
  std::vector<Sample> samples;
  samples.reserve(keep);
  for (int y = 2; y < T.rows - 2; ++y)
    for (int x = 2; x < T.cols - 2; ++x) {
      const double dx = gx.at<float>(y, x) * sc, dy = gy.at<float>(y, x) * sc;
      if (dx * dx + dy * dy < thr2 * sc * sc) continue;
      const double xn = (x - cx) / sc, yn = (y - cy) / sc;
      Sample s{float(x), float(y), T.at<float>(y, x), {}};
      const double row[8] = {dx * xn, dy * xn, dx * yn, dy * yn, dx, dy,
                             -(dx * xn * xn + dy * xn * yn), -(dx * xn * yn + dy * yn * yn)};
      for (int k = 0; k < np; ++k) s.sd[k] = float(row[k]);
      samples.push_back(s);
    }
  if (samples.size() < 1000) return fit;

  std::vector<float> resid(samples.size());
  std::vector<uint8_t> valid(samples.size());
  auto residuals = [&](const cv::Matx33d& W) {
    size_t n = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
      const Sample& s = samples[i];
      const double w = W(2, 0) * s.x + W(2, 1) * s.y + W(2, 2);
      const double u = (W(0, 0) * s.x + W(0, 1) * s.y + W(0, 2)) / w, v = (W(1, 0) * s.x + W(1, 1) * s.y + W(1, 2)) / w;
      valid[i] = w > 0 && u >= 0 && v >= 0 && u < R.cols - 1 && v < R.rows - 1;
      if (!valid[i]) continue;
      resid[i] = bilinear(R, u, v) - s.t;
      ++n;
    }
    return n;
  };
  auto huber = [](double e, double k) { return std::fabs(e) <= k ? 0.5 * e * e : k * (std::fabs(e) - 0.5 * k); };
  auto cost = [&](double k) {
    double c = 0;
    size_t n = 0;
    for (size_t i = 0; i < samples.size(); ++i)
      if (valid[i]) c += huber(resid[i], k), ++n;
    return n ? c / n : 1e30;
  };
  if (residuals(M0) < 1000) return fit;
  // Robust scale from the starting residuals, kept fixed so costs compare.
  std::vector<float> absr;
  for (size_t i = 0; i < samples.size(); ++i)
    if (valid[i]) absr.push_back(std::fabs(resid[i]));
  std::nth_element(absr.begin(), absr.begin() + absr.size() / 2, absr.end());
  const double k = std::max(1e-3, 1.345 * 1.4826 * absr[absr.size() / 2]);
  fit.cost_before = cost(k);

  cv::Matx33d W = M;
  for (int it = 0; it < 20; ++it) {
    if (residuals(W) < 1000) return fit;
    cv::Matx<double, 8, 8> H = cv::Matx<double, 8, 8>::zeros();
    cv::Matx<double, 8, 1> b = cv::Matx<double, 8, 1>::zeros();
    for (size_t i = 0; i < samples.size(); ++i) {
      if (!valid[i]) continue;
      const double e = resid[i];
      const double wt = std::fabs(e) <= k ? 1.0 : k / std::fabs(e);
      const float* sd = samples[i].sd;
      for (int a = 0; a < np; ++a) {
        b(a) += wt * sd[a] * e;
        for (int c = a; c < np; ++c) H(a, c) += wt * sd[a] * sd[c];
      }
    }
    for (int a = 0; a < np; ++a)
      for (int c = 0; c < a; ++c) H(a, c) = H(c, a);
    cv::Mat Hm(np, np, CV_64F), bm(np, 1, CV_64F), dp;
    for (int a = 0; a < np; ++a) {
      bm.at<double>(a) = b(a);
      for (int c = 0; c < np; ++c) Hm.at<double>(a, c) = H(a, c);
    }
    if (!cv::solve(Hm, bm, dp, cv::DECOMP_CHOLESKY)) return fit;
    double p[8] = {};
    for (int a = 0; a < np; ++a) p[a] = dp.at<double>(a);
    const cv::Matx33d A(1 + p[0], p[2], p[4], p[1], 1 + p[3], p[5], p[6], p[7], 1);
    W = W * (Ninv * A.inv() * N);
    W *= 1.0 / W(2, 2);
    // Converged when no template corner moves by more than 0.005 px.
    double step = 0;
    for (double x : {-1.0, 1.0})
      for (double y : {-1.0, 1.0}) {
        const double w = p[6] * x + p[7] * y + 1;
        step = std::max(step, std::hypot(((1 + p[0]) * x + p[2] * y + p[4]) / w - x, (p[1] * x + (1 + p[3]) * y + p[5]) / w - y));
      }
    if (step * sc < 0.005) break;
  }
  if (residuals(W) < 1000) return fit;
  fit.cost_after = cost(k);
  fit.M = W;
  fit.ok = true;
  return fit;
}

cv::Matx33d to_matx(const cv::Mat& m) {
  cv::Matx33d r;
  for (int i = 0; i < 9; ++i) r.val[i] = m.at<double>(i / 3, i % 3);
  return r;
}

}  // namespace

cv::Mat refine_dense(const Image8& edited, const Image8& reference, const cv::Mat& edited_to_ref, bool homography) {
  const cv::Matx33d H0 = to_matx(edited_to_ref);
  const double ref_per_edited = std::sqrt(std::fabs(H0(0, 0) * H0(1, 1) - H0(0, 1) * H0(1, 0)));
  const double se = std::min(1.0, double(kDenseSide) / std::max(edited.width(), edited.height()));
  const double sr = std::min(1.0, se / std::max(ref_per_edited, 1e-6));
  cv::Matx33d H = H0;
  // Half resolution first (wider basin), then the working resolution, where the result must
  // beat the feature fit.
  for (double f : {0.5, 1.0}) {
    if (f < 1.0 && std::max(edited.width(), edited.height()) * se * f < 256) continue;
    const Level t = make_level(edited, se * f), r = make_level(reference, sr * f);
    const cv::Matx33d to_level_inv = t.S.inv();
    Fit fit = lucas_kanade(t.img, r.img, r.S * H * to_level_inv, r.S * H0 * to_level_inv, homography);
    if (!fit.ok) return edited_to_ref;
    H = r.S.inv() * fit.M * t.S;
    H *= 1.0 / H(2, 2);
    if (f == 1.0 && fit.cost_after >= fit.cost_before) return edited_to_ref;
  }
  // The feature fit is good to a few pixels; a dense fit that moved further locked onto
  // something else (repeated texture, a large content edit).
  const double limit = 4.0 + 0.005 * std::max(reference.width(), reference.height());
  for (double x : {0.0, double(edited.width() - 1)})
    for (double y : {0.0, double(edited.height() - 1)}) {
      const cv::Vec3d a = H0 * cv::Vec3d(x, y, 1), b = H * cv::Vec3d(x, y, 1);
      if (std::hypot(a[0] / a[2] - b[0] / b[2], a[1] / a[2] - b[1] / b[2]) > limit) return edited_to_ref;
    }
  return cv::Mat(H, true);
}

}  // namespace regain
