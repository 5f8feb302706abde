// RGB <-> planar YCbCr (ITU-T H.273 matrix coefficients, full or video range, 8..16 bits).
//
// Both directions are one affine map per pixel in integer sample units, precomputed from
// Kr/Kb, the range and the bit depth, evaluated in float. Chroma subsampling averages the
// RGB of each 2x2 (4:2:0) or 2x1 (4:2:2) block, which equals averaging unrounded Cb/Cr since
// they are linear in RGB; blocks cut by an odd edge average the pixels they have. Chroma
// therefore sits at the block centre, and upsampling interpolates bilinearly from there:
// luma sample 2i is 1/4 of a chroma step left of chroma sample i, 2i+1 is 1/4 right (weights
// 3/4 and 1/4, edges repeated). Rows are processed in parallel bands.
#include <algorithm>
#include <cmath>
#include <new>
#include <string>
#include <vector>

#include "regain/video.h"
#include "util/parallel.h"

namespace regain {

namespace {

struct Kr {
  float kr = 0.299f, kb = 0.114f;
  bool identity = false;
};

bool kr_kb(uint16_t matrix, Kr& k) {
  switch (matrix) {
    case 0: k.identity = true; return true;
    case 1: k.kr = 0.2126f, k.kb = 0.0722f; return true;   // BT.709
    case 2:                                                  // unspecified: BT.601, the JPEG/HEIF habit
    case 5:
    case 6: k.kr = 0.299f, k.kb = 0.114f; return true;     // BT.601 / BT.470BG
    case 4: k.kr = 0.30f, k.kb = 0.11f; return true;       // FCC
    case 7: k.kr = 0.212f, k.kb = 0.087f; return true;     // SMPTE 240M
    case 9: k.kr = 0.2627f, k.kb = 0.0593f; return true;   // BT.2020 non-constant luminance
    default: return false;
  }
}

// Integer-sample scale and offset of Y and of Cb/Cr for a bit depth and range.
struct Quant {
  float maxv, ys, yo, cs, co;
};
Quant quant(int bit_depth, bool full_range, bool identity) {
  Quant q;
  q.maxv = float((1u << bit_depth) - 1);
  float unit = float(1u << (bit_depth - 8));
  if (full_range) {
    q.ys = q.maxv, q.yo = 0;
    q.cs = q.maxv, q.co = float(1u << (bit_depth - 1));
  } else {
    q.ys = 219 * unit, q.yo = 16 * unit;
    q.cs = 224 * unit, q.co = 128 * unit;
  }
  // H.273: with the identity matrix G, B and R are all quantised like luma.
  if (identity) q.cs = q.ys, q.co = q.yo;
  return q;
}

inline uint16_t to_sample(float v, int maxv) {
  int i = int(v + 0.5f);
  return uint16_t(std::clamp(i, 0, maxv));
}

// Forward map: out = m[k] . (r, g, b) + off[k] for k = Y, Cb, Cr.
struct Forward {
  float m[3][3], off[3];
};
Forward forward_map(const Kr& k, const Quant& q) {
  Forward f{};
  float s = q.ys / q.maxv, c = q.cs / q.maxv;
  if (k.identity) {
    f.m[0][1] = s;  // Y = G
    f.m[1][2] = c;  // Cb = B
    f.m[2][0] = c;  // Cr = R
  } else {
    float kg = 1 - k.kr - k.kb;
    float cb = c / (2 * (1 - k.kb)), cr = c / (2 * (1 - k.kr));
    float y[3] = {k.kr, kg, k.kb};
    for (int i = 0; i < 3; ++i) {
      f.m[0][i] = s * y[i];
      f.m[1][i] = cb * ((i == 2 ? 1.f : 0.f) - y[i]);
      f.m[2][i] = cr * ((i == 0 ? 1.f : 0.f) - y[i]);
    }
  }
  f.off[0] = q.yo;
  f.off[1] = f.off[2] = q.co;
  return f;
}

// Inverse map: (r, g, b) = a . (Y - yo, Cb - co, Cr - co).
struct Inverse {
  float a[3][3], yo, co;
};
Inverse inverse_map(const Kr& k, const Quant& q) {
  Inverse v{};
  float s = q.maxv / q.ys, c = q.maxv / q.cs;
  v.yo = q.yo;
  v.co = q.co;
  if (k.identity) {
    v.a[0][2] = c;  // R = Cr
    v.a[1][0] = s;  // G = Y
    v.a[2][1] = c;  // B = Cb
  } else {
    float kg = 1 - k.kr - k.kb;
    v.a[0][0] = v.a[1][0] = v.a[2][0] = s;
    v.a[0][2] = c * 2 * (1 - k.kr);
    v.a[2][1] = c * 2 * (1 - k.kb);
    v.a[1][1] = -c * 2 * k.kb * (1 - k.kb) / kg;
    v.a[1][2] = -c * 2 * k.kr * (1 - k.kr) / kg;
  }
  return v;
}

int shift_x(Chroma c) { return c == Chroma::Yuv420 || c == Chroma::Yuv422 ? 1 : 0; }
int shift_y(Chroma c) { return c == Chroma::Yuv420 ? 1 : 0; }

// Mean R, G, B of each chroma block over luma rows [ya, yb) into out[3 * i + k]; a block
// cut by the right edge averages the column it has.
void block_means(const Image16& rgb, int ya, int yb, int sx, int cw, float* out) {
  const int w = rgb.width(), ch = rgb.channels();
  const uint16_t* r0 = rgb.row(ya);
  const uint16_t* r1 = rgb.row(yb - 1);  // == r0 for a single row
  const bool two_rows = yb - ya == 2;
  const float row_scale = two_rows ? 0.5f : 1.f;
  if (!sx) {
    for (int i = 0; i < cw; ++i)
      for (int k = 0; k < 3; ++k)
        out[3 * i + k] = row_scale * float(r0[i * ch + k] + (two_rows ? r1[i * ch + k] : 0));
    return;
  }
  const int full = w / 2;  // blocks with two columns
  const float scale = 0.5f * row_scale;
  for (int i = 0; i < full; ++i) {
    const uint16_t *a = r0 + 2 * i * ch, *b = r1 + 2 * i * ch;
    for (int k = 0; k < 3; ++k) {
      uint32_t v = uint32_t(a[k]) + a[ch + k];
      if (two_rows) v += uint32_t(b[k]) + b[ch + k];
      out[3 * i + k] = scale * float(v);
    }
  }
  if (full < cw) {  // odd width: the last block has one column
    const uint16_t *a = r0 + 2 * full * ch, *b = r1 + 2 * full * ch;
    for (int k = 0; k < 3; ++k) out[3 * full + k] = row_scale * float(a[k] + (two_rows ? b[k] : 0));
  }
}

Result<YuvImage> to_yuv(const Image16& rgb, int bit_depth, Chroma chroma, uint16_t matrix, bool full_range) {
  if (rgb.empty()) return fail(ErrorCode::InvalidInput, "rgb_to_yuv: empty image");
  if (bit_depth < 8 || bit_depth > 16) return fail(ErrorCode::InvalidInput, "rgb_to_yuv: bit depth must be 8..16");
  int ch = rgb.channels();
  if (ch != 1 && ch != 3 && ch != 4) return fail(ErrorCode::InvalidInput, "rgb_to_yuv: 1, 3 or 4 channels expected");
  Kr k;
  if (!kr_kb(matrix, k)) return fail(ErrorCode::Unsupported, "rgb_to_yuv: matrix coefficients " + std::to_string(matrix));
  if (ch == 1) chroma = Chroma::Mono;
  if (k.identity && (chroma == Chroma::Yuv420 || chroma == Chroma::Yuv422))
    return fail(ErrorCode::InvalidInput, "rgb_to_yuv: the identity matrix needs 4:4:4");

  const int w = rgb.width(), h = rgb.height(), sx = shift_x(chroma), sy = shift_y(chroma);
  const int cw = (w + sx) >> sx, chh = (h + sy) >> sy;
  YuvImage out;
  out.width = w;
  out.height = h;
  out.bit_depth = bit_depth;
  out.chroma = chroma;
  out.full_range = full_range;
  out.planes[0] = Image16(w, h, 1);
  if (chroma != Chroma::Mono) {
    out.planes[1] = Image16(cw, chh, 1);
    out.planes[2] = Image16(cw, chh, 1);
  }
  const Quant q = quant(bit_depth, full_range, k.identity);
  const Forward f = forward_map(k, q);
  const int maxv = int(q.maxv);

  if (ch == 1) {  // gray: Y is the sample rescaled to the range
    float s = q.ys / q.maxv;
    parallel_for(h, 0, [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) {
        const uint16_t* src = rgb.row(y);
        uint16_t* dst = out.planes[0].row(y);
        for (int x = 0; x < w; ++x) dst[x] = to_sample(s * src[x] + q.yo, maxv);
      }
    });
    return out;
  }

