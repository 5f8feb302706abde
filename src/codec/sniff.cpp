// File type from magic bytes. Names and extensions lie (a ".jpg" from a phone is often a
// HEIF), so every entry point decides from content.
#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <string_view>

#include "regain/codec.h"

namespace regain {

namespace {

bool has_prefix(ByteView b, std::initializer_list<uint8_t> magic) {
  if (b.size() < magic.size()) return false;
  return std::equal(magic.begin(), magic.end(), b.begin());
}

// ISOBMFF: [size:4]["ftyp"][major brand:4][minor version:4][compatible brands:4*n].
// AVIF files usually list mif1 too, so an avif/avis brand anywhere wins over the
// generic HEIF brands.
FileType sniff_isobmff(ByteView b) {
  if (b.size() < 16 || std::memcmp(b.data() + 4, "ftyp", 4) != 0) return FileType::Unknown;
  uint32_t box = uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
  // size 1 means a 64-bit size follows (brands then start later); too exotic for ftyp.
  if (box < 16) return FileType::Unknown;
  size_t end = std::min<size_t>(box, b.size());
  bool avif = false, heif = false;
  auto check = [&](size_t off) {
    std::string_view brand(reinterpret_cast<const char*>(b.data() + off), 4);
    if (brand == "avif" || brand == "avis") avif = true;
    if (brand == "heic" || brand == "heix" || brand == "mif1" || brand == "msf1" ||
        brand == "heim" || brand == "heis" || brand == "hevc")
      heif = true;
  };
  check(8);  // major brand
  for (size_t off = 16; off + 4 <= end; off += 4) check(off);
  if (avif) return FileType::Avif;
  if (heif) return FileType::Heif;
  return FileType::Unknown;
}

}  // namespace

FileType sniff_file_type(ByteView b) {
  if (has_prefix(b, {0xFF, 0xD8, 0xFF})) return FileType::Jpeg;
  if (has_prefix(b, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) return FileType::Png;
  if (has_prefix(b, {'I', 'I', 0x2A, 0x00}) || has_prefix(b, {'M', 'M', 0x00, 0x2A}))
    return FileType::Tiff;
  if (has_prefix(b, {0x76, 0x2F, 0x31, 0x01})) return FileType::Exr;
  if (b.size() >= 12 && has_prefix(b, {'R', 'I', 'F', 'F'}) && std::memcmp(b.data() + 8, "WEBP", 4) == 0)
    return FileType::Webp;
  return sniff_isobmff(b);
}

const char* file_type_name(FileType t) {
  switch (t) {
    case FileType::Jpeg: return "jpeg";
    case FileType::Png: return "png";
    case FileType::Tiff: return "tiff";
    case FileType::Exr: return "exr";
    case FileType::Heif: return "heif";
    case FileType::Avif: return "avif";
    case FileType::Webp: return "webp";
    case FileType::Unknown: break;
  }
  return "unknown";
}

bool may_carry_gain_map(FileType t) { return t == FileType::Jpeg || t == FileType::Heif || t == FileType::Avif; }

}  // namespace regain
