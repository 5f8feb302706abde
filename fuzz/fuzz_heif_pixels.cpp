// HEIF/AVIF pixel assembly: HEVC (libde265) and AV1 (dav1d) tiles, grids, irot/imir, clap,
// alpha-less aux gain maps, then the HDR rendition. Limits are small so a hostile size is a
// refusal, not an allocation.
#include <cstdint>
#include <span>

#include "regain/pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  regain::DecodeOptions opt;
  opt.limits.max_pixels = 4'000'000;
  opt.limits.max_dimension = 8192;
  opt.threads = 1;
  (void)regain::decode_heif_sdr(in, opt);
  opt.headroom = 1.0;
  (void)regain::decode_heif_hdr(in, opt);
  return 0;
}