  // Bands of chroma rows; each covers 1 or 2 luma rows.
  parallel_for(chh, 0, [&](int j0, int j1) {
    std::vector<float> sum(size_t(cw) * 3);  // per chroma sample: mean R, G, B of its block
    for (int j = j0; j < j1; ++j) {
      int ya = j << sy, yb = std::min(ya + (1 << sy), h);
      for (int y = ya; y < yb; ++y) {
        const uint16_t* src = rgb.row(y);
        uint16_t* dst = out.planes[0].row(y);
        for (int x = 0; x < w; ++x, src += ch)
          dst[x] = to_sample(f.m[0][0] * src[0] + f.m[0][1] * src[1] + f.m[0][2] * src[2] + f.off[0], maxv);
      }
      if (chroma == Chroma::Mono) continue;
      block_means(rgb, ya, yb, sx, cw, sum.data());
      uint16_t* cb = out.planes[1].row(j);
      uint16_t* cr = out.planes[2].row(j);
      const float* m = sum.data();
      for (int i = 0; i < cw; ++i, m += 3) {
        cb[i] = to_sample(f.m[1][0] * m[0] + f.m[1][1] * m[1] + f.m[1][2] * m[2] + f.off[1], maxv);
        cr[i] = to_sample(f.m[2][0] * m[0] + f.m[2][1] * m[1] + f.m[2][2] * m[2] + f.off[2], maxv);
      }
    }
  });
  return out;
}

// Bilinear 2x upsampling from centre-sited samples: output 2i = (3 c[i] + c[i-1]) / 4,
// 2i+1 = (3 c[i] + c[i+1]) / 4, edges repeated; n_out is 2n or 2n-1.
void upsample_row(const float* c, int n, float* out, int n_out) {
  if (n == 1) {
    std::fill_n(out, n_out, c[0]);
    return;
  }
  out[0] = c[0];
  for (int i = 1; i < n - 1; ++i) {
    out[2 * i] = 0.75f * c[i] + 0.25f * c[i - 1];
    out[2 * i - 1] = 0.75f * c[i - 1] + 0.25f * c[i];
  }
  int i = n - 1;
  out[2 * i - 1] = 0.75f * c[i - 1] + 0.25f * c[i];
  out[2 * i] = 0.75f * c[i] + 0.25f * c[i - 1];
  if (2 * i + 1 < n_out) out[2 * i + 1] = c[i];
}

Image16 to_rgb(const YuvImage& yuv, uint16_t matrix) {
  if (!validate_yuv(yuv)) return {};
  Kr k;
  if (!kr_kb(matrix, k)) kr_kb(6, k);
  const int w = yuv.width, h = yuv.height;
  const Quant q = quant(yuv.bit_depth, yuv.full_range, k.identity);
  const int maxv = int(q.maxv);
  const Image16& Y = yuv.planes[0];

  if (yuv.chroma == Chroma::Mono) {
    Image16 out(w, h, 1);
    float s = q.maxv / q.ys;
    parallel_for(h, 0, [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) {
        const uint16_t* src = Y.row(y);
        uint16_t* dst = out.row(y);
        for (int x = 0; x < w; ++x) dst[x] = to_sample(s * (src[x] - q.yo), maxv);
      }
    });
    return out;
  }

