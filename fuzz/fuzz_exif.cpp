// EXIF (the TIFF stream of APP1 "Exif\0\0" or a HEIF Exif item): parse, Apple MakerNote
// headroom, and the privacy rebuild, whose output must parse again.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "container/exif.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  if (auto info = regain::parse_exif(in)) (void)regain::apple_headroom_from_makernote(*info);
  regain::ExifRebuildOptions opt;
  opt.orientation = 1;
  opt.pixel_dimensions = std::pair<uint32_t, uint32_t>{640, 480};
  if (auto rebuilt = regain::rebuild_exif(in, opt)) {
    if (!rebuilt->empty() && !regain::parse_exif(*rebuilt)) std::abort();
  }
  return 0;
}
