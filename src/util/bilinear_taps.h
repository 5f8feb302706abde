// Centre-aligned bilinear taps from a grid of `in` samples to one of `out` (edges clamped):
// output sample o reads in[i0[o]] and in[i1[o]] with weight t[o] on the second. Used per axis
// when a low-resolution plane is applied at a higher resolution row by row.
#pragma once
#include <algorithm>
#include <vector>

namespace regain {

struct BilinearTaps {
  std::vector<int> i0, i1;
  std::vector<float> t;
  BilinearTaps(int out, int in) : i0(size_t(out)), i1(size_t(out)), t(size_t(out)) {
    for (int o = 0; o < out; ++o) {
      const float f = std::clamp((float(o) + 0.5f) * float(in) / float(out) - 0.5f, 0.f, float(in - 1));
      const int a = int(f);
      i0[size_t(o)] = a;
      i1[size_t(o)] = std::min(a + 1, in - 1);
      t[size_t(o)] = f - float(a);
    }
  }
};

}  // namespace regain