  Image16 out(w, h, 3);
  const Inverse v = inverse_map(k, q);
  const int sx = shift_x(yuv.chroma), sy = shift_y(yuv.chroma);
  const Image16 &Cb = yuv.planes[1], &Cr = yuv.planes[2];
  const int cw = Cb.width(), chh = Cb.height();

  parallel_for(h, 0, [&](int y0, int y1) {
    // Chroma minus its offset: vertically interpolated (chroma width), then full width.
    std::vector<float> vcb(cw), vcr(cw), ucb(w), ucr(w);
    for (int y = y0; y < y1; ++y) {
      // Vertical taps for 4:2:0, same scheme as upsample_row.
      int j = y >> sy, j2 = j;
      float w0 = 1.f, w1 = 0.f;
      if (sy && chh > 1) {
        j2 = (y & 1) ? std::min(j + 1, chh - 1) : std::max(j - 1, 0);
        w0 = 0.75f, w1 = 0.25f;
      }
      const uint16_t *b0 = Cb.row(j), *b1 = Cb.row(j2), *r0 = Cr.row(j), *r1 = Cr.row(j2);
      float* hb = sx ? vcb.data() : ucb.data();
      float* hr = sx ? vcr.data() : ucr.data();
      for (int i = 0; i < cw; ++i) {
        hb[i] = w0 * b0[i] + w1 * b1[i] - v.co;
        hr[i] = w0 * r0[i] + w1 * r1[i] - v.co;
      }
      if (sx) {
        upsample_row(vcb.data(), cw, ucb.data(), w);
        upsample_row(vcr.data(), cw, ucr.data(), w);
      }
      const uint16_t* ys = Y.row(y);
      uint16_t* dst = out.row(y);
      for (int x = 0; x < w; ++x, dst += 3) {
        float yy = float(ys[x]) - v.yo, cb = ucb[x], cr = ucr[x];
        dst[0] = to_sample(v.a[0][0] * yy + v.a[0][1] * cb + v.a[0][2] * cr, maxv);
        dst[1] = to_sample(v.a[1][0] * yy + v.a[1][1] * cb + v.a[1][2] * cr, maxv);
        dst[2] = to_sample(v.a[2][0] * yy + v.a[2][1] * cb + v.a[2][2] * cr, maxv);
      }
    }
  });
  return out;
}

}  // namespace

