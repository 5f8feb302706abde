#include "predict/learned_features.h"

#include <algorithm>
#include <cmath>

#include "util/orientation.h"
#include "util/parallel.h"

namespace regain::learned {

namespace {

// Box filter of radius r along rows (stride 1) or columns (stride w), clamp to edge.
void box_pass(const float* in, float* out, int n, int count, int stride, int step, int r) {
  // n: length of each line; count: number of lines; stride: distance between lines;
  // step: distance between samples within a line.
  const float norm = 1.f / float(2 * r + 1);
  for (int l = 0; l < count; ++l) {
    const float* src = in + size_t(l) * stride;
    float* dst = out + size_t(l) * stride;
    auto at = [&](int i) { return src[size_t(std::clamp(i, 0, n - 1)) * step]; };
    float acc = 0;
    for (int i = -r; i <= r; ++i) acc += at(i);
    for (int i = 0; i < n; ++i) {
      dst[size_t(i) * step] = acc * norm;
      acc += at(i + r + 1) - at(i - r);
    }
  }
}

float percentile(std::vector<float> v, double p) {
  if (v.empty()) return 0.f;
  const size_t k = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k];
}

}  // namespace

void blur_plane(std::vector<float>& plane, int w, int h, float sigma) {
  if (w <= 0 || h <= 0 || sigma <= 0.f) return;
  // Three box passes of width ~ sigma*sqrt(12/3) approximate a Gaussian.
  const int r = std::max(1, int(std::lround(std::sqrt(12.f * sigma * sigma / 3.f + 1.f) / 2.f - 0.5f)));
  std::vector<float> tmp(plane.size());
  for (int pass = 0; pass < 3; ++pass) {
    box_pass(plane.data(), tmp.data(), w, h, w, 1, std::min(r, w));
    box_pass(tmp.data(), plane.data(), h, w, 1, w, std::min(r, h));
  }
}

void box_plane(std::vector<float>& plane, int w, int h, int r) {
  if (w <= 0 || h <= 0 || r <= 0) return;
  std::vector<float> tmp(plane.size());
  box_pass(plane.data(), tmp.data(), w, h, w, 1, std::min(r, w));
  box_pass(tmp.data(), plane.data(), h, w, 1, w, std::min(r, h));
}

std::pair<int, int> work_size(int W, int H, int long_side) {
  const double f = std::min(1.0, double(long_side) / double(std::max({W, H, 1})));
  return {std::max(1, int(std::lround(W * f))), std::max(1, int(std::lround(H * f)))};
}

ImageF average_rgbc(const Image8& sdr, int w, int h, int threads) {
  const int W = sdr.width(), H = sdr.height();
  const auto& lut = srgb8_to_linear_lut();
  ImageF out(w, h, 4);
  // Source column span of each output column, computed once.
  std::vector<int> xs0(static_cast<size_t>(w)), xs1(static_cast<size_t>(w));
  for (int wx = 0; wx < w; ++wx) {
    xs0[size_t(wx)] = int(int64_t(wx) * W / w);
    xs1[size_t(wx)] = std::max(xs0[size_t(wx)] + 1, int(int64_t(wx + 1) * W / w));
  }
  parallel_for(h, threads, [&](int y0_, int y1_) {
    std::vector<float> acc(size_t(w) * 4);
    for (int wy = y0_; wy < y1_; ++wy) {
      const int y0 = int(int64_t(wy) * H / h), y1 = std::max(y0 + 1, int(int64_t(wy + 1) * H / h));
      std::fill(acc.begin(), acc.end(), 0.f);
      for (int y = y0; y < y1; ++y) {
        const uint8_t* p = sdr.row(y);
        for (int wx = 0; wx < w; ++wx) {
          float r = 0, g = 0, b = 0, c = 0;
          for (int x = xs0[size_t(wx)]; x < xs1[size_t(wx)]; ++x) {
            const uint8_t* q = p + 3 * x;
            r += lut[q[0]];
            g += lut[q[1]];
            b += lut[q[2]];
            c += (q[0] >= 250) | (q[1] >= 250) | (q[2] >= 250);
          }
          float* a = &acc[size_t(wx) * 4];
          a[0] += r; a[1] += g; a[2] += b; a[3] += c;
        }
      }
      float* o = out.row(wy);
      for (int wx = 0; wx < w; ++wx) {
        const float inv = 1.f / float((xs1[size_t(wx)] - xs0[size_t(wx)]) * (y1 - y0));
        for (int c = 0; c < 4; ++c) o[4 * wx + c] = acc[size_t(wx) * 4 + c] * inv;
      }
    }
  });
  return out;
}

ImageF average_float(const ImageF& src, int w, int h) {
  const int W = src.width(), H = src.height(), C = src.channels();
  ImageF out(w, h, C);
  std::vector<double> acc(static_cast<size_t>(C));
  for (int wy = 0; wy < h; ++wy) {
    const int y0 = int(int64_t(wy) * H / h), y1 = std::max(y0 + 1, int(int64_t(wy + 1) * H / h));
    for (int wx = 0; wx < w; ++wx) {
      const int x0 = int(int64_t(wx) * W / w), x1 = std::max(x0 + 1, int(int64_t(wx + 1) * W / w));
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x)
          for (int c = 0; c < C; ++c) acc[size_t(c)] += src.at(x, y, c);
      const double inv = 1.0 / double((x1 - x0) * (y1 - y0));
      for (int c = 0; c < C; ++c) out.at(wx, wy, c) = float(acc[size_t(c)] * inv);
    }
  }
  return out;
}

