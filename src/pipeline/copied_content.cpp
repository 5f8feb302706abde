#include "pipeline/cv_view.h"
#include "pipeline/copied_content.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace regain {

namespace {
constexpr int kMinArea = 64;          // map pixels: smaller regions are not worth a search
constexpr double kMinCorrelation = 0.5;   // the box also holds unchanged pixels round the copy
constexpr double kMinTexture = 0.04;       // perceptual std-dev of the region's box
constexpr float kPixelTolerance = 0.06f;  // perceptual units: re-encoding noise, not content

}  // namespace

int find_copied_content(const ImageF& edited, const ImageF& reference, const ImageF& changed,
                        const ImageF& ref_gain, ImageF& gain, ImageF& found, ImageF* source) {
  cv::Mat mask8, labels, stats, centroids;
  cv_view(changed).convertTo(mask8, CV_8U, 255);
  const int n = cv::connectedComponentsWithStats(mask8, labels, stats, centroids, 8, CV_32S);
  const cv::Mat e = cv_view(edited), r = cv_view(reference), g = cv_view(ref_gain);
  int hits = 0;
  for (int c = 1; c < n; ++c) {
    if (stats.at<int>(c, cv::CC_STAT_AREA) < kMinArea) continue;
    const cv::Rect box(stats.at<int>(c, cv::CC_STAT_LEFT), stats.at<int>(c, cv::CC_STAT_TOP),
                       stats.at<int>(c, cv::CC_STAT_WIDTH), stats.at<int>(c, cv::CC_STAT_HEIGHT));
    if (box.width < 4 || box.height < 4 || box.width * 2 > r.cols || box.height * 2 > r.rows) continue;
    // Flat content (a black shirt) correlates with any flat patch: only textured regions can
    // be recognised as copies.
    cv::Scalar mean, sd;
    cv::meanStdDev(e(box), mean, sd);
    if (sd[0] < kMinTexture) continue;
    cv::Mat score;
    cv::matchTemplate(r, e(box), score, cv::TM_CCOEFF_NORMED);
    // The region's own place holds what was removed: only sources clear of it count.
    for (int y = 0; y < score.rows; ++y)
      for (int x = 0; x < score.cols; ++x) {
        const cv::Rect cand(x, y, box.width, box.height);
        if ((cand & box).area() * 2 > box.area() || std::isnan(score.at<float>(y, x))) score.at<float>(y, x) = -1;
      }
    double best = 0;
    cv::Point at;
    cv::minMaxLoc(score, nullptr, &best, nullptr, &at);
    if (best < kMinCorrelation) continue;
    // The region's box also holds unchanged pixels round the copy: a pixel counts as copied
    // when it matches the source better than its own place, and the source must explain
    // most of the region.
    int copied = 0, in_region = 0;
    std::vector<cv::Point> take;
    for (int y = 0; y < box.height; ++y)
      for (int x = 0; x < box.width; ++x) {
        const float v = e.at<float>(box.y + y, box.x + x);
        const float d_src = std::fabs(v - r.at<float>(at.y + y, at.x + x));
        const float d_own = std::fabs(v - r.at<float>(box.y + y, box.x + x));
        const bool mine = labels.at<int>(box.y + y, box.x + x) == c;
        in_region += mine;
        if (d_src < kPixelTolerance && d_src < d_own) {
          take.push_back({x, y});
          copied += mine;
        }
      }
    if (copied * 2 < in_region) continue;
    for (const cv::Point& p : take) {
      gain.at(box.x + p.x, box.y + p.y) = g.at<float>(at.y + p.y, at.x + p.x);
      found.at(box.x + p.x, box.y + p.y) = 1.f;
      if (source) {
        source->at(box.x + p.x, box.y + p.y, 0) = float(at.x - box.x);
        source->at(box.x + p.x, box.y + p.y, 1) = float(at.y - box.y);
      }
    }
    ++hits;
  }
  return hits;
}

}  // namespace regain
