#include "container/isobmff.h"

#include <cstdio>

#include "util/bytes.h"

namespace regain::isobmff {

std::string fourcc_name(uint32_t code) {
  std::string s(4, ' ');
  for (int i = 0; i < 4; ++i) {
    char c = char((code >> (24 - 8 * i)) & 0xFF);
    if (c < 0x20 || c > 0x7E) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "0x%08x", code);
      return buf;
    }
    s[i] = c;
  }
  return s;
}

Result<FullBox> full_box(const Box& box) {
  ByteReader r(box.payload);
  uint32_t vf = 0;
  if (!r.u32(vf))
    return fail(ErrorCode::InvalidInput, "'" + fourcc_name(box.type) + "' box at offset " +
                                             std::to_string(box.offset) + " too short for its version/flags");
  FullBox fb;
  fb.version = uint8_t(vf >> 24);
  fb.flags = vf & 0xFFFFFF;
  fb.body = box.payload.subspan(4);
  return fb;
}

Result<BoxList> read_boxes(ByteView data, uint64_t origin, const WalkOptions& opt) {
  BoxList out;
  ByteReader r(data);
  while (r.remaining() > 0) {
    const size_t start = r.pos();
    const uint64_t at = origin + start;
    if (r.remaining() < 8) {
      if (opt.allow_truncated) {
        out.trailing_bytes = r.remaining();
        break;
      }
      return fail(ErrorCode::InvalidInput, std::to_string(r.remaining()) + " stray bytes at offset " +
                                               std::to_string(at) + " (too short for a box header)");
    }
    if (out.boxes.size() >= opt.max_boxes)
      return fail(ErrorCode::TooLarge, "more than " + std::to_string(opt.max_boxes) + " boxes at offset " +
                                           std::to_string(origin));
    Box b;
    b.offset = at;
    uint32_t size32 = 0;
    r.u32(size32);
    r.u32(b.type);
    uint64_t size = size32;
    uint32_t header = 8;
    if (size32 == 1) {
      if (!r.u64(size))
        return fail(ErrorCode::InvalidInput, "'" + fourcc_name(b.type) + "' box at offset " + std::to_string(at) +
                                                 ": largesize cut off");
      header = 16;
    } else if (size32 == 0) {
      b.to_end = true;
      size = data.size() - start;
    }
    if (b.type == fourcc("uuid")) {
      ByteView u;
      if (!r.bytes(16, u))
        return fail(ErrorCode::InvalidInput, "'uuid' box at offset " + std::to_string(at) + ": user type cut off");
      std::copy(u.begin(), u.end(), b.usertype.begin());
      header += 16;
    }
    if (size < header)
      return fail(ErrorCode::InvalidInput, "'" + fourcc_name(b.type) + "' box at offset " + std::to_string(at) +
                                               ": size " + std::to_string(size) + " is smaller than its " +
                                               std::to_string(header) + "-byte header");
    b.header_size = header;
    b.declared_size = size;
    const uint64_t avail = data.size() - start;
    if (size > avail) {
      if (!opt.allow_truncated)
        return fail(ErrorCode::InvalidInput, "'" + fourcc_name(b.type) + "' box at offset " + std::to_string(at) +
                                                 " claims " + std::to_string(size) + " bytes, only " +
                                                 std::to_string(avail) + " left");
      size = avail;
      b.truncated = true;
      out.truncated = true;
    }
    b.size = size;
    b.payload = data.subspan(start + header, size_t(size - header));
    r.seek(start + size_t(size));
    out.boxes.push_back(b);
  }
  return out;
}

namespace {

struct TreeWalk {
  size_t max_nodes;
  size_t nodes = 0;

  // Bytes to skip before the children of a known container; -1 = leaf.
  static long child_offset(const Box& b) {
    switch (b.type) {
      case fourcc("moov"): case fourcc("trak"): case fourcc("mdia"): case fourcc("minf"):
      case fourcc("stbl"): case fourcc("dinf"): case fourcc("edts"): case fourcc("udta"):
      case fourcc("mvex"): case fourcc("moof"): case fourcc("traf"): case fourcc("iprp"):
      case fourcc("ipco"): case fourcc("grpl"): case fourcc("tref"): case fourcc("mfra"):
        return 0;
      case fourcc("meta"):
        // ISO meta is a FullBox; QuickTime's (inside moov/udta) is not: tell by the handler.
        if (b.payload.size() >= 8 && starts_with(b.payload.subspan(4), "hdlr")) return 0;
        return 4;
      case fourcc("iref"):
        return 4;
      case fourcc("dref"):
      case fourcc("stsd"):
        return 8;  // FullBox + entry_count
      case fourcc("iinf"):
        if (b.payload.empty()) return -1;
        return b.payload[0] == 0 ? 6 : 8;  // FullBox + u16/u32 entry_count
      default:
        return -1;
    }
  }

  Result<std::vector<BoxNode>> walk(ByteView data, uint64_t origin, int depth, bool top) {
    if (depth > kMaxDepth)
      return fail(ErrorCode::InvalidInput, "boxes nested deeper than " + std::to_string(kMaxDepth) +
                                               " levels at offset " + std::to_string(origin));
    WalkOptions opt;
    opt.allow_truncated = top;
    opt.max_boxes = max_nodes - nodes;
    auto list = read_boxes(data, origin, opt);
    if (!list) return tl::unexpected(list.error());
    nodes += list->boxes.size();
    std::vector<BoxNode> out;
    out.reserve(list->boxes.size());
    for (const Box& b : list->boxes) {
      BoxNode n{b, {}};
      const long skip = child_offset(b);
      if (skip >= 0 && !b.truncated) {
        if (size_t(skip) > b.payload.size())
          return fail(ErrorCode::InvalidInput, "'" + fourcc_name(b.type) + "' box at offset " +
                                                   std::to_string(b.offset) + " too short for its header fields");
        auto kids = walk(b.payload.subspan(size_t(skip)), b.offset + b.header_size + skip, depth + 1, false);
        if (!kids) return tl::unexpected(with_context(kids.error(), "'" + fourcc_name(b.type) + "'"));
        n.children = std::move(*kids);
      }
      out.push_back(std::move(n));
    }
    return out;
  }
};

}  // namespace

Result<std::vector<BoxNode>> read_box_tree(ByteView file, size_t max_nodes) {
  TreeWalk w{max_nodes};
  return w.walk(file, 0, 0, true);
}

}  // namespace regain::isobmff
