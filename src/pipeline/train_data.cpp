// Training pairs from gain-map files: the SDR base and the HDR rendition decoded with the
// file's own metadata (so every flavour's offsets, gamma, min/max and the Apple curve are
// honoured by the same code that displays them), both averaged in linear light to a
// training size, and the log2 luminance gain between them.
#include <algorithm>
#include <cmath>

#include "predict/learned_features.h"
#include "regain/pipeline.h"
#include "regain/train.h"

namespace regain {

uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t h) {
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 1099511628211ull;
  }
  return h;
}

Result<TrainPair> load_train_pair(std::span<const uint8_t> file, const std::string& name, int long_side,
                                  int threads) {
  DecodeOptions o;
  o.threads = threads;
  REGAIN_TRY(hdr, decode_gainmap_hdr(file, o));
  if (hdr.meta.base_is_hdr())
    return fail(ErrorCode::Unsupported, "the base rendition is HDR (no SDR base to learn from)");
  REGAIN_TRY(sdr, decode_gainmap_sdr(file, o));
  if (sdr.width() != hdr.rgb.width() || sdr.height() != hdr.rgb.height() || sdr.channels() != 3)
    return fail(ErrorCode::InvalidInput, "SDR and HDR renditions differ in size");
  const auto [w, h] = learned::work_size(sdr.width(), sdr.height(), long_side);
  const ImageF s = learned::average_rgbc(sdr, w, h, threads);
  const ImageF d = learned::average_float(hdr.rgb, w, h);
  const Vec3 k = luminance_weights(hdr.primaries);
  TrainPair p;
  p.name = name;
  p.primaries = hdr.primaries;
  p.metadata_source = metadata_source_name(hdr.source);
  p.file_hash = fnv1a64(file);
  p.sdr = Image8(w, h, 3);
  p.log2_gain = ImageF(w, h, 1);
  constexpr float off = 1.f / 64;
  size_t finite = 0;
  for (size_t i = 0; i < size_t(w) * h; ++i) {
    const float* a = s.data() + 4 * i;
    const float* b = d.data() + 3 * i;
    for (int c = 0; c < 3; ++c)
      p.sdr.data()[3 * i + c] = uint8_t(std::lround(linear_to_srgb(std::clamp(a[c], 0.f, 1.f)) * 255.f));
    const float ys = k[0] * a[0] + k[1] * a[1] + k[2] * a[2];
    const float yh = std::max(0.f, k[0] * b[0] + k[1] * b[1] + k[2] * b[2]);
    float g = std::log2((yh + off) / (std::max(0.f, ys) + off));
    if (!std::isfinite(g)) g = 0.f;
    else ++finite;
    p.log2_gain.data()[i] = std::clamp(g, -4.f, 8.f);
  }
  if (finite == 0) return fail(ErrorCode::InvalidInput, "HDR rendition has no finite pixels");
  return p;
}

}  // namespace regain
