// JPEG_R encoding. The base JPEG encode (the single largest cost) runs on its own thread
// while the gain map is computed and encoded on the caller's thread.
#include <atomic>
#include <thread>

#include "container/exif.h"
#include "regain/icc.h"
#include "regain/pipeline.h"
#include "util/parallel.h"

namespace regain {

namespace {

Result<std::vector<uint8_t>> encode_map(const ComputedGainMap& cg, int quality) {
  JpegEncodeOptions jo;
  jo.quality = quality;
  jo.subsample_420 = false;  // per-channel maps must not lose chroma resolution
  return encode_jpeg(cg.map, jo);
}

JpegrWriteOptions container_options(const EncodeOptions& opt, bool fresh_base) {
  JpegrWriteOptions c = opt.container;
  // A freshly encoded base has no ICC: describe its primaries so viewers colour-manage it.
  if (fresh_base && !c.icc) c.icc = make_display_icc(opt.gain.primaries);
  return c;
}

}  // namespace

Result<std::vector<uint8_t>> encode_jpegr(const Image8& sdr, const ImageF& hdr, const EncodeOptions& opt) {
  if (sdr.channels() != 3) return fail(ErrorCode::InvalidInput, "encode: SDR must be RGB");
  REGAIN_TRY(computer, GainMapComputer::create(sdr, hdr, opt.gain));
  JpegEncodeOptions bo;
  bo.quality = opt.base_quality;
  bo.subsample_420 = true;
  // The base encode (CPU-bound) and the map computation (memory-bound) overlap: map rows
  // are handed out from a shared counter; one thread starts on them at once, the other
  // encodes the base first and then joins, so no core idles.
  constexpr int kChunk = 8;
  std::atomic<int> next{0};
  auto compute_share = [&] {
    for (int r; (r = next.fetch_add(kChunk)) < computer.map_rows();)
      computer.compute_rows(r, std::min(r + kChunk, computer.map_rows()));
  };
  Result<std::vector<uint8_t>> base = fail(ErrorCode::Internal, "base not encoded");
  ErrorSlot errors;
  std::vector<std::thread> threads;
  auto spawn = [&](auto fn) {
    try {
      threads.emplace_back([&errors, fn] { errors.run(fn); });
      return true;
    } catch (...) {
      return false;
    }
  };
  auto base_job = [&] {
    base = encode_jpeg(sdr, bo);
    compute_share();
  };
  if (!spawn(base_job)) errors.run(base_job);  // no thread to be had: do it here
  for (int i = 2; i < resolve_threads(opt.threads); ++i) spawn(compute_share);
  errors.run(compute_share);
  for (auto& t : threads) t.join();
  if (errors.failed()) return fail(ErrorCode::TooLarge, "out of memory while encoding");
  if (!base) return tl::unexpected(base.error());
  REGAIN_TRY(cg, computer.finish());
  REGAIN_TRY(map_jpeg, encode_map(cg, opt.map_quality));
  return assemble_jpegr(*base, map_jpeg, cg.meta, container_options(opt, true));
}

Result<std::vector<uint8_t>> encode_jpegr_from_jpeg(std::span<const uint8_t> sdr_jpeg, const ImageF& hdr,
                                                    const EncodeOptions& opt) {
  REGAIN_TRY(sdr, decode_jpeg(sdr_jpeg, {}, 3));
  REGAIN_TRY(cg, compute_gain_map(sdr, hdr, opt.gain));
  REGAIN_TRY(map_jpeg, encode_map(cg, opt.map_quality));
  return assemble_jpegr(sdr_jpeg, map_jpeg, cg.meta, container_options(opt, false));
}

Result<std::vector<uint8_t>> package_jpegr(std::span<const uint8_t> sdr_jpeg, const Image8& gain_map,
                                           const GainMapMetadata& meta, const EncodeOptions& opt) {
  if (gain_map.channels() != 1 && gain_map.channels() != 3)
    return fail(ErrorCode::InvalidInput, "gain map must have 1 or 3 channels");
  if (gain_map.channels() == 3 && !meta.multichannel && !meta.channels_equal())
    return fail(ErrorCode::InvalidInput, "3-channel gain map needs per-channel metadata");
  ComputedGainMap cg{gain_map, meta};
  REGAIN_TRY(map_jpeg, encode_map(cg, opt.map_quality));
  return assemble_jpegr(sdr_jpeg, map_jpeg, meta, container_options(opt, false));
}

}  // namespace regain
