#include "regain/icc.h"

#include <lcms2.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "util/parallel.h"

namespace regain {

namespace {

struct ProfileCloser {
  void operator()(void* p) const { if (p) cmsCloseProfile(p); }
};
using Profile = std::unique_ptr<void, ProfileCloser>;

Profile create_profile(Primaries p) {
  auto c = chromaticities(p);
  cmsCIExyY white = {c[6], c[7], 1.0};
  cmsCIExyYTRIPLE prim = {{c[0], c[1], 1.0}, {c[2], c[3], 1.0}, {c[4], c[5], 1.0}};
  // sRGB curve as an ICC parametric type 4: Y = (aX+b)^g for X >= d, cX otherwise.
  double params[5] = {2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045};
  cmsToneCurve* curve = cmsBuildParametricToneCurve(nullptr, 4, params);
  cmsToneCurve* curves[3] = {curve, curve, curve};
  cmsHPROFILE h = cmsCreateRGBProfile(&white, &prim, curves);
  cmsFreeToneCurve(curve);
  return Profile(h);
}

const char* profile_name(Primaries p) {
  switch (p) {
    case Primaries::BT709: return "sRGB";
    case Primaries::DisplayP3: return "Display P3";
    case Primaries::BT2020: return "BT.2020 (sRGB TRC)";
  }
  return "RGB";
}

std::optional<cmsCIEXYZ> colorant(cmsHPROFILE h, cmsTagSignature sig) {
  auto* v = static_cast<cmsCIEXYZ*>(cmsReadTag(h, sig));
  if (!v) return std::nullopt;
  return *v;
}

}  // namespace

namespace {
// v4.3, a description and a copyright tag, a fixed creation date; empty on failure.
std::vector<uint8_t> save_profile(cmsHPROFILE h, const char* description) {
  cmsSetProfileVersion(h, 4.3);
  cmsMLU* mlu = cmsMLUalloc(nullptr, 1);
  cmsMLUsetASCII(mlu, "en", "US", description);
  cmsWriteTag(h, cmsSigProfileDescriptionTag, mlu);
  cmsMLUsetASCII(mlu, "en", "US", "No copyright, use freely");
  cmsWriteTag(h, cmsSigCopyrightTag, mlu);
  cmsMLUfree(mlu);
  cmsUInt32Number size = 0;
  if (!cmsSaveProfileToMem(h, nullptr, &size)) return {};
  std::vector<uint8_t> out(size);
  if (!cmsSaveProfileToMem(h, out.data(), &size)) return {};
  // lcms stamps the creation time into the header (bytes 24-35); a fixed date keeps our
  // output byte-identical for identical inputs. No profile ID is written, so nothing else
  // depends on those bytes.
  const uint8_t date[12] = {0x07, 0xEA, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};  // 2026-01-01 00:00:00
  if (out.size() >= 36) std::copy(date, date + 12, out.begin() + 24);
  return out;
}

std::vector<uint8_t> build_display_icc(Primaries p) {
  Profile h = create_profile(p);
  if (!h) return {};
  return save_profile(h.get(), profile_name(p));
}
}  // namespace

Result<std::vector<uint8_t>> rgb_icc_from_gray(std::span<const uint8_t> gray_icc) {
  Profile in(cmsOpenProfileFromMem(gray_icc.data(), cmsUInt32Number(gray_icc.size())));
  if (!in) return fail(ErrorCode::InvalidInput, "ICC profile could not be parsed");
  if (cmsGetColorSpace(in.get()) != cmsSigGrayData) return fail(ErrorCode::InvalidInput, "not a grayscale ICC profile");
  // The profile's luminance response, 256 samples relative to its white (PCS Y, relative
  // colorimetric), as one tabulated curve.
  Profile xyz(cmsCreateXYZProfile());
  cmsHTRANSFORM t = cmsCreateTransform(in.get(), TYPE_GRAY_8, xyz.get(), TYPE_XYZ_DBL, INTENT_RELATIVE_COLORIMETRIC, 0);
  if (!t) return fail(ErrorCode::Unsupported, "grayscale ICC profile cannot be evaluated");
  uint8_t ramp[256];
  for (int i = 0; i < 256; ++i) ramp[i] = uint8_t(i);
  cmsCIEXYZ out[256];
  cmsDoTransform(t, ramp, out, 256);
  cmsDeleteTransform(t);
  const double white = out[255].Y > 1e-6 ? out[255].Y : 1.0;
  float curve_values[256];
  for (int i = 0; i < 256; ++i) curve_values[i] = float(std::clamp(out[i].Y / white, 0.0, 1.0));
  for (int i = 1; i < 256; ++i) curve_values[i] = std::max(curve_values[i], curve_values[i - 1]);  // monotonic
  cmsToneCurve* curve = cmsBuildTabulatedToneCurveFloat(nullptr, 256, curve_values);
  if (!curve) return fail(ErrorCode::Internal, "tone curve");
  auto c = chromaticities(Primaries::BT709);
  cmsCIExyY wp = {c[6], c[7], 1.0};
  cmsCIExyYTRIPLE prim = {{c[0], c[1], 1.0}, {c[2], c[3], 1.0}, {c[4], c[5], 1.0}};
  cmsToneCurve* curves[3] = {curve, curve, curve};
  Profile rgb(cmsCreateRGBProfile(&wp, &prim, curves));
  cmsFreeToneCurve(curve);
  if (!rgb) return fail(ErrorCode::Internal, "RGB profile");
  std::vector<uint8_t> bytes = save_profile(rgb.get(), "sRGB primaries with a grayscale profile's tone curve");
  if (bytes.empty()) return fail(ErrorCode::Internal, "ICC save");
  return bytes;
}

std::vector<uint8_t> make_display_icc(Primaries p) {
  static const std::vector<uint8_t> srgb = build_display_icc(Primaries::BT709);
  static const std::vector<uint8_t> p3 = build_display_icc(Primaries::DisplayP3);
  static const std::vector<uint8_t> bt2020 = build_display_icc(Primaries::BT2020);
  return p == Primaries::BT709 ? srgb : p == Primaries::DisplayP3 ? p3 : bt2020;
}

Result<IccInfo> inspect_icc(std::span<const uint8_t> icc) {
  if (icc.size() < 128) return fail(ErrorCode::InvalidInput, "ICC profile shorter than its header");
  Profile h(cmsOpenProfileFromMem(icc.data(), cmsUInt32Number(icc.size())));
  if (!h) return fail(ErrorCode::InvalidInput, "ICC profile could not be parsed");
  IccInfo info;
  char buf[256] = {};
  if (cmsGetProfileInfoASCII(h.get(), cmsInfoDescription, "en", "US", buf, sizeof buf)) info.description = buf;
  info.matrix_shaper = cmsIsMatrixShaper(h.get());
  if (cmsGetColorSpace(h.get()) != cmsSigRgbData) return info;
  auto r = colorant(h.get(), cmsSigRedColorantTag), g = colorant(h.get(), cmsSigGreenColorantTag),
       b = colorant(h.get(), cmsSigBlueColorantTag);
  if (!r || !g || !b) return info;
  // Colorants are D50-adapted; compare with the same tags of profiles lcms builds for the
  // known gamuts (adapted the same way), rather than un-adapting by hand.
  for (Primaries p : {Primaries::BT709, Primaries::DisplayP3, Primaries::BT2020}) {
    Profile ref = create_profile(p);
    auto rr = colorant(ref.get(), cmsSigRedColorantTag), rg = colorant(ref.get(), cmsSigGreenColorantTag),
         rb = colorant(ref.get(), cmsSigBlueColorantTag);
    if (!rr || !rg || !rb) continue;
    auto close = [](const cmsCIEXYZ& a, const cmsCIEXYZ& b) {
      return std::fabs(a.X - b.X) < 0.01 && std::fabs(a.Y - b.Y) < 0.01 && std::fabs(a.Z - b.Z) < 0.01;
    };
    if (close(*r, *rr) && close(*g, *rg) && close(*b, *rb)) {
      info.primaries = p;
      break;
    }
  }
  return info;
}

Result<std::vector<float>> icc_to_linear(std::span<const uint8_t> icc, std::span<const uint8_t> rgb8,
                                         Primaries target) {
  Profile in(cmsOpenProfileFromMem(icc.data(), cmsUInt32Number(icc.size())));
  if (!in) return fail(ErrorCode::InvalidInput, "ICC profile could not be parsed");
  if (cmsGetColorSpace(in.get()) != cmsSigRgbData)
    return fail(ErrorCode::Unsupported, "ICC profile is not an RGB profile");
  auto c = chromaticities(target);
  cmsCIExyY white = {c[6], c[7], 1.0};
  cmsCIExyYTRIPLE prim = {{c[0], c[1], 1.0}, {c[2], c[3], 1.0}, {c[4], c[5], 1.0}};
  cmsToneCurve* lin = cmsBuildGamma(nullptr, 1.0);
  cmsToneCurve* curves[3] = {lin, lin, lin};
  Profile out(cmsCreateRGBProfile(&white, &prim, curves));
  cmsFreeToneCurve(lin);
  cmsHTRANSFORM t = cmsCreateTransform(in.get(), TYPE_RGB_8, out.get(), TYPE_RGB_FLT,
                                       INTENT_RELATIVE_COLORIMETRIC, 0);
  if (!t) return fail(ErrorCode::Unsupported, "ICC profile cannot be converted");
  std::vector<float> result(rgb8.size());
  cmsDoTransform(t, rgb8.data(), result.data(), cmsUInt32Number(rgb8.size() / 3));
  cmsDeleteTransform(t);
  return result;
}

Result<std::vector<uint8_t>> icc_to_srgb8(std::span<const uint8_t> icc, std::span<const uint8_t> rgb8, int threads) {
  std::vector<uint8_t> result(rgb8.size());
  const size_t whole = rgb8.size() - rgb8.size() % 3;
  REGAIN_CHECK(icc_to_srgb8(icc, rgb8.first(whole), std::span<uint8_t>(result).first(whole), threads));
  return result;
}

Result<void> icc_to_srgb8(std::span<const uint8_t> icc, std::span<const uint8_t> rgb8, std::span<uint8_t> result,
                          int threads) {
  if (result.size() != rgb8.size() || rgb8.size() % 3) return fail(ErrorCode::InvalidInput, "icc_to_srgb8: buffer sizes");
  Profile in(cmsOpenProfileFromMem(icc.data(), cmsUInt32Number(icc.size())));
  if (!in) return fail(ErrorCode::InvalidInput, "ICC profile could not be parsed");
  if (cmsGetColorSpace(in.get()) != cmsSigRgbData)
    return fail(ErrorCode::Unsupported, "ICC profile is not an RGB profile");
  Profile out = create_profile(Primaries::BT709);
  // NOCACHE: the transform's one-pixel cache is its only mutable state, so without it one
  // transform may run on several threads at once.
  std::unique_ptr<void, void (*)(cmsHTRANSFORM)> t(
      cmsCreateTransform(in.get(), TYPE_RGB_8, out.get(), TYPE_RGB_8, INTENT_RELATIVE_COLORIMETRIC, cmsFLAGS_NOCACHE),
      [](cmsHTRANSFORM x) { if (x) cmsDeleteTransform(x); });
  if (!t) return fail(ErrorCode::Unsupported, "ICC profile cannot be converted");
  const size_t pixels = rgb8.size() / 3, chunk = 65536;
  parallel_for(int((pixels + chunk - 1) / chunk), threads, [&](int c0, int c1) {
    const size_t p0 = size_t(c0) * chunk, p1 = std::min(pixels, size_t(c1) * chunk);
    cmsDoTransform(t.get(), rgb8.data() + 3 * p0, result.data() + 3 * p0, cmsUInt32Number(p1 - p0));
  });
  return {};
}

}  // namespace regain
