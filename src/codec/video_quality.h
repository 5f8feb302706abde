// VideoEncodeOptions::quality (0..100, "like JPEG quality") -> codec quantisers.
//
// JPEG quality q scales its quantisation tables by s = 5000/q % (q < 50) or 200 - 2q %
// (q >= 50). HEVC uses a constant QP that follows the same scale on a log axis:
//   QP = 22 + 3.8 * log2(s / 20)     q50 -> 31, q75 -> 27, q90 -> 22, q95 -> 18, q99 -> 9
// and q100 the lowest QP of the bit depth (near lossless, not bit exact). The constants were
// fitted on four photographs (two phone JPEGs, two OpenEXR scans; 0.5-1 MP, 8-bit 4:2:0,
// preset medium) so that HEVC luma PSNR matches libjpeg-turbo's at q50/q75/q90/q95 on
// average: q90 gave 42.9-47.5 dB where JPEG q90 gave 42.0-50.1 dB, at 30-50% of JPEG's
// size. The HEVC QP scale is the same at every bit depth (a 10-bit QP 22 keeps the
// same relative error as an 8-bit one).
//
// AV1 (libaom cq-level / min = max quantizer, 0..63, 0 = lossless): the quantizer giving the
// same PSNR as the HEVC QP on the same four photographs, interpolated between measured points.
#pragma once
#include <algorithm>
#include <cmath>
#include <iterator>

namespace regain::video_quality {

// log2 of the JPEG table scale in percent; -inf for q100.
inline double jpeg_log2_scale(int quality) {
  int q = std::clamp(quality, 1, 100);  // IJG clamps q0 to q1
  double s = q < 50 ? 5000.0 / q : 200.0 - 2.0 * q;
  return s <= 0 ? -INFINITY : std::log2(s);
}

// HEVC slice QP for quality at bit depth (QP may go negative above 8 bits).
inline int hevc_qp(int quality, int bit_depth) {
  double l = jpeg_log2_scale(quality);
  int qp_min = -6 * (bit_depth - 8);
  if (std::isinf(l)) return qp_min;
  return std::clamp(int(std::lround(22.0 + 3.8 * (l - std::log2(20.0)))), qp_min, 51);
}

// libaom quantizer for quality, via the 8-bit HEVC QP.
inline int av1_quantizer(int quality) {
  // (HEVC QP, AV1 quantizer) pairs of equal PSNR; beyond QP 37 (quality < 20) extrapolated.
  static const double kPoints[][2] = {{0, 0},     {12, 2.6},  {17, 7.4},  {22, 14.2},
                                      {27, 25.5}, {32, 34.2}, {37, 45.4}, {51, 63}};
  int qp = hevc_qp(quality, 8);
  if (qp <= 0) return 0;
  for (size_t i = 1; i < std::size(kPoints); ++i) {
    if (qp <= kPoints[i][0]) {
      double t = (qp - kPoints[i - 1][0]) / (kPoints[i][0] - kPoints[i - 1][0]);
      double aq = kPoints[i - 1][1] + t * (kPoints[i][1] - kPoints[i - 1][1]);
      return std::clamp(int(std::lround(aq)), 1, 63);
    }
  }
  return 63;
}

}  // namespace regain::video_quality