WorkImage to_work(const ImageF& rgbc, int orientation) {
  const ImageF shown = apply_orientation(rgbc, orientation);
  WorkImage out;
  out.width = shown.width();
  out.height = shown.height();
  const size_t n = out.size();
  out.r.resize(n); out.g.resize(n); out.b.resize(n); out.clip.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const float* s = shown.data() + 4 * i;
    out.r[i] = s[0]; out.g[i] = s[1]; out.b[i] = s[2]; out.clip[i] = s[3];
  }
  return out;
}

WorkImage downsample_to_work(const Image8& sdr, int long_side, int orientation, int threads) {
  const auto [w, h] = work_size(sdr.width(), sdr.height(), long_side);
  return to_work(average_rgbc(sdr, w, h, threads), orientation);
}

FeatureImage compute_features(const WorkImage& img, Primaries primaries) {
  const int w = img.width, h = img.height;
  const size_t n = img.size();
  const Vec3 k = luminance_weights(primaries);
  constexpr float eps = 1.f / 256;
  std::vector<float> L(n), V(n), maxv(n), sat(n), cr(n), cb(n), bright(n);
  FeatureImage f;
  f.width = w;
  f.height = h;
  f.lit.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const float r = img.r[i], g = img.g[i], b = img.b[i];
    const float Y = k[0] * r + k[1] * g + k[2] * b;
    const float mx = std::max({r, g, b}), mn = std::min({r, g, b});
    L[i] = std::log2(Y + eps);
    V[i] = linear_to_srgb(std::clamp(Y, 0.f, 1.f));
    maxv[i] = linear_to_srgb(std::clamp(mx, 0.f, 1.f));
    sat[i] = (mx - mn) / (mx + 1e-4f);
    cr[i] = std::log2((r + eps) / (Y + eps));
    cb[i] = std::log2((b + eps) / (Y + eps));
    bright[i] = V[i] > 0.9f ? 1.f : 0.f;
    f.lit[i] = Y > 0.005f;
  }
  // Scene pixels: all, or the opaque ones of a transparent edit (its flat background is not
  // part of the scene), unless almost nothing is opaque.
  std::vector<uint8_t> scene(n, 1);
  if (img.opacity.size() == n) {
    size_t kept = 0;
    for (size_t i = 0; i < n; ++i) kept += img.opacity[i] >= 0.5f;
    if (kept >= std::max<size_t>(1, n / 100))
      for (size_t i = 0; i < n; ++i) {
        scene[i] = img.opacity[i] >= 0.5f;
        f.lit[i] = f.lit[i] && scene[i];
      }
  }
  auto blurred = [&](const std::vector<float>& src, float sigma) {
    std::vector<float> o = src;
    blur_plane(o, w, h, sigma);
    return o;
  };
  const auto Lb1 = blurred(L, 1.5f), Lb2 = blurred(L, 4.f), Lb3 = blurred(L, 12.f), Lb4 = blurred(L, 32.f);
  std::vector<float> L2(n);
  for (size_t i = 0; i < n; ++i) L2[i] = L[i] * L[i];
  const auto L2b = blurred(L2, 4.f);
  const auto clip4 = blurred(img.clip, 4.f), clip16 = blurred(img.clip, 16.f);
  const auto bright8 = blurred(bright, 8.f), sat8 = blurred(sat, 8.f);

  // Scene-wide values (the global branch's inputs).
  std::vector<float> Ls;
  Ls.reserve(n);
  double meanV = 0, fbright = 0, fclip = 0, msat = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!scene[i]) continue;
    Ls.push_back(L[i]);
    meanV += V[i];
    fbright += V[i] > 0.85f;
    fclip += img.clip[i];
    msat += sat[i];
  }
  const float p5 = percentile(Ls, 0.05), p50 = percentile(Ls, 0.50), p95 = percentile(Ls, 0.95),
              p99 = percentile(Ls, 0.99);
  const double inv = Ls.empty() ? 0.0 : 1.0 / double(Ls.size());

  f.x.resize(n * kFeatureCount);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t i = size_t(y) * w + x;
      float* o = &f.x[i * kFeatureCount];
      o[0] = L[i];
      o[1] = V[i];
      o[2] = maxv[i];
      o[3] = sat[i];
      o[4] = cr[i];
      o[5] = cb[i];
      o[6] = img.clip[i];
      o[7] = Lb1[i];
      o[8] = Lb2[i];
      o[9] = Lb3[i];
      o[10] = Lb4[i];
      o[11] = L[i] - Lb2[i];
      o[12] = L[i] - Lb3[i];
      o[13] = std::sqrt(std::max(0.f, L2b[i] - Lb2[i] * Lb2[i]));
      o[14] = clip4[i];
      o[15] = clip16[i];
      o[16] = bright8[i];
      o[17] = sat8[i];
      o[18] = h > 1 ? float(y) / float(h - 1) : 0.5f;
      o[19] = w > 1 ? std::abs(2.f * float(x) / float(w - 1) - 1.f) : 0.f;
      o[20] = p50;
      o[21] = p95;
      o[22] = p99;
      o[23] = p5;
      o[24] = float(meanV * inv);
      o[25] = float(fbright * inv);
      o[26] = float(fclip * inv);
      o[27] = float(msat * inv);
      o[28] = L[i] - p99;
      o[29] = L[i] - p50;
      o[30] = Lb3[i] - p50;
    }
  return f;
}

}  // namespace regain::learned
