#include <algorithm>
#include <cmath>

#include "regain/synthetic.h"
#include "util/parallel.h"

namespace regain {

namespace {

float smooth(float e0, float e1, float x) {
  float t = std::clamp((x - e0) / (e1 - e0), 0.f, 1.f);
  return t * t * (3 - 2 * t);
}

// Integer hash -> [0,1): deterministic texture without a random engine.
float hash01(uint32_t x, uint32_t y) {
  uint32_t h = x * 374761393u + y * 668265263u;
  h = (h ^ (h >> 13)) * 1274126177u;
  return float((h ^ (h >> 16)) & 0xFFFFFF) / float(0x1000000);
}

Vec3 sunset(float u, float v, float aspect) {
  const float horizon = 0.62f;
  Vec3 c;
  if (v < horizon) {  // sky: deep blue at the top to warm and bright at the horizon
    float t = v / horizon;
    c = {0.25f + 1.9f * t * t, 0.35f + 1.3f * t * t, 0.9f + 0.2f * t};
    // sun with a glow
    float dx = (u - 0.68f) * aspect, dy = v - 0.48f;
    float d = std::sqrt(dx * dx + dy * dy);
    float sun = d < 0.035f ? 16.f : 0.f;
    float glow = 3.5f * std::exp(-d * 14.f);
    c = {c[0] + sun + glow * 1.0f, c[1] + sun * 0.9f + glow * 0.7f, c[2] + sun * 0.7f + glow * 0.35f};
    // clouds (bright rims)
    float cl = smooth(0.55f, 0.75f, 0.5f + 0.5f * std::sin(u * 17.f + std::sin(v * 23.f) * 2.f) * std::cos(v * 31.f));
    c = {c[0] * (1 - 0.3f * cl) + 2.2f * cl * (1 - t), c[1] * (1 - 0.3f * cl) + 1.9f * cl * (1 - t),
         c[2] * (1 - 0.3f * cl) + 1.6f * cl * (1 - t)};
  } else {  // ground: shadows, a lit wall, speculars on water
    float t = (v - horizon) / (1 - horizon);
    float shade = 0.03f + 0.25f * (1 - t) * (0.6f + 0.4f * hash01(uint32_t(u * 200), uint32_t(v * 200)));
    c = {shade * 1.1f, shade * 0.9f, shade * 0.7f};
    if (u > 0.08f && u < 0.3f && v > 0.7f && v < 0.92f) c = {0.55f, 0.18f, 0.12f};  // red patch
    if (u > 0.34f && u < 0.46f && v > 0.74f && v < 0.95f) c = {0.12f, 0.45f, 0.16f};  // green patch
    if (u > 0.52f && u < 0.95f && v > 0.66f && v < 0.82f) {                          // water
      float s = hash01(uint32_t(u * 400), uint32_t(v * 600));
      float w = 0.18f + 0.1f * std::sin(u * 90.f);
      c = {w * 0.6f, w * 0.8f, w};
      if (s > 0.985f) c = {12.f, 11.f, 9.f};  // speculars
    }
  }
  return c;
}

Vec3 interior(float u, float v, float aspect) {
  Vec3 c = {0.18f, 0.16f, 0.14f};
  if (u > 0.55f && u < 0.85f && v > 0.1f && v < 0.55f) c = {6.f, 6.5f, 7.f};  // window
  float dx = (u - 0.25f) * aspect, dy = v - 0.2f;
  float d = std::sqrt(dx * dx + dy * dy);
  c[0] += 12.f * std::exp(-d * 40.f);
  c[1] += 10.f * std::exp(-d * 40.f);
  c[2] += 7.f * std::exp(-d * 40.f);
  if (v > 0.7f) c = {0.05f + 0.1f * u, 0.04f, 0.03f};  // dark floor
  if (u > 0.1f && u < 0.2f && v > 0.6f && v < 0.9f) c = {0.7f, 0.62f, 0.55f};  // skin-like patch
  return c;
}

Vec3 night(float u, float v, float aspect) {
  Vec3 c = {0.01f, 0.012f, 0.03f + 0.03f * (1 - v)};
  for (int i = 0; i < 7; ++i) {  // street lights
    float lx = 0.1f + 0.13f * i, ly = 0.45f + 0.05f * std::sin(float(i));
    float dx = (u - lx) * aspect, dy = v - ly;
    float d = std::sqrt(dx * dx + dy * dy);
    float k = 14.f * std::exp(-d * 60.f);
    c = {c[0] + k, c[1] + k * 0.8f, c[2] + k * 0.5f};
  }
  if (hash01(uint32_t(u * 900), uint32_t(v * 900)) > 0.9993f && v < 0.4f) c = {4.f, 4.f, 4.f};  // stars
  return c;
}

}  // namespace

ImageF synthetic_hdr_scene(int width, int height, SceneKind kind) {
  ImageF img(width, height, 3);
  const float aspect = float(width) / float(height);
  parallel_for(height, 0, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      float* row = img.row(y);
      const float v = (y + 0.5f) / height;
      for (int x = 0; x < width; ++x) {
        const float u = (x + 0.5f) / width;
        Vec3 c = kind == SceneKind::Sunset ? sunset(u, v, aspect)
                 : kind == SceneKind::Interior ? interior(u, v, aspect) : night(u, v, aspect);
        row[3 * x] = c[0];
        row[3 * x + 1] = c[1];
        row[3 * x + 2] = c[2];
      }
    }
  });
  return img;
}

Image8 tone_map_to_sdr(const ImageF& hdr) {
  Image8 out(hdr.width(), hdr.height(), 3);
  // Extended Reinhard on luminance with white point 16: mid-tones stay near identity,
  // highlights roll off instead of clipping, hue is preserved.
  constexpr float kWhite2 = 16.f * 16.f;
  uint8_t enc[4097];
  for (int i = 0; i <= 4096; ++i) enc[i] = uint8_t(linear_to_srgb(i / 4096.f) * 255.f + 0.5f);
  parallel_for(hdr.height(), 0, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* s = hdr.row(y);
      uint8_t* d = out.row(y);
      for (int x = 0; x < hdr.width(); ++x) {
        float r = s[3 * x], g = s[3 * x + 1], b = s[3 * x + 2];
        float l = 0.2126f * r + 0.7152f * g + 0.0722f * b;
        float k = l > 0 ? (1 + l / kWhite2) / (1 + l) : 1.f;
        float m = std::max({r * k, g * k, b * k, 1.f});
        for (int c = 0; c < 3; ++c) d[3 * x + c] = enc[int(std::clamp(s[3 * x + c] * k / m, 0.f, 1.f) * 4096.f)];
      }
    }
  });
  return out;
}

}  // namespace regain
