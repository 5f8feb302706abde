// ISO 21496-1 gain-map metadata payloads (JPEG APP2 and HEIF tmap). Whatever decodes must
// encode, and our encoding must decode again.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "container/iso21496.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  (void)regain::decode_iso_version(in);
  auto m = regain::decode_iso21496(in);
  if (!m) return 0;
  if (auto bytes = regain::encode_iso21496(*m)) {
    if (auto again = regain::decode_iso21496(*bytes); !again) {
      std::fprintf(stderr, "our encoding does not decode: %s\n", again.error().message.c_str());
      std::abort();
    }
  }
  return 0;
}
