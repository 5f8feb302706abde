// Small helpers shared by the HEIF parser files (not part of the public model).
#pragma once
#include <string>

#include "container/heif_structure.h"
#include "util/bytes.h"

namespace regain::heif::detail {

// A NUL-terminated UTF-8 string. Writers sometimes omit the final NUL at the end of a box:
// the rest of the box is taken then. False when longer than kMaxStringBytes.
inline bool read_cstring(ByteReader& r, std::string& out) {
  out.clear();
  uint8_t c = 0;
  while (r.u8(c)) {
    if (c == 0) return true;
    if (out.size() >= kMaxStringBytes) return false;
    out.push_back(char(c));
  }
  return true;
}

// Unsigned integer of 0, 4 or 8 bytes (iloc field sizes). Sizes were validated before.
inline bool read_sized(ByteReader& r, int bytes, uint64_t& v) {
  if (bytes == 0) { v = 0; return true; }
  if (bytes == 4) { uint32_t x; if (!r.u32(x)) return false; v = x; return true; }
  if (bytes == 8) return r.u64(v);
  return false;
}

inline std::string item_label(uint32_t id) { return "item " + std::to_string(id); }

}  // namespace regain::heif::detail
