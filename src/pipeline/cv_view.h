// OpenCV headers over regain images (no copy): the pipelines hand their pixels to imgproc.
#pragma once
#include <opencv2/core.hpp>

#include "regain/image.h"

namespace regain {

// The view aliases the image's pixels; writing through it writes the image.
inline cv::Mat cv_view(const ImageF& img) {
  return cv::Mat(img.height(), img.width(), CV_32FC(img.channels()), const_cast<float*>(img.data()));
}
inline cv::Mat cv_view(const Image8& img) {
  return cv::Mat(img.height(), img.width(), CV_8UC(img.channels()), const_cast<uint8_t*>(img.data()));
}

}  // namespace regain
