#include "pipeline/cv_view.h"
#include "pipeline/align.h"
#include "pipeline/align_dense.h"
#include "util/orientation.h"

#include <opencv2/calib3d.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace regain {

namespace {

constexpr int kWorkSide = 1024;  // features are found on images of this longer side

struct Prepared {
  cv::Mat gray;
  double sx = 1, sy = 1;  // working pixels per image pixel (the resize rounds each axis)
};

// Image pixel -> working pixel, pixel centres aligned as cv::resize samples them:
// x_w = (x + 0.5) * s - 0.5. Dropping the half-pixel terms puts the transform 1.5 px off at
// 1/4 scale, which a mirror or a rotation turns into a visible shift of the gain.
cv::Mat to_working(const Prepared& p) {
  return (cv::Mat_<double>(3, 3) << p.sx, 0, 0.5 * p.sx - 0.5, 0, p.sy, 0.5 * p.sy - 0.5, 0, 0, 1);
}

Prepared prepare(const Image8& img, bool mirror, int side = kWorkSide) {
  cv::Mat gray;
  cv::cvtColor(cv_view(img), gray, cv::COLOR_RGB2GRAY);
  const double s = std::min(1.0, double(side) / std::max(img.width(), img.height()));
  if (s < 1.0) cv::resize(gray, gray, cv::Size(), s, s, cv::INTER_AREA);
  if (mirror) cv::flip(gray, gray, 1);
  const double sx = double(gray.cols) / img.width(), sy = double(gray.rows) / img.height();
  // Local contrast normalisation: tonal edits (exposure, curves) change the gray levels,
  // not the structure the features should see.
  auto clahe = cv::createCLAHE(2.0, cv::Size(8, 8));
  clahe->apply(gray, gray);
  return {gray, sx, sy};
}

struct Attempt {
  Alignment a;
  cv::Mat h;  // working coordinates: edited -> (mirrored) reference
};

Attempt try_align(const Prepared& e, const Prepared& r, bool mirrored) {
  Attempt out;
  out.a.mirrored = mirrored;
  auto orb = cv::ORB::create(2000, 1.2f, 8, 15, 0, 2, cv::ORB::HARRIS_SCORE, 31, 12);
  std::vector<cv::KeyPoint> ke, kr;
  cv::Mat de, dr;
  orb->detectAndCompute(e.gray, cv::noArray(), ke, de);
  orb->detectAndCompute(r.gray, cv::noArray(), kr, dr);
  if (de.empty() || dr.empty()) return out;
  cv::BFMatcher matcher(cv::NORM_HAMMING);
  std::vector<std::vector<cv::DMatch>> knn;
  matcher.knnMatch(de, dr, knn, 2);
  std::vector<cv::Point2f> pe, pr;
  for (const auto& m : knn)
    if (m.size() == 2 && m[0].distance < 0.8f * m[1].distance) {  // Lowe's ratio test
      pe.push_back(ke[m[0].queryIdx].pt);
      pr.push_back(kr[m[0].trainIdx].pt);
    }
  out.a.matches = int(pe.size());
  if (pe.size() < 8) return out;
  // Similarity first (resize, crop, rotate, shift); a homography only if it explains
  // clearly more matches (perspective corrections).
  std::vector<uchar> inl_s, inl_h;
  cv::Mat sim = cv::estimateAffinePartial2D(pe, pr, inl_s, cv::RANSAC, 3.0, 4000, 0.995);
  cv::Mat hom = pe.size() >= 12 ? cv::findHomography(pe, pr, cv::RANSAC, 3.0, inl_h, 4000, 0.995) : cv::Mat();
  const int n_s = sim.empty() ? 0 : cv::countNonZero(inl_s);
  const int n_h = hom.empty() ? 0 : cv::countNonZero(inl_h);
  if (n_s == 0 && n_h == 0) return out;
  cv::Mat h = cv::Mat::eye(3, 3, CV_64F);
  std::vector<uchar>* inl = &inl_s;
  if (n_s > 0 && n_s * 1.15 >= n_h) {
    sim.copyTo(h(cv::Rect(0, 0, 3, 2)));
    out.a.model = "similarity";
    out.a.inliers = n_s;
  } else {
    h = hom;
    out.a.model = "homography";
    out.a.inliers = n_h;
    inl = &inl_h;
  }
  // Reprojection error of the inliers, in working pixels.
  double err = 0;
  int n = 0;
  for (size_t i = 0; i < pe.size(); ++i) {
    if (!(*inl)[i]) continue;
    cv::Mat p = (cv::Mat_<double>(3, 1) << pe[i].x, pe[i].y, 1.0);
    cv::Mat q = h * p;
    err += std::hypot(q.at<double>(0) / q.at<double>(2) - pr[i].x, q.at<double>(1) / q.at<double>(2) - pr[i].y);
    ++n;
  }
  out.a.reprojection_px = n ? err / n : 0;
  out.h = h;
  return out;
}

// Editors' lossless operations (quarter turns, mirrors, crops at whole pixels) are exact,
// and a fit a fraction of a pixel off them would pass a full-resolution map through a
// bilinear blur. When every corner of the edited frame lands within a pixel of such an
// exact transform (linear part of 0/+-1 entries, integer shift), that transform is used.
cv::Mat snap_to_exact(const cv::Mat& h, int w, int hgt, int ref_w, int ref_h) {
  const double* m = h.ptr<double>();
  auto map = [](const double* t, double x, double y, double& ox, double& oy) {
    const double d = t[6] * x + t[7] * y + t[8];
    ox = (t[0] * x + t[1] * y + t[2]) / d;
    oy = (t[3] * x + t[4] * y + t[5]) / d;
  };
  const int lin[8][4] = {{1, 0, 0, 1}, {-1, 0, 0, 1}, {-1, 0, 0, -1}, {1, 0, 0, -1},
                         {0, 1, 1, 0}, {0, 1, -1, 0}, {0, -1, -1, 0}, {0, -1, 1, 0}};
  for (const auto& l : lin) {
    // Shifts to try: the one that puts the whole edited frame on the whole original (a pure
    // rotation or mirror, exact by construction), then the fitted shift rounded (a crop).
    const double fx = -std::min({0.0, double(l[0]) * (w - 1), double(l[1]) * (hgt - 1),
                                 double(l[0]) * (w - 1) + double(l[1]) * (hgt - 1)});
    const double fy = -std::min({0.0, double(l[2]) * (w - 1), double(l[3]) * (hgt - 1),
                                 double(l[2]) * (w - 1) + double(l[3]) * (hgt - 1)});
    const int mapped_w = std::abs(l[0]) * w + std::abs(l[1]) * hgt, mapped_h = std::abs(l[2]) * w + std::abs(l[3]) * hgt;
    std::vector<std::pair<double, double>> shifts;
    if (mapped_w == ref_w && mapped_h == ref_h) shifts.push_back({fx, fy});
    shifts.push_back({std::round(m[2] / m[8]), std::round(m[5] / m[8])});
    for (auto [tx, ty] : shifts) {
      double c[9] = {double(l[0]), double(l[1]), tx, double(l[2]), double(l[3]), ty, 0, 0, 1};
      double worst = 0;
      for (double x : {0.0, double(w - 1)})
        for (double y : {0.0, double(hgt - 1)}) {
          double ax, ay, bx, by;
          map(m, x, y, ax, ay);
          map(c, x, y, bx, by);
          worst = std::max(worst, std::hypot(ax - bx, ay - by));
        }
      if (worst < 1.5) return cv::Mat(3, 3, CV_64F, c).clone();
    }
  }
  return h;
}

}  // namespace

