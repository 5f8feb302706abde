// HDR image files -> linear "extended SDR" RGB (1.0 = 203 cd/m2 SDR reference white).
//
// Each format says different things about itself: EXR is scene-linear (with optional
// chromaticities), PNG may carry cICP code points, TIFF usually says nothing. Whatever a
// file does not say comes from HdrReadOptions, then from conservative defaults.
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <new>
#include <optional>
#include <string>

#include "regain/codec.h"
#include "util/parallel.h"

namespace regain {

namespace {

constexpr const char* kAccepted =
    "HDR input must be OpenEXR, a 16-bit PQ/HLG/linear PNG (cICP) or a 16-bit/float TIFF";

// Signal value in [0,1] -> relative light where 1.0 = SDR white. HLG stops at scene light:
// its OOTF mixes channels and runs per pixel afterwards (apply_hlg_ootf).
float signal_to_relative(Transfer t, float x) {
  switch (t) {
    case Transfer::PQ: return pq_to_linear(x) * (kPqMaxNits / kSdrWhiteNits);
    case Transfer::HLG: return hlg_to_linear(x);
    default: return to_linear(t, x);
  }
}

// Scene light -> display light on a 1000 cd/m2 reference display -> relative to SDR white.
void apply_hlg_ootf(ImageF& img) {
  parallel_for(img.height(), 0, [&](int y0, int y1) {
    constexpr float kScale = kHlgPeakNits / kSdrWhiteNits;
    for (int y = y0; y < y1; ++y) {
      float* p = img.row(y);
      for (int x = 0; x < img.width(); ++x, p += 3) {
        Vec3 d = hlg_ootf({p[0], p[1], p[2]}, kHlgPeakNits);
        p[0] = d[0] * kScale, p[1] = d[1] * kScale, p[2] = d[2] * kScale;
      }
    }
  });
}

// 16-bit code -> relative light, once per call (65536 evaluations are cheap next to a
// 12-MP image). Narrow-range cICP data (full_range = 0) is rescaled here as well; 8-bit
// sources arrive widened by 257, so their black/white codes are 16*257 and 235*257.
std::unique_ptr<std::array<float, 65536>> build_lut(Transfer t, bool narrow_range, int source_bits) {
  const float black = source_bits == 8 ? 16.f * 257 : 16 << 8;
  const float white = source_bits == 8 ? 235.f * 257 : 235 << 8;
  auto lut = std::make_unique<std::array<float, 65536>>();
  for (int i = 0; i < 65536; ++i) {
    float x = i / 65535.f;
    if (narrow_range) x = std::clamp((i - black) / (white - black), 0.f, 1.f);
    (*lut)[i] = signal_to_relative(t, x);
  }
  return lut;
}

// Any 1/3/4-channel 16-bit image -> 3-channel float through the table (gray replicated,
// alpha dropped).
ImageF convert16(const Image16& src, const std::array<float, 65536>& lut) {
  ImageF out(src.width(), src.height(), 3);
  const int c = src.channels();
  parallel_for(src.height(), 0, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const uint16_t* s = src.row(y);
      float* d = out.row(y);
      for (int x = 0; x < src.width(); ++x, s += c, d += 3) {
        if (c < 3) d[0] = d[1] = d[2] = lut[s[0]];
        else d[0] = lut[s[0]], d[1] = lut[s[1]], d[2] = lut[s[2]];
      }
    }
  });
  return out;
}

Result<HdrImage> from_16bit(const Image16& px, Transfer t, Primaries p, bool narrow_range,
                            int source_bits) {
  HdrImage out;
  out.rgb = convert16(px, *build_lut(t, narrow_range, source_bits));
  if (t == Transfer::HLG) apply_hlg_ootf(out.rgb);
  out.primaries = p;
  out.source_transfer = t;
  return out;
}

Primaries default_primaries(Transfer t) {
  // PQ/HLG masters are overwhelmingly BT.2100 (BT.2020 primaries).
  return (t == Transfer::PQ || t == Transfer::HLG) ? Primaries::BT2020 : Primaries::BT709;
}

Result<HdrImage> read_exr(ByteView bytes, const HdrReadOptions& opt) {
  REGAIN_TRY(exr, decode_exr(bytes, opt.limits));
  HdrImage out;
  out.source_transfer = Transfer::Linear;
  if (exr.primaries) {
    out.primaries = *exr.primaries;
  } else if (opt.primaries) {
    out.primaries = *opt.primaries;
  } else if (exr.chromaticities) {
    return fail(ErrorCode::Unsupported,
                "EXR chromaticities are not BT.709, Display P3 or BT.2020; pass the primaries");
  } else {
    out.primaries = Primaries::BT709;  // the EXR convention when the attribute is absent
  }
  out.rgb = std::move(exr.rgb);  // scene-linear, 1.0 = SDR white by our convention
  return out;
}

