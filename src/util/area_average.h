// Area average of a one-channel 8-bit plane (an alpha channel) to a smaller grid, in 0..1.
// Output pixel (x, y) covers source columns [x*W/w, (x+1)*W/w) (at least one), rows alike:
// the same proportional footprint a gain map has over its image.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "regain/image.h"
#include "util/parallel.h"

namespace regain {

inline ImageF area_average(const Image8& plane, int w, int h, int threads) {
  const int W = plane.width(), H = plane.height();
  ImageF out(w, h, 1);
  if (W <= 0 || H <= 0 || w <= 0 || h <= 0) return out;
  auto span_of = [](int i, int n, int N) {
    const int a = std::min(int(int64_t(i) * N / n), N - 1);
    return std::pair<int, int>{a, std::min(N, std::max(a + 1, int(int64_t(i + 1) * N / n)))};
  };
  parallel_for(h, threads, [&](int y0, int y1) {
    std::vector<uint32_t> cols(static_cast<size_t>(W));
    for (int oy = y0; oy < y1; ++oy) {
      const auto [ya, yb] = span_of(oy, h, H);
      std::fill(cols.begin(), cols.end(), 0u);
      for (int y = ya; y < yb; ++y) {
        const uint8_t* a = plane.row(y);
        for (int x = 0; x < W; ++x) cols[size_t(x)] += a[x];
      }
      float* o = out.row(oy);
      for (int ox = 0; ox < w; ++ox) {
        const auto [xa, xb] = span_of(ox, w, W);
        uint64_t sum = 0;
        for (int x = xa; x < xb; ++x) sum += cols[size_t(x)];
        o[ox] = float(double(sum) / (double(yb - ya) * double(xb - xa) * 255.0));
      }
    }
  });
  return out;
}

}  // namespace regain