Result<Alignment> align_images(const Image8& edited, const Image8& reference) {
  if (edited.channels() != 3 || reference.channels() != 3)
    return fail(ErrorCode::InvalidInput, "alignment needs RGB images");
  try {
    Prepared e = prepare(edited, false);
    Prepared r = prepare(reference, false);
    Attempt best = try_align(e, r, false);
    // A mirrored edit only needs trying when the direct fit is weak.
    const bool strong = best.a.inliers >= 60 && best.a.inliers >= best.a.matches / 2;
    Prepared rm = strong ? Prepared{} : prepare(reference, true);
    if (!strong) {
      Attempt mirrored = try_align(e, rm, true);
      if (mirrored.a.inliers > best.a.inliers * 1.5) best = mirrored;
    }
    Alignment a = best.a;
    const double ratio = a.matches ? double(a.inliers) / a.matches : 0;
    if (a.inliers < 25 || ratio < 0.2) {
      a.trusted = false;
      a.reason = "only " + std::to_string(a.inliers) + " of " + std::to_string(a.matches) +
                 " feature matches agree on one transform: not the same photo, or edited beyond recognition";
      return a;
    }
    // Back to full-resolution pixel coordinates: edited -> working -> (mirror) -> reference.
    cv::Mat to_work = to_working(e);
    cv::Mat from_work = to_working(r).inv();
    cv::Mat unmirror = cv::Mat::eye(3, 3, CV_64F);
    if (a.mirrored) {
      unmirror.at<double>(0, 0) = -1;
      unmirror.at<double>(0, 2) = rm.gray.cols - 1;
    }
    cv::Mat full = from_work * unmirror * best.h * to_work;
    full /= full.at<double>(2, 2);
    // Features at 1024 px place a 12-MP edit only to a few pixels: the photometric fit
    // finishes the job (a mirror is part of the transform it refines).
    full = refine_dense(edited, reference, full, a.model == "homography");
    full = snap_to_exact(full, edited.width(), edited.height(), reference.width(), reference.height());
    for (int i = 0; i < 9; ++i) a.edited_to_ref[i] = full.at<double>(i / 3, i % 3);
    a.scale = std::sqrt(std::fabs(a.edited_to_ref[0] * a.edited_to_ref[4] - a.edited_to_ref[1] * a.edited_to_ref[3]));
    a.rotation_deg = std::atan2(a.edited_to_ref[3], a.edited_to_ref[0]) * 180.0 / M_PI;
    a.reprojection_px /= std::sqrt(r.sx * r.sy);
    a.trusted = a.reprojection_px < 6.0;
    a.reason = a.trusted ? "aligned" : "feature fit too loose (" + std::to_string(a.reprojection_px) + " px)";
    return a;
  } catch (const cv::Exception& ex) {
    return fail(ErrorCode::Internal, std::string("alignment: ") + ex.what());
  }
}

}  // namespace regain
