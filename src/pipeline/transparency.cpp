#include "pipeline/transparency.h"

#include <algorithm>
#include <vector>

#include "regain/process.h"
#include "util/area_average.h"
#include "util/parallel.h"

namespace regain {

Result<std::array<uint8_t, 3>> parse_background(std::string_view t) {
  if (t == "white") return std::array<uint8_t, 3>{255, 255, 255};
  if (t == "black") return std::array<uint8_t, 3>{0, 0, 0};
  if (!t.empty() && t[0] == '#') t.remove_prefix(1);
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::array<uint8_t, 3> out{};
  bool ok = t.size() == 6;
  for (size_t i = 0; ok && i < 3; ++i) {
    const int hi = hex(t[2 * i]), lo = hex(t[2 * i + 1]);
    ok = hi >= 0 && lo >= 0;
    out[i] = uint8_t(hi * 16 + lo);
  }
  if (!ok) return fail(ErrorCode::InvalidInput, "background must be white, black or #rrggbb");
  return out;
}

void flatten_onto(Image8& rgb, const Image8& alpha, std::array<uint8_t, 3> background, bool premultiplied,
                  int threads) {
  const int w = rgb.width();
  parallel_for(rgb.height(), threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      uint8_t* p = rgb.row(y);
      const uint8_t* a = alpha.row(y);
      for (int x = 0; x < w; ++x) {
        const unsigned av = a[x], inv = 255u - av;
        if (av == 255) continue;
        if (av == 0 && !premultiplied) {  // the usual backdrop pixel: just the colour
          std::copy_n(background.data(), 3, p + 3 * x);
          continue;
        }
        for (int c = 0; c < 3; ++c) {
          const unsigned fg = premultiplied ? p[3 * x + c] * 255u : p[3 * x + c] * av;
          p[3 * x + c] = uint8_t(std::min(255u, (fg + inv * background[size_t(c)] + 127u) / 255u));
        }
      }
    }
  });
}

double transparent_share(const Image8& alpha) {
  if (alpha.empty()) return 0;
  size_t n = 0;
  for (uint8_t v : alpha.span()) n += v != 255;
  return double(n) / double(alpha.size());
}

void fade_gain_by_alpha(ImageF& log2_gain, const Image8& alpha, int threads) {
  const ImageF a = area_average(alpha, log2_gain.width(), log2_gain.height(), threads);
  const int ch = log2_gain.channels();
  for (size_t i = 0, n = a.size(); i < n; ++i)
    for (int c = 0; c < ch; ++c) log2_gain.data()[i * ch + c] *= a.data()[i];
}

}  // namespace regain
