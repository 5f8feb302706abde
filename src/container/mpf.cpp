#include "container/mpf.h"

#include "util/bytes.h"

namespace regain {

Result<MpfIndex> parse_mpf(std::span<const uint8_t> p) {
  auto bad = [](const std::string& m) { return fail(ErrorCode::InvalidInput, "MPF: " + m); };
  if (p.size() < 8) return bad("index shorter than its header");
  MpfIndex idx;
  if (p[0] == 'M' && p[1] == 'M') idx.big_endian = true;
  else if (p[0] == 'I' && p[1] == 'I') idx.big_endian = false;
  else return bad("unknown byte order");
  ByteReader r(p, idx.big_endian);
  uint16_t magic;
  uint32_t ifd;
  r.skip(2);
  if (!r.u16(magic) || magic != 42) return bad("bad TIFF magic");
  if (!r.u32(ifd) || !r.seek(ifd)) return bad("IFD offset past the segment");
  uint16_t count;
  if (!r.u16(count)) return bad("truncated IFD");
  if (count > 64) return bad("implausible IFD entry count " + std::to_string(count));
  uint32_t entry_count = 0, entry_offset = 0;
  for (int i = 0; i < count; ++i) {
    uint16_t tag, type;
    uint32_t n, value;
    if (!r.u16(tag) || !r.u16(type) || !r.u32(n) || !r.u32(value)) return bad("truncated IFD entry");
    if (tag == 0xB001) idx.number_of_images = value;
    if (tag == 0xB002) {
      if (n % 16) return bad("MPEntry size is not a multiple of 16");
      entry_count = n / 16;
      entry_offset = value;
    }
  }
  if (entry_count == 0) return bad("no MP entries");
  if (entry_count > 1000) return bad("implausible number of MP entries");
  if (!r.seek(entry_offset) || r.remaining() < size_t(entry_count) * 16)
    return bad("MP entries past the end of the segment");
  for (uint32_t i = 0; i < entry_count; ++i) {
    MpfEntry e;
    r.u32(e.attribute);
    r.u32(e.size);
    r.u32(e.offset);
    r.u16(e.dependent1);
    r.u16(e.dependent2);
    idx.entries.push_back(e);
  }
  return idx;
}

std::vector<uint8_t> build_mpf(uint32_t primary_size, uint32_t gainmap_size, uint32_t gainmap_offset) {
  ByteWriter w(true);
  w.append(std::string_view("MPF\0", 4));
  w.append(std::string_view("MM\0*", 4));
  w.u32(8);  // IFD right after the header
  w.u16(3);
  w.u16(0xB000); w.u16(7); w.u32(4); w.append(std::string_view("0100"));  // MPFVersion
  w.u16(0xB001); w.u16(4); w.u32(1); w.u32(2);                             // NumberOfImages
  w.u16(0xB002); w.u16(7); w.u32(32); w.u32(8 + 2 + 3 * 12 + 4);           // MPEntry offset
  w.u32(0);  // no next IFD
  w.u32(0x00030000); w.u32(primary_size); w.u32(0); w.u16(0); w.u16(0);
  w.u32(0); w.u32(gainmap_size); w.u32(gainmap_offset); w.u16(0); w.u16(0);
  return w.take();
}

}  // namespace regain
