// HDR -> SDR tone mapping for the SDR base of gain-map exports: ITU-R BT.2446-1 (Report
// ITU-R BT.2446-1, 2021), Conversion Method A, section 4.1 "HDR to SDR conversion".
//
// Why Method A: it is a published standard with every formula and constant in the text (no
// tuning left to us), it is luminance(luma)-driven so hue and saturation ratios survive the
// mapping, its curve is smooth and strictly increasing (perceptual log -> knee -> inverse
// log), and its SDR->HDR counterpart (section 4.2) inverts it closely, which suits a gain
// map whose job is to take the SDR base back to the HDR master.
//
// Method A as specified (for a BT.2100 master with peak L_HDR, SDR display peak L_SDR):
//   R'G'B' = (linear BT.2020 RGB / L_HDR)^(1/2.4)             (gamma domain, [0,1])
//   Y'     = 0.2627 R' + 0.6780 G' + 0.0593 B'                 (BT.2020 luma)
//   rho    = 1 + 32 (L / 10000)^(1/2.4)                        (for L_HDR and L_SDR)
//   Y'p    = log(1 + (rho_HDR - 1) Y') / log(rho_HDR)          (perceptual linearisation)
//   Y'c    = 1.077 Y'p                                   Y'p <= 0.7399
//            -1.1510 Y'p^2 + 2.7811 Y'p - 0.6302         0.7399 < Y'p <= 0.9909   (knee)
//            0.5 Y'p + 0.5                               Y'p > 0.9909
//   Y'sdr  = (rho_SDR^Y'c - 1) / (rho_SDR - 1)                 (back to the gamma domain)
//   f      = Y'sdr / (1.1 Y')                                  (chroma correction)
//   Cb'    = f (B' - Y') / 1.8814,  Cr' = f (R' - Y') / 1.4746
//   Y'tmo  = Y'sdr - max(0.1 Cr', 0)
//   -> R'G'B' (BT.2020) for a BT.1886 (gamma 2.4) SDR display of peak L_SDR.
//
// Our adaptation (the formulas above are untouched):
//  * Input is regain's linear extended SDR: 1.0 = HDR Reference White = 203 cd/m2
//    (ITU-R BT.2408), in BT.2020 or Display P3 primaries. P3 is converted to BT.2020 first
//    (P3 lies inside BT.2020, so nothing is lost); negative components (scene-linear EXR
//    outside BT.2020) are clamped to 0. Light above L_HDR is brought to the master peak by
//    scaling the whole RGB vector by 1/max (not per channel, so hue is kept).
//  * Output is display-referred linear light relative to SDR peak (1.0 = SDR white), the
//    BT.1886 decoding of Method A's R'G'B', converted to the target primaries (sRGB/BT.709
//    or Display P3): encode it with the sRGB OETF and an SDR display shows the light levels
//    Method A intends, in relative terms.
//  * Out-of-gamut and over-range results are soft-compressed along constant ICtCp hue
//    (below), never clipped per channel.
//
// Where diffuse white lands: with the defaults (L_HDR 1000, L_SDR 100), 203 cd/m2
// -> Y'p 0.770 -> Y'c 0.828 (on the knee) -> Y'sdr 0.687, i.e. 40.6% of SDR peak in linear
// light, sRGB code ~171 of 255. BT.2408 18% grey (26 cd/m2) -> 7.2% (code ~76); 18% of
// reference white (36.5 cd/m2) -> 9.7% (code ~88); a typical skin tone at 80 cd/m2 -> 18.8%
// (code ~120). Why: Method A ties the *peaks* together (L_HDR -> SDR peak) and spends the
// top third of the SDR signal range (0.69..1.0) on the 203..1000 cd/m2 highlights (the knee
// starts at ~164 cd/m2), instead of clipping them; mid-tones keep their HDR contrast and
// sit about 0.7-1 stop below a diffuse-white-anchored SDR grade. The gain map restores the
// HDR levels exactly, so this is the look of the SDR base only; a colourist who wants a
// brighter SDR base supplies a .cube LUT instead (regain/lut.h).
//
// Gamut handling (our method, documented here because Method A leaves it open). After the
// conversion to the target primaries a colour c may lie outside the SDR RGB cube [0,1]^3:
// negative channels (BT.2020/P3 colours outside sRGB) or channels above 1 (bright
// saturated colours: Method A bounds luma, not each channel).
//  1. How far out: with Y the luminance of c (target primaries' weights), the relative
//     saturation u is the distance from the grey of luminance Y, scaled so that u = 1 where
//     the first channel reaches 0 or 1 along the line from that grey through c.
//  2. How much to pull in: colours with u <= 0.8 are untouched; above, u' = k + (1-k) x/(1+x)
//     with x = (u - k)/(1 - k), k = 0.8 -- slope 1 at the knee and a limit of 1 reached only
//     as u -> infinity (the p = 1 member of the curve family used by the ACES Reference
//     Gamut Compression, ACES 1.3). Nothing below SDR white lands on the cube surface, so
//     distinct inputs stay distinct: no plateaus where per-channel clipping would flatten
//     a gradient.
//  3. Which way: towards grey along a line of constant ICtCp intensity and hue (ITU-R
//     BT.2100; computed at the SDR display's 100 cd/m2 scale). Ct and Cp are linear in the
//     PQ-encoded cone signals L'M'S', and grey is L' = M' = S' = I, so the path is the straight
//     line from (I,I,I) to the colour's L'M'S'; the point whose u equals u' is found by
//     regula falsi (3 steps on average). Mixing with grey in linear light instead keeps the
//     dominant wavelength but not the perceived hue: BT.2020 red drifts 15-27 degrees in
//     ICtCp hue (towards magenta), blue 10-18 degrees; on the ICtCp path all six BT.2020
//     primaries and secondaries stay within 2.1 degrees over 0..1000 cd/m2 ramps (worst: red).
//     (CIELab is not used to judge hue: its hue lines are known to bend for blue, and it
//     reports ~37 degrees for the same blue that ICtCp -- designed on constant-hue data --
//     keeps within 1.3.)
//     When the grey of equal intensity would be brighter than SDR white (bright yellows,
//     greens, cyans), the path leads to a grey just below white instead: still a straight
//     line in L'M'S' with Ct, Cp scaled together, so the hue angle is still kept.
//  4. Luminance at or above SDR white (Y >= 1; Method A bounds luma, not luminance, so
//     bright saturated colours get there): a grey becomes white; a colour counts as
//     infinitely saturated and is brought to the cube surface along the same capped
//     constant-hue path -- the limit of its neighbours just below Y = 1, so no edge.
// The cost: colours within 20% of the gamut surface give up a little saturation (a pure
// sRGB primary keeps 90% of its distance from grey).
#pragma once
#include "regain/export.h"
#include <vector>

