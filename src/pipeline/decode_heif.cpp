// Decoding gain-map HEIC / AVIF files to their HDR and SDR renditions. The base may be SDR
// (phones, most files) or HDR (libavif's HDR-base files, where the map leads down to SDR).
#include <algorithm>

#include "container/heif_decode.h"
#include "pipeline/gainmap_parts.h"
#include "regain/pipeline.h"
#include "util/parallel.h"
#include "util/rgb8.h"

namespace regain {

Result<DecodedHdr> decode_heif_hdr(std::span<const uint8_t> file, const DecodeOptions& opt) {
  REGAIN_TRY(hf, read_heif(file, opt.limits));
  if (!hf.gain_map || !hf.metadata) {
    if (hf.damaged) return fail(ErrorCode::InvalidInput, hf.damage);
    return fail(ErrorCode::NotFound, hf.gain_map ? "the gain map has no usable metadata" : "no gain map in this file");
  }
  auto base = decode_heif_item(hf, file, hf.primary, opt.limits, opt.threads);
  if (!base) return tl::unexpected(with_context(base.error(), "primary image"));
  auto mapped = decode_heif_item(hf, file, *hf.gain_map, opt.limits, opt.threads);
  if (!mapped) return tl::unexpected(with_context(mapped.error(), "gain-map image"));
  const Image8 map = heif_to_8bit(*mapped);

  DecodedHdr out;
  out.meta = *hf.metadata;
  out.source = hf.source;
  out.headroom = opt.headroom ? *opt.headroom : std::max(out.meta.alternate_headroom, out.meta.base_headroom);
  out.primaries = heif_primaries(*base);
  const Transfer transfer = heif_transfer(*base);
  const std::optional<Primaries> math_space = heif_math_space(hf, out.primaries);
  ApplyOptions ao;
  ao.display_headroom = out.headroom;
  ao.threads = opt.threads;
  if (!math_space && base->bit_depth == 8 && base->pixels.channels() == 3 &&
      (transfer == Transfer::SRGB || transfer == Transfer::BT709)) {
    REGAIN_TRY(rgb, apply_gain_map(heif_to_8bit(*base), map, out.meta, ao, transfer));
    out.rgb = std::move(rgb);
    return out;
  }
  ImageF lin = signal_to_relative_light(base->pixels, base->bit_depth, transfer);
  base->pixels = Image16();
  if (math_space) {
    const Mat3 m = gamut_matrix(out.primaries, *math_space);
    parallel_for(lin.height(), opt.threads, [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) {
        float* p = lin.row(y);
        for (int x = 0; x < lin.width(); ++x, p += 3) {
          const Vec3 v = mul(m, Vec3{p[0], p[1], p[2]});
          p[0] = v[0], p[1] = v[1], p[2] = v[2];
        }
      }
    });
    out.primaries = *math_space;
  }
  REGAIN_TRY(rgb, apply_gain_map(lin, map, out.meta, ao));
  out.rgb = std::move(rgb);
  return out;
}

Result<Image8> decode_heif_sdr(std::span<const uint8_t> file, const DecodeOptions& opt) {
  REGAIN_TRY(hf, read_heif(file, opt.limits));
  // An SDR base (the transfer comes from the item's nclx) is decoded straight to 8 bits.
  const bool sdr_base = !is_hdr_transfer(hf.primary.nclx);
  REGAIN_TRY(base, decode_heif_item(hf, file, hf.primary, opt.limits, opt.threads, sdr_base));
  const Transfer t = heif_transfer(base);
  if (t != Transfer::PQ && t != Transfer::HLG && t != Transfer::Linear) return to_rgb8(take_8bit(std::move(base)));
  // An HDR base: the SDR rendition is the gain map applied all the way down (headroom 0).
  if (!hf.gain_map || !hf.metadata)
    return fail(ErrorCode::Unsupported, "the primary image is HDR and there is no gain map to an SDR rendition");
  DecodeOptions d = opt;
  d.headroom = 0.0;
  REGAIN_TRY(hdr, decode_heif_hdr(file, d));
  Image8 out(hdr.rgb.width(), hdr.rgb.height(), 3);
  for (size_t i = 0, n = out.size(); i < n; ++i)
    out.data()[i] = uint8_t(std::clamp(linear_to_srgb(std::clamp(hdr.rgb.data()[i], 0.f, 1.f)) * 255.f + 0.5f, 0.f, 255.f));
  return out;
}

namespace {
// A recognised image type that cannot hold a gain map: say so, rather than "not a JPEG".
std::optional<Error> not_a_gainmap_type(FileType t) {
  if (t == FileType::Unknown || may_carry_gain_map(t)) return std::nullopt;  // unknown: the parser says why
  return Error{ErrorCode::Unsupported, std::string("gain maps are read from JPEG, HEIC and AVIF files; this is ") +
                                           file_type_name(t)};
}
}  // namespace

Result<DecodedHdr> decode_gainmap_hdr(std::span<const uint8_t> file, const DecodeOptions& opt) {
  const FileType t = sniff_file_type(file);
  if (auto e = not_a_gainmap_type(t)) return tl::unexpected(*e);
  if (t == FileType::Heif || t == FileType::Avif) return decode_heif_hdr(file, opt);
  return decode_jpegr_hdr(file, opt);
}

Result<Image8> decode_gainmap_sdr(std::span<const uint8_t> file, const DecodeOptions& opt) {
  const FileType t = sniff_file_type(file);
  if (auto e = not_a_gainmap_type(t)) return tl::unexpected(*e);
  if (t == FileType::Heif || t == FileType::Avif) return decode_heif_sdr(file, opt);
  return decode_jpegr_sdr(file, opt);
}

}  // namespace regain
