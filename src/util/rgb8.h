// 8-bit RGB from the 1-, 3- or 4-channel pictures decoders give (gray repeated, alpha
// dropped; 16-bit samples rounded to 8 bits): what every SDR base is made of.
#pragma once
#include <algorithm>
#include <cstdint>

#include "regain/image.h"

namespace regain {

inline Image8 to_rgb8(Image8 img) {
  if (img.channels() == 3) return img;
  const int c = img.channels();
  Image8 out(img.width(), img.height(), 3);
  for (size_t i = 0, n = size_t(img.width()) * img.height(); i < n; ++i)
    for (int k = 0; k < 3; ++k) out.data()[3 * i + k] = img.data()[i * c + std::min(k, c - 1)];
  return out;
}

inline Image8 to_rgb8(const Image16& img) {
  const int c = img.channels();
  Image8 out(img.width(), img.height(), 3);
  for (size_t i = 0, n = size_t(img.width()) * img.height(); i < n; ++i)
    for (int k = 0; k < 3; ++k)
      out.data()[3 * i + k] = uint8_t((img.data()[i * c + std::min(k, c - 1)] * 255u + 32767u) / 65535u);
  return out;
}

}  // namespace regain