bool yuv_matrix_supported(uint16_t matrix) {
  Kr k;
  return kr_kb(matrix, k);
}

Result<void> validate_yuv(const YuvImage& img) {
  if (img.width < 1 || img.height < 1) return fail(ErrorCode::InvalidInput, "YUV image: empty");
  if (img.bit_depth < 8 || img.bit_depth > 16) return fail(ErrorCode::InvalidInput, "YUV image: bit depth must be 8..16");
  auto plane_ok = [](const Image16& p, int w, int h) { return p.width() == w && p.height() == h && p.channels() == 1; };
  if (!plane_ok(img.planes[0], img.width, img.height))
    return fail(ErrorCode::InvalidInput, "YUV image: luma plane size does not match");
  if (img.chroma == Chroma::Mono) return {};
  int sx = shift_x(img.chroma), sy = shift_y(img.chroma);
  int cw = (img.width + sx) >> sx, ch = (img.height + sy) >> sy;
  if (!plane_ok(img.planes[1], cw, ch) || !plane_ok(img.planes[2], cw, ch))
    return fail(ErrorCode::InvalidInput, "YUV image: chroma plane size does not match the chroma format");
  return {};
}

Result<YuvImage> rgb_to_yuv(const Image16& rgb, int bit_depth, Chroma chroma, uint16_t matrix, bool full_range) {
  try {
    return to_yuv(rgb, bit_depth, chroma, matrix, full_range);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "rgb_to_yuv: out of memory");
  }
}

Image16 yuv_to_rgb(const YuvImage& yuv, uint16_t matrix) {
  try {
    return to_rgb(yuv, matrix);
  } catch (const std::bad_alloc&) {
    return {};
  }
}

}  // namespace regain