Result<HdrImage> read_png(ByteView bytes, const HdrReadOptions& opt) {
  REGAIN_TRY(png, decode_png(bytes, opt.limits));
  std::optional<Transfer> t;
  std::optional<Primaries> p;
  bool narrow = false;
  if (png.cicp) {
    t = transfer_from_cicp(png.cicp->transfer);
    if (!t)
      return fail(ErrorCode::Unsupported, "PNG cICP transfer " + std::to_string(png.cicp->transfer) +
                                              " is not supported (16 PQ, 18 HLG, 8 linear, 13 sRGB)");
    p = primaries_from_cicp(png.cicp->primaries);
    if (!p && !opt.primaries)
      return fail(ErrorCode::Unsupported, "PNG cICP primaries " + std::to_string(png.cicp->primaries) +
                                              " are not supported (1 BT.709, 12 P3, 9 BT.2020)");
    narrow = png.cicp->full_range == 0;
  } else {
    t = opt.transfer;
    if (!t) return fail(ErrorCode::Unsupported, "PNG has no cICP chunk; pass the transfer (pq|hlg|linear)");
  }
  if (!p) p = opt.primaries ? *opt.primaries : default_primaries(*t);
  const bool hdr_curve = *t == Transfer::PQ || *t == Transfer::HLG;
  if (png.bit_depth != 16 && !(png.cicp && hdr_curve))
    return fail(ErrorCode::Unsupported, "HDR PNG must be 16-bit (8-bit only with a PQ/HLG cICP chunk)");
  return from_16bit(png.pixels, *t, *p, narrow, png.bit_depth);
}

Result<HdrImage> read_tiff(ByteView bytes, const HdrReadOptions& opt) {
  REGAIN_TRY(tif, decode_tiff(bytes, opt.limits));
  if (tif.is_float) {
    Transfer t = opt.transfer.value_or(Transfer::Linear);
    HdrImage out;
    out.primaries = opt.primaries.value_or(default_primaries(t));
    out.source_transfer = t;
    const ImageF& s = tif.pixelsf;
    out.rgb = ImageF(s.width(), s.height(), 3);
    const int c = s.channels();
    for (int y = 0; y < s.height(); ++y) {
      const float* sp = s.row(y);
      float* d = out.rgb.row(y);
      for (int x = 0; x < s.width(); ++x, sp += c, d += 3)
        for (int k = 0; k < 3; ++k) {
          float v = sp[c < 3 ? 0 : k];
          if (!std::isfinite(v)) v = 0.f;  // NaN/Inf in a float master are damage, not light
          d[k] = t == Transfer::Linear ? v : signal_to_relative(t, v);
        }
    }
    if (t == Transfer::HLG) apply_hlg_ootf(out.rgb);
    return out;
  }
  Transfer t = opt.transfer.value_or(Transfer::PQ);
  if (tif.bit_depth != 16 && !(opt.transfer && (t == Transfer::PQ || t == Transfer::HLG)))
    return fail(ErrorCode::Unsupported, "HDR TIFF must be 16-bit or float (8-bit only with an explicit PQ/HLG transfer)");
  return from_16bit(tif.pixels16, t, opt.primaries.value_or(default_primaries(t)), false, tif.bit_depth);
}

}  // namespace

ImageF signal_to_relative_light(const Image16& px, int bit_depth, Transfer t) {
  const uint32_t max = (1u << std::clamp(bit_depth, 1, 16)) - 1;
  auto lut = std::make_unique<std::array<float, 65536>>();
  for (uint32_t i = 0; i < 65536; ++i) (*lut)[i] = signal_to_relative(t, float(std::min(i, max)) / float(max));
  ImageF out = convert16(px, *lut);
  if (t == Transfer::HLG) apply_hlg_ootf(out);
  return out;
}

Result<HdrImage> read_hdr_image(ByteView bytes, const HdrReadOptions& opt) {
  const FileType type = sniff_file_type(bytes);
  try {
    switch (type) {
      case FileType::Exr: return read_exr(bytes, opt);
      case FileType::Png: return read_png(bytes, opt);
      case FileType::Tiff: return read_tiff(bytes, opt);
      default: break;
    }
  } catch (const std::bad_alloc&) {  // the output buffers come after the decoders' checks
    return fail(ErrorCode::TooLarge, "HDR image: out of memory");
  }
  return fail(ErrorCode::Unsupported, std::string(kAccepted) + "; got " + file_type_name(type));
}

}  // namespace regain
