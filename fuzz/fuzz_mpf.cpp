// MPF (CIPA DC-007) index in APP2: the directory that points at the gain-map JPEG.
#include <cstdint>
#include <span>

#include "container/mpf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)regain::parse_mpf(std::span<const uint8_t>(data, size));
  return 0;
}
