// Decoding gain-map JPEGs to linear HDR: base and map decode concurrently, then the map is
// applied band-parallel.
#include <future>

#include "regain/icc.h"
#include "regain/pipeline.h"
#include "util/orientation.h"

namespace regain {

Primaries jpeg_primaries(std::span<const uint8_t> icc) {
  if (icc.empty()) return Primaries::BT709;
  auto info = inspect_icc(icc);
  if (info && info->primaries) return *info->primaries;
  return Primaries::BT709;
}

Result<DecodedHdr> decode_jpegr_hdr(std::span<const uint8_t> file, const DecodeOptions& opt) {
  REGAIN_TRY(jr, read_jpegr(file));
  if (!jr.gain_map || !jr.metadata)
    return fail(ErrorCode::NotFound, jr.gain_map ? "the gain map has no usable metadata" : "no gain map in this file");
  auto map_future = std::async(std::launch::async, [&] {
    // Gain-map codes are not colour managed: decode as stored (1 or 3 channels).
    return decode_jpeg(jr.gain_map_bytes, opt.limits, 0);
  });
  auto base = decode_jpeg(jr.primary_bytes, opt.limits, 3);
  auto map = map_future.get();
  if (!base) return tl::unexpected(with_context(base.error(), "primary image"));
  if (!map) return tl::unexpected(with_context(map.error(), "gain-map image"));
  DecodedHdr out;
  out.meta = *jr.metadata;
  out.source = jr.source;
  out.headroom = opt.headroom ? *opt.headroom : std::max(out.meta.alternate_headroom, out.meta.base_headroom);
  out.primaries = jpeg_primaries(jr.icc);
  ApplyOptions ao;
  ao.display_headroom = out.headroom;
  ao.threads = opt.threads;
  REGAIN_TRY(rgb, apply_gain_map(*base, *map, out.meta, ao));
  out.rgb = opt.apply_orientation ? apply_orientation(rgb, jr.orientation) : std::move(rgb);
  return out;
}

Result<Image8> decode_jpegr_sdr(std::span<const uint8_t> file, const DecodeOptions& opt) {
  REGAIN_TRY(jr, read_jpegr(file));
  REGAIN_TRY(base, decode_jpeg(jr.primary_bytes, opt.limits, 3));
  return opt.apply_orientation ? apply_orientation(base, jr.orientation) : std::move(base);
}

}  // namespace regain