#include "regain/color.h"
#include "regain/image.h"

namespace regain {

// Values outside [1, 10000] cd/m2 (or NaN) fall back to these defaults.
struct ToneMapParams {
  float master_peak_nits = 1000.f;          // L_HDR: the grade's peak (Method A is for 1000)
  float sdr_peak_nits = 100.f;              // L_SDR: SDR display peak = SDR white (Method A: 100)
  float hdr_white_nits = kSdrWhiteNits;     // what input 1.0 means (regain: 203 cd/m2)
};

// The gamut step on its own: linear SDR RGB (1.0 = SDR peak) in `target` primaries ->
// [0,1]^3, compressed as described above. Thread-safe after construction.
class REGAIN_API GamutCompressor {
 public:
  explicit GamutCompressor(Primaries target, float sdr_peak_nits = 100.f);
  Vec3 operator()(Vec3 rgb) const;

 private:
  Mat3 to_lms_, from_lms_;
  Vec3 weights_;
  float scale_;            // SDR 1.0 -> fraction of 10000 cd/m2 (ICtCp is absolute)
  float white_intensity_;  // ICtCp I of a grey just below SDR white
};
REGAIN_API Vec3 soft_gamut_compress(Vec3 rgb, Primaries target, float sdr_peak_nits = 100.f);

// Precomputed per (params, input primaries, output primaries); map() is thread-safe.
class REGAIN_API ToneMapper {
 public:
  // input: BT2020 or DisplayP3 (BT709 accepted too); output: BT709 or DisplayP3 (or BT2020).
  ToneMapper(Primaries input, Primaries output, ToneMapParams params = {});
  // Linear extended-SDR RGB (input primaries) -> linear SDR RGB in [0,1] (output primaries).
  Vec3 map(Vec3 rgb) const;
  // Method A's luma curve alone: HDR Y' in [0,1] (gamma 1/2.4 of Y/L_HDR) -> SDR Y'.
  float luma_curve(float y_hdr) const;

 private:
  GamutCompressor gamut_;
  Mat3 to2020_, from2020_;
  float in_scale_;  // input 1.0 -> fraction of L_HDR
  float rho_hdr_, log_rho_hdr_, rho_sdr_, log_rho_sdr_;
  bool identity_in_;
  static constexpr int kLumaEntries = 4097;
  std::vector<float> luma_;  // luma_curve sampled for map()
};

// Whole images: RGB or RGBA float (alpha copied), rows in parallel (threads 0 = all cores).
REGAIN_API ImageF tone_map(const ImageF& hdr, Primaries input, Primaries output, const ToneMapParams& params = {},
                int threads = 0);

}  // namespace regain
