// PQ display profiles (Display P3 primaries, SMPTE ST 2084 transfer) generated with lcms2.
// The conventions and the difference between the two profiles are documented in
// include/regain/icc.h; this file only builds and reads them.
#include <lcms2.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "regain/icc.h"

namespace regain {

namespace {

constexpr int kTrcEntries = 4096;

struct ProfileCloser {
  void operator()(void* p) const { if (p) cmsCloseProfile(p); }
};
using Profile = std::unique_ptr<void, ProfileCloser>;

struct CurveFree {
  void operator()(cmsToneCurve* c) const { if (c) cmsFreeToneCurve(c); }
};
using Curve = std::unique_ptr<cmsToneCurve, CurveFree>;

struct MluFree {
  void operator()(cmsMLU* m) const { if (m) cmsMLUfree(m); }
};

bool write_text(cmsHPROFILE h, cmsTagSignature sig, const char* text) {
  std::unique_ptr<cmsMLU, MluFree> mlu(cmsMLUalloc(nullptr, 1));
  // lcms picks the tag type from the profile version: multiLocalizedUnicode in v4,
  // textDescriptionType / textType in v2.
  return mlu && cmsMLUsetASCII(mlu.get(), "en", "US", text) && cmsWriteTag(h, sig, mlu.get());
}

std::vector<uint8_t> build(HdrIccProfile which) {
  const bool v4 = which == HdrIccProfile::HdrP3D65St2084;
  auto c = chromaticities(Primaries::DisplayP3);
  cmsCIExyY white = {c[6], c[7], 1.0};
  cmsCIExyYTRIPLE prim = {{c[0], c[1], 1.0}, {c[2], c[3], 1.0}, {c[4], c[5], 1.0}};

  // A sampled curveType: ICC v2/v4 parametric curves cannot express ST 2084.
  std::vector<cmsUInt16Number> table(kTrcEntries);
  for (int i = 0; i < kTrcEntries; ++i)
    table[i] = cmsUInt16Number(std::lround(65535.0 * hdr_icc_trc(float(i) / (kTrcEntries - 1))));
  Curve trc(cmsBuildTabulatedToneCurve16(nullptr, kTrcEntries, table.data()));
  if (!trc) return {};
  // One curve object for all three channels: lcms then links gTRC/bTRC to rTRC, so the
  // table is stored once.
  cmsToneCurve* curves[3] = {trc.get(), trc.get(), trc.get()};
  Profile h(cmsCreateRGBProfile(&white, &prim, curves));
  if (!h) return {};
  cmsSetProfileVersion(h.get(), v4 ? 4.3 : 2.4);
  if (!write_text(h.get(), cmsSigProfileDescriptionTag, v4 ? "HDR_P3_D65_ST2084" : "P3_PQ")) return {};
  if (!write_text(h.get(), cmsSigCopyrightTag, "No copyright, use freely")) return {};
  if (v4) {
    // ITU-T H.273: 12 = SMPTE EG 432-1 (P3, D65), 16 = SMPTE ST 2084, 0 = identity (RGB).
    cmsVideoSignalType cicp = {12, 16, 0, 1};
    if (!cmsWriteTag(h.get(), cmsSigcicpTag, &cicp)) return {};
  }
  cmsUInt32Number size = 0;
  if (!cmsSaveProfileToMem(h.get(), nullptr, &size)) return {};
  std::vector<uint8_t> out(size);
  if (!cmsSaveProfileToMem(h.get(), out.data(), &size)) return {};
  // Same fixed creation date as make_display_icc (lcms stamps the clock into bytes 24-35;
  // no profile ID is written, so nothing else depends on them).
  const uint8_t date[12] = {0x07, 0xEA, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};  // 2026-01-01 00:00:00
  if (out.size() >= 36) std::copy(date, date + 12, out.begin() + 24);
  return out;
}

}  // namespace

float hdr_icc_trc(float pq_signal) {
  float v = std::clamp(pq_signal, 0.f, 1.f);
  float rel = pq_to_linear(v) * (kPqMaxNits / kSdrWhiteNits);
  return std::min(rel, 1.f);
}

// Built on every call (well under a millisecond), so determinism is a property of the
// bytes rather than of a cache.
std::vector<uint8_t> make_hdr_icc(HdrIccProfile which) { return build(which); }

Result<IccTagInfo> read_icc_tags(std::span<const uint8_t> icc) {
  if (icc.size() < 128) return fail(ErrorCode::InvalidInput, "ICC profile shorter than its header");
  Profile h(cmsOpenProfileFromMem(icc.data(), cmsUInt32Number(icc.size())));
  if (!h) return fail(ErrorCode::InvalidInput, "ICC profile could not be parsed");
  IccTagInfo info;
  char buf[256] = {};
  if (cmsGetProfileInfoASCII(h.get(), cmsInfoDescription, "en", "US", buf, sizeof buf)) info.description = buf;
  info.version = cmsGetProfileVersion(h.get());
  if (cmsIsTag(h.get(), cmsSigcicpTag)) {
    auto* v = static_cast<cmsVideoSignalType*>(cmsReadTag(h.get(), cmsSigcicpTag));
    if (!v) return fail(ErrorCode::InvalidInput, "ICC profile has an unreadable cicp tag");
    info.cicp = IccCicp{v->ColourPrimaries, v->TransferCharacteristics, v->MatrixCoefficients,
                        v->VideoFullRangeFlag != 0};
  }
  return info;
}

}  // namespace regain
