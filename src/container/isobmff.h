// Generic ISOBMFF (ISO/IEC 14496-12) box walking: box headers (32-bit size, 64-bit
// largesize, size 0 = "to the end of the enclosing data", 'uuid' user types), FullBox
// version/flags, and a bounded tree walk for listing. Nothing here knows HEIF; the HEIF
// structure parser (heif_structure.h) sits on top.
//
// Boxes are views: `payload` points into the caller's buffer and lives as long as it does.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "regain/codec.h"
#include "regain/error.h"

namespace regain::isobmff {

// Four-character codes are kept as big-endian u32 ('ftyp' = 0x66747970), so they compare
// and switch cheaply.
constexpr uint32_t fourcc(const char (&s)[5]) {
  return uint32_t(uint8_t(s[0])) << 24 | uint32_t(uint8_t(s[1])) << 16 | uint32_t(uint8_t(s[2])) << 8 |
         uint32_t(uint8_t(s[3]));
}
// Printable form: the four characters when they are printable ASCII, else "0x%08x".
std::string fourcc_name(uint32_t code);

// Nesting deeper than this is refused (a legitimate HEIF is 4 deep: meta/iprp/ipco/prop).
inline constexpr int kMaxDepth = 32;

struct Box {
  uint32_t type = 0;
  std::array<uint8_t, 16> usertype{};  // only for type 'uuid'
  uint64_t offset = 0;       // file offset of the box header (origin + position in the parent)
  uint32_t header_size = 0;  // 8, 16 with largesize, +16 for 'uuid'
  uint64_t size = 0;         // header + payload as present (clipped when `truncated`)
  bool to_end = false;       // size field was 0: the box runs to the end of its parent
  bool truncated = false;    // declared size ran past the data (only when the walk allowed it)
  uint64_t declared_size = 0;  // what the header said (== size unless truncated)
  ByteView payload;          // after the header; a view into the caller's buffer
};

// FullBox fields and the bytes after them.
struct FullBox {
  uint8_t version = 0;
  uint32_t flags = 0;  // 24 bits
  ByteView body;
};
Result<FullBox> full_box(const Box& box);

struct WalkOptions {
  // Top level only: a last box whose size runs past the end is returned clipped and
  // flagged instead of failing (truncated downloads still show their structure).
  bool allow_truncated = false;
  size_t max_boxes = 100000;  // per call
};

struct BoxList {
  std::vector<Box> boxes;
  bool truncated = false;     // the last box was clipped
  size_t trailing_bytes = 0;  // fewer than 8 bytes left after the last box (allow_truncated only)
};

// The consecutive boxes that make up `data`, whose first byte is at file offset `origin`.
// Errors: a size smaller than its header, a size past the data (unless allowed), too many.
Result<BoxList> read_boxes(ByteView data, uint64_t origin, const WalkOptions& opt = {});

// A box and its children, for listing (`regain inspect`).
struct BoxNode {
  Box box;
  std::vector<BoxNode> children;
};

// The whole file as a tree. Descends into the containers whose layout is known (moov/trak/
// ... , meta, iprp, ipco, iinf, iref, dinf, dref, grpl); leaves everything else opaque.
// Depth is limited to kMaxDepth and the total node count to `max_nodes`.
Result<std::vector<BoxNode>> read_box_tree(ByteView file, size_t max_nodes = 100000);

}  // namespace regain::isobmff
