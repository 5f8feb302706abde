#include "pipeline/colour_gain_table.h"

#include <algorithm>

namespace regain {

namespace {
constexpr uint32_t kMinCount = 6;  // pixels a bin needs before its mean is trusted
}

size_t ColourGainTable::bin(const Level& l, const float* rgb) {
  size_t idx = 0;
  for (int c = 0; c < 3; ++c) idx = idx * l.n + size_t(std::clamp(int(rgb[c] * l.n), 0, l.n - 1));
  return idx;
}

ColourGainTable::ColourGainTable(const ImageF& rgb, const ImageF& log2_gain, const ImageF& known) {
  const int sizes[3] = {16, 8, 4};
  for (int k = 0; k < 3; ++k) {
    Level& l = levels_[k];
    l.n = sizes[k];
    l.sum.assign(size_t(l.n) * l.n * l.n, 0.0);
    l.count.assign(l.sum.size(), 0);
  }
  for (size_t i = 0, n = log2_gain.size(); i < n; ++i) {
    if (known.data()[i] <= 0.5f) continue;
    for (Level& l : levels_) {
      const size_t b = bin(l, rgb.data() + 3 * i);
      l.sum[b] += log2_gain.data()[i];
      ++l.count[b];
    }
  }
}

std::optional<float> ColourGainTable::lookup(const float* rgb) const {
  for (const Level& l : levels_) {
    const size_t b = bin(l, rgb);
    if (l.count[b] >= kMinCount) return float(l.sum[b] / l.count[b]);
  }
  return std::nullopt;
}

}  // namespace regain
