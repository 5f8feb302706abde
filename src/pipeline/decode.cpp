// Decoding gain-map JPEGs to linear HDR. The gain map (small) is decoded first; the base
// then streams out of libjpeg in row bands while worker threads apply the map to finished
// bands, and the decoding thread joins them when it is done. Decode and apply overlap, so
// the total approaches the base decode alone.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "pipeline/gainmap_parts.h"
#include "regain/icc.h"
#include "regain/pipeline.h"
#include "util/orientation.h"
#include "util/parallel.h"

namespace regain {

Primaries jpeg_primaries(std::span<const uint8_t> icc) {
  if (icc.empty()) return Primaries::BT709;
  auto info = inspect_icc(icc);
  if (info && info->primaries) return *info->primaries;
  return Primaries::BT709;
}

namespace {

// Applies `a` to rows of `base` as `decode` produces them.
Result<void> decode_and_apply(std::span<const uint8_t> jpeg, const Limits& limits, const Image8& map,
                              const GainMapMetadata& meta, double headroom, int threads, ImageF& out) {
  REGAIN_TRY(info, jpeg_info(jpeg));
  if (info.width <= 0 || info.height <= 0) return fail(ErrorCode::InvalidInput, "JPEG has zero size");
  if (uint64_t(info.width) * info.height > limits.max_pixels || uint32_t(info.width) > limits.max_dimension ||
      uint32_t(info.height) > limits.max_dimension)
    return fail(ErrorCode::TooLarge, "JPEG is over the pixel limit");
  REGAIN_TRY(applier, GainMapApplier::create(info.width, info.height, map, meta, headroom));
  const int H = info.height;
  Image8 base;
  try {  // both buffers exist before any thread starts
    out = ImageF(info.width, H, 3);
    base = Image8(info.width, H, 3);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::TooLarge, "not enough memory to decode " + std::to_string(info.width) + "x" +
                                         std::to_string(H));
  }

  constexpr int kBand = 32;
  std::atomic<int> next{0};
  int ready = 0;
  bool stop = false;
  std::mutex m;
  std::condition_variable cv;
  ErrorSlot errors;
  auto work = [&] {
    for (;;) {
      const int y0 = next.fetch_add(kBand);
      if (y0 >= H) return;
      const int y1 = std::min(y0 + kBand, H);
      {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return ready >= y1 || stop; });
        if (ready < y1) return;  // decoding failed
      }
      applier.apply_rows(base, y0, y1, out);
    }
  };
  auto worker = [&] { errors.run(work); };
  std::vector<std::thread> pool;
  for (int i = 1; i < std::max(2, resolve_threads(threads)); ++i) {
    try {
      pool.emplace_back(worker);
    } catch (...) {
      break;  // fewer workers; the decoding thread still applies everything afterwards
    }
  }
  auto decoded = decode_jpeg_rows(jpeg, limits, base, [&](int rows) {
    {
      std::lock_guard lock(m);
      ready = rows;
    }
    cv.notify_all();
  });
  {
    std::lock_guard lock(m);
    stop = true;
  }
  cv.notify_all();
  if (decoded && base.height() == H) worker();  // the decoding thread helps with the rest
  for (auto& t : pool) t.join();
  if (!decoded) return tl::unexpected(decoded.error());
  if (errors.failed()) return fail(ErrorCode::TooLarge, "out of memory while applying the gain map");
  if (base.height() != H || base.width() != info.width)
    return fail(ErrorCode::InvalidInput, "JPEG header and data disagree on the image size");
  return {};
}

}  // namespace

Result<DecodedHdr> decode_jpegr_hdr(std::span<const uint8_t> file, const DecodeOptions& opt) {
  REGAIN_TRY(jr, read_jpegr(file));
  if (!jr.gain_map || !jr.metadata) {
    // A damaged file is invalid input, not a photo without a gain map.
    if (jr.damaged) return fail(ErrorCode::InvalidInput, jr.damage);
    return fail(ErrorCode::NotFound, jr.gain_map ? "the gain map has no usable metadata" : "no gain map in this file");
  }
  // Gain-map codes are not colour managed: decode as stored (1 or 3 channels).
  auto map = decode_jpeg(jr.gain_map_bytes, opt.limits, 0);
  if (!map) return tl::unexpected(with_context(map.error(), "gain-map image"));
  DecodedHdr out;
  out.meta = *jr.metadata;
  out.source = jr.source;
  out.headroom = opt.headroom ? *opt.headroom : std::max(out.meta.alternate_headroom, out.meta.base_headroom);
  out.primaries = jpeg_primaries(jr.icc);
  ImageF rgb;
  const std::optional<Primaries> math_space = jpegr_math_space(jr, out.primaries);
  if (math_space) {
    REGAIN_TRY(base8, decode_jpeg(jr.primary_bytes, opt.limits, 3));
    ImageF lin(base8.width(), base8.height(), 3);
    const Mat3 m = gamut_matrix(out.primaries, *math_space);
    const auto& lut = srgb8_to_linear_lut();
    parallel_for(lin.height(), opt.threads, [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) {
        const uint8_t* s = base8.row(y);
        float* d = lin.row(y);
        for (int x = 0; x < lin.width(); ++x) {
          Vec3 v = mul(m, Vec3{lut[s[3 * x]], lut[s[3 * x + 1]], lut[s[3 * x + 2]]});
          d[3 * x] = v[0]; d[3 * x + 1] = v[1]; d[3 * x + 2] = v[2];
        }
      }
    });
    ApplyOptions ao;
    ao.display_headroom = out.headroom;
    ao.threads = opt.threads;
    REGAIN_TRY(applied, apply_gain_map(lin, *map, out.meta, ao));
    rgb = std::move(applied);
    out.primaries = *math_space;
  } else {
    auto r = decode_and_apply(jr.primary_bytes, opt.limits, *map, out.meta, out.headroom, opt.threads, rgb);
    if (!r) return tl::unexpected(with_context(r.error(), "primary image"));
  }
  out.rgb = opt.apply_orientation && jr.orientation > 1 ? apply_orientation(rgb, jr.orientation) : std::move(rgb);
  return out;
}

Result<Image8> decode_jpegr_sdr(std::span<const uint8_t> file, const DecodeOptions& opt) {
  REGAIN_TRY(jr, read_jpegr(file));
  REGAIN_TRY(base, decode_jpeg(jr.primary_bytes, opt.limits, 3));
  return opt.apply_orientation && jr.orientation > 1 ? apply_orientation(base, jr.orientation) : std::move(base);
}

}  // namespace regain
