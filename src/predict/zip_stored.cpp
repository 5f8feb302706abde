#include "predict/zip_stored.h"

#include <array>
#include <cstring>

namespace regain::gmnet {

namespace {

uint32_t rd32(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24); }
uint16_t rd16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint64_t rd64(const uint8_t* p) { return rd32(p) | (uint64_t(rd32(p + 4)) << 32); }


Result<void> bad(const std::string& m) { return fail(ErrorCode::InvalidInput, "weights archive: " + m); }

}  // namespace

uint32_t crc32(std::span<const uint8_t> d) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t b : d) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

Result<std::vector<ZipEntry>> zip_list(std::span<const uint8_t> z, size_t max_entries) {
  const uint64_t n = z.size();
  if (n < 22 || rd32(z.data()) != 0x04034b50u) return fail(ErrorCode::InvalidInput, "not a zip archive (torch.save file expected)");
  // End of central directory: within the last 64 KiB + 22 bytes (comment is <= 65535).
  int64_t eocd = -1;
  for (int64_t i = int64_t(n) - 22; i >= 0 && i >= int64_t(n) - 22 - 65535; --i)
    if (rd32(z.data() + i) == 0x06054b50u) { eocd = i; break; }
  if (eocd < 0) return fail(ErrorCode::InvalidInput, "weights archive: no end of central directory (truncated?)");
  const uint8_t* e = z.data() + eocd;
  uint64_t count = rd16(e + 10), cd_size = rd32(e + 12), cd_off = rd32(e + 16);
  if (count == 0xFFFF || cd_off == 0xFFFFFFFFu || cd_size == 0xFFFFFFFFu) {
    // Zip64: the locator sits just before the EOCD and points at the zip64 EOCD record.
    if (eocd < 20 || rd32(z.data() + eocd - 20) != 0x07064b50u) return fail(ErrorCode::InvalidInput, "weights archive: bad zip64 locator");
    uint64_t z64 = rd64(z.data() + eocd - 20 + 8);
    // (n < 56 first: a file shorter than the record made "n - 56" wrap; found by fuzz_models.)
    if (n < 56 || z64 > n - 56 || rd32(z.data() + z64) != 0x06064b50u)
      return fail(ErrorCode::InvalidInput, "weights archive: bad zip64 record");
    count = rd64(z.data() + z64 + 32);
    cd_size = rd64(z.data() + z64 + 40);
    cd_off = rd64(z.data() + z64 + 48);
  }
  if (count > max_entries) return fail(ErrorCode::TooLarge, "weights archive: too many entries");
  if (cd_off > n || cd_size > n - cd_off) return fail(ErrorCode::InvalidInput, "weights archive: central directory out of bounds (truncated?)");
  std::vector<ZipEntry> out;
  uint64_t p = cd_off;
  const uint64_t cd_end = cd_off + cd_size;
  for (uint64_t k = 0; k < count; ++k) {
    if (p + 46 > cd_end) return fail(ErrorCode::InvalidInput, "weights archive: central directory truncated");
    const uint8_t* c = z.data() + p;
    if (rd32(c) != 0x02014b50u) return fail(ErrorCode::InvalidInput, "weights archive: bad central directory entry");
    const uint16_t flags = rd16(c + 8), method = rd16(c + 10);
    ZipEntry ent;
    ent.crc = rd32(c + 16);
    uint64_t csize = rd32(c + 20), usize = rd32(c + 24);
    const uint16_t name_len = rd16(c + 28), extra_len = rd16(c + 30), comment_len = rd16(c + 32);
    uint64_t local = rd32(c + 42);
    if (p + 46 + name_len + extra_len + comment_len > cd_end) return fail(ErrorCode::InvalidInput, "weights archive: central directory truncated");
    ent.name.assign(reinterpret_cast<const char*>(c + 46), name_len);
    // Zip64 extra field: the 0xFFFFFFFF fields, in order usize, csize, local offset.
    const uint8_t* x = c + 46 + name_len;
    for (uint32_t q = 0; q + 4 <= extra_len;) {
      const uint16_t id = rd16(x + q), len = rd16(x + q + 2);
      if (q + 4 + len > extra_len) return fail(ErrorCode::InvalidInput, "weights archive: bad extra field");
      if (id == 0x0001) {
        const uint8_t* f = x + q + 4;
        uint32_t used = 0;
        auto take = [&](uint64_t& v) -> bool {
          if (v != 0xFFFFFFFFu) return true;
          if (used + 8 > len) return false;
          v = rd64(f + used);
          used += 8;
          return true;
        };
        if (!take(usize) || !take(csize) || !take(local)) return fail(ErrorCode::InvalidInput, "weights archive: bad zip64 field");
      }
      q += 4 + len;
    }
    if (flags & 1) return fail(ErrorCode::Unsupported, "weights archive: encrypted entries are not supported");
    if (method != 0) return fail(ErrorCode::Unsupported, "weights archive: compressed entry '" + ent.name + "' (only stored entries, as torch.save writes)");
    if (csize != usize) return fail(ErrorCode::InvalidInput, "weights archive: stored entry sizes disagree");
    if (local > n || n - local < 30 || rd32(z.data() + local) != 0x04034b50u)
      return fail(ErrorCode::InvalidInput, "weights archive: bad local header for '" + ent.name + "'");
    const uint8_t* l = z.data() + local;
    const uint64_t data = local + 30 + rd16(l + 26) + rd16(l + 28);
    if (data > n || usize > n - data) return fail(ErrorCode::InvalidInput, "weights archive: entry '" + ent.name + "' out of bounds (truncated?)");
    ent.offset = data;
    ent.size = usize;
    out.push_back(std::move(ent));
    p += 46 + name_len + extra_len + comment_len;
  }
  return out;
}

Result<void> zip_verify(std::span<const uint8_t> z, const ZipEntry& e) {
  if (crc32(z.subspan(e.offset, e.size)) != e.crc) return bad("CRC mismatch in '" + e.name + "' (corrupt file)");
  return {};
}

}  // namespace regain::gmnet
