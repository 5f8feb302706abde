// JPEG_R / Adobe / Apple JPEG: segment walk, MPF, XMP, EXIF, ISO 21496-1 and ICC as `inspect`
// reaches them, then `repair`, whose output must read back as a valid gain-map JPEG.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "container/jpeg_segments.h"
#include "regain/jpegr.h"
#include "regain/pipeline.h"
#include "regain/report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  if (auto s = regain::parse_jpeg_stream(in)) (void)regain::collect_icc(in, *s);
  auto jr = regain::read_jpegr(in);
  if (!jr) return 0;
  (void)regain::jpegr_to_json(*jr).dump();
  if (auto fixed = regain::repair_jpegr(in); fixed && !fixed->bytes.empty()) {
    // What repair writes is ours: it must parse, and carry a gain map when it says so.
    auto again = regain::read_jpegr(fixed->bytes);
    if (!again) std::abort();
  }
  return 0;
}
