// EXIF orientation (1..8) applied to pixels: the transform that turns stored pixels into
// what a viewer displays.
#pragma once
#include "regain/image.h"

namespace regain {

inline bool orientation_swaps_axes(int o) { return o >= 5 && o <= 8; }

template <class T>
Image<T> apply_orientation(const Image<T>& src, int orientation) {
  if (orientation < 2 || orientation > 8) return src;
  const int W = src.width(), H = src.height(), C = src.channels();
  const bool swap = orientation_swaps_axes(orientation);
  Image<T> out(swap ? H : W, swap ? W : H, C);
  const int OW = out.width(), OH = out.height();
  for (int y = 0; y < OH; ++y) {
    T* o = out.row(y);
    for (int x = 0; x < OW; ++x) {
      int sx, sy;  // source pixel displayed at (x, y)
      switch (orientation) {
        case 2: sx = W - 1 - x; sy = y; break;          // mirror horizontal
        case 3: sx = W - 1 - x; sy = H - 1 - y; break;  // rotate 180
        case 4: sx = x; sy = H - 1 - y; break;          // mirror vertical
        case 5: sx = y; sy = x; break;                  // transpose
        case 6: sx = y; sy = H - 1 - x; break;          // rotate 90 CW
        case 7: sx = W - 1 - y; sy = H - 1 - x; break;  // transverse
        default: sx = W - 1 - y; sy = x; break;         // 8: rotate 270 CW
      }
      const T* s = &src.at(sx, sy);
      for (int c = 0; c < C; ++c) o[x * C + c] = s[c];
    }
  }
  return out;
}

}  // namespace regain

namespace regain {
// The orientation that undoes `o` (rotations by 90 degrees swap; the rest are involutions).
inline int inverse_orientation(int o) { return o == 6 ? 8 : o == 8 ? 6 : o; }
}  // namespace regain
