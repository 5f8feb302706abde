// XMP packets from any file: namespace-resolved parse, hdrgm and Apple properties, and the
// merges the writers do with a user's existing packet (whose output must parse again).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "container/xmp.h"
#include "regain/gainmap.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto x = regain::parse_xmp(text)) {
    (void)regain::hdrgm_from_xmp(*x);
    (void)regain::apple_from_xmp(*x);
  }
  if (auto merged = regain::merge_primary_xmp(text, 12345)) {
    if (!regain::parse_xmp(*merged)) std::abort();
  }
  if (auto merged = regain::merge_gainmap_xmp(text, regain::GainMapMetadata{})) {
    if (!regain::parse_xmp(*merged)) std::abort();
  }
  (void)regain::strip_gain_map_xmp(text);
  return 0;
}
