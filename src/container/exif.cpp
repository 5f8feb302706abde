#include "container/exif.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <string_view>

#include "util/bytes.h"

namespace regain {
namespace {

// Real IFDs hold tens of entries; a count in the thousands means we are reading garbage, and a
// cap keeps hostile input from making us allocate or loop for long.
constexpr uint16_t kMaxIfdEntries = 1000;
constexpr size_t kEntrySize = 12;

constexpr uint16_t kTagMake = 0x010F;
constexpr uint16_t kTagModel = 0x0110;
constexpr uint16_t kTagOrientation = 0x0112;
constexpr uint16_t kTagSoftware = 0x0131;
constexpr uint16_t kTagThumbnailOffset = 0x0201;
constexpr uint16_t kTagExifIfd = 0x8769;
constexpr uint16_t kTagGpsIfd = 0x8825;
constexpr uint16_t kTagDateTimeOriginal = 0x9003;
constexpr uint16_t kTagMakerNote = 0x927C;
constexpr uint16_t kTagPixelX = 0xA002;
constexpr uint16_t kTagPixelY = 0xA003;
constexpr uint16_t kTagAppleHeadroom = 0x0021;
constexpr uint16_t kTagAppleGain = 0x0030;

constexpr uint16_t kTypeShort = 3;
constexpr uint16_t kTypeLong = 4;

// Kept sorted so membership is a binary search.
constexpr std::array<uint16_t, 11> kIfd0Allowed = {
    0x010F, 0x0110, 0x0112, 0x011A, 0x011B, 0x0128, 0x0131, 0x0132, 0x013B, 0x0213, 0x8298};
// BodySerialNumber, MakerNote, UserComment and anything unknown are left out on purpose: they
// identify the owner or carry vendor data we cannot vouch for after an edit.
constexpr std::array<uint16_t, 29> kExifAllowed = {
    0x829A, 0x829D, 0x8822, 0x8827, 0x9000, 0x9003, 0x9004, 0x9010, 0x9011, 0x9012,
    0x9201, 0x9202, 0x9203, 0x9204, 0x9205, 0x9207, 0x9209, 0x920A, 0x9290, 0x9291,
    0x9292, 0xA001, 0xA402, 0xA403, 0xA405, 0xA406, 0xA432, 0xA433, 0xA434};

static_assert(std::is_sorted(kIfd0Allowed.begin(), kIfd0Allowed.end()));
static_assert(std::is_sorted(kExifAllowed.begin(), kExifAllowed.end()));

template <size_t N>
bool allowed(const std::array<uint16_t, N>& list, uint16_t tag) {
  return std::binary_search(list.begin(), list.end(), tag);
}

tl::unexpected<Error> bad(const std::string& m) { return fail(ErrorCode::InvalidInput, "EXIF: " + m); }

size_t type_size(uint16_t type) {
  switch (type) {
    case 1: case 2: case 6: case 7: return 1;  // BYTE, ASCII, SBYTE, UNDEFINED
    case 3: case 8: return 2;                  // SHORT, SSHORT
    case 4: case 9: case 11: case 13: return 4;  // LONG, SLONG, FLOAT, IFD
    case 5: case 10: case 12: return 8;        // RATIONAL, SRATIONAL, DOUBLE
    default: return 0;
  }
}

struct Entry {
  uint16_t tag = 0, type = 0;
  uint32_t count = 0;
  // The value's bytes in the stream's byte order; nullopt for unknown types and for values that
  // would lie (partly) outside the data, so callers can drop one bad entry and keep the rest.
  std::optional<std::span<const uint8_t>> value;
};

struct Ifd {
  std::vector<Entry> entries;
  uint32_t next = 0;
};

std::optional<std::span<const uint8_t>> locate_value(std::span<const uint8_t> data, bool be,
                                                     uint16_t type, uint32_t count,
                                                     std::span<const uint8_t> field) {
  size_t ts = type_size(type);
  if (ts == 0) return std::nullopt;
  // 64-bit so count * size cannot wrap even where size_t is 32 bits.
  uint64_t size = uint64_t(count) * ts;
  if (size <= 4) return field.first(size_t(size));
  ByteReader fr(field, be);
  uint32_t off = 0;
  fr.u32(off);
  if (off > data.size() || size > data.size() - off) return std::nullopt;
  return data.subspan(off, size_t(size));
}

// `data` is the space that value offsets are counted from: the whole TIFF stream, or the
// MakerNote field for Apple's MakerNote IFD.
Result<Ifd> read_ifd(std::span<const uint8_t> data, bool be, uint32_t offset, const char* what) {
  ByteReader r(data, be);
  uint16_t n = 0;
  if (!r.seek(offset) || !r.u16(n)) return bad(std::string(what) + " offset past the end");
  if (n > kMaxIfdEntries) return bad(std::string(what) + " has implausibly many entries (" +
                                     std::to_string(n) + ")");
  if (r.remaining() < size_t(n) * kEntrySize) return bad(std::string(what) + " truncated");
  Ifd ifd;
  ifd.entries.reserve(n);
  for (uint16_t i = 0; i < n; ++i) {
    Entry e;
    std::span<const uint8_t> field;
    r.u16(e.tag);
    r.u16(e.type);
    r.u32(e.count);
    r.bytes(4, field);
    e.value = locate_value(data, be, e.type, e.count, field);
    ifd.entries.push_back(e);
  }
  // Some writers end the stream right after the last entry; that reads as "no next IFD".
  if (!r.u32(ifd.next)) ifd.next = 0;
  return ifd;
}

// First element of a numeric entry as double; nullopt for non-numeric types, zero
// denominators and non-finite values.
std::optional<double> first_number(const Entry& e, bool be) {
  if (!e.value || e.count == 0) return std::nullopt;
  ByteReader r(*e.value, be);
  double v = 0;
  switch (e.type) {
    case 1: { uint8_t x; if (!r.u8(x)) return std::nullopt; v = x; break; }
    case 6: { uint8_t x; if (!r.u8(x)) return std::nullopt; v = int8_t(x); break; }
    case 3: { uint16_t x; if (!r.u16(x)) return std::nullopt; v = x; break; }
    case 8: { uint16_t x; if (!r.u16(x)) return std::nullopt; v = int16_t(x); break; }
    case 4: case 13: { uint32_t x; if (!r.u32(x)) return std::nullopt; v = x; break; }
    case 9: { int32_t x; if (!r.s32(x)) return std::nullopt; v = x; break; }
    case 5: {
      uint32_t num, den;
      if (!r.u32(num) || !r.u32(den) || den == 0) return std::nullopt;
      v = double(num) / double(den);
      break;
    }
    case 10: {
      int32_t num, den;
      if (!r.s32(num) || !r.s32(den) || den == 0) return std::nullopt;
      v = double(num) / double(den);
      break;
    }
    case 11: { uint32_t x; if (!r.u32(x)) return std::nullopt; v = std::bit_cast<float>(x); break; }
    case 12: { uint64_t x; if (!r.u64(x)) return std::nullopt; v = std::bit_cast<double>(x); break; }
    default: return std::nullopt;
  }
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

// Offsets stored in pointer tags. SHORT is tolerated because a few writers use it for small
// streams; anything else is not a usable pointer.
std::optional<uint32_t> first_u32(const Entry& e, bool be) {
  if (!e.value || e.count == 0) return std::nullopt;
  ByteReader r(*e.value, be);
  if (e.type == kTypeShort) {
    uint16_t x;
    if (!r.u16(x)) return std::nullopt;
    return x;
  }
  if (e.type == kTypeLong || e.type == 13) {
    uint32_t x;
    if (!r.u32(x)) return std::nullopt;
    return x;
  }
  return std::nullopt;
}

std::string ascii_value(const Entry& e) {
  if (!e.value || e.type != 2) return {};
  const auto& v = *e.value;
  size_t n = 0;
  while (n < v.size() && v[n] != 0) ++n;
  std::string s(reinterpret_cast<const char*>(v.data()), n);
  // Cameras pad fixed-width fields with spaces.
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

struct Header {
  bool big_endian = false;
  uint32_t ifd0 = 0;
};

Result<Header> read_header(std::span<const uint8_t> tiff) {
  if (tiff.size() < 8) return bad("shorter than a TIFF header");
  Header h;
  if (tiff[0] == 'M' && tiff[1] == 'M') h.big_endian = true;
  else if (tiff[0] == 'I' && tiff[1] == 'I') h.big_endian = false;
  else return bad("unknown byte order");
  ByteReader r(tiff, h.big_endian);
  uint16_t magic = 0;
  r.skip(2);
  r.u16(magic);
  r.u32(h.ifd0);
  if (magic != 42) return bad("bad TIFF magic " + std::to_string(magic));
  if (h.ifd0 < 8 || h.ifd0 >= tiff.size()) return bad("IFD0 offset outside the stream");
  // Offsets are 32-bit; a larger buffer cannot be a single TIFF stream we could rewrite.
  if (tiff.size() > std::numeric_limits<uint32_t>::max()) return bad("stream larger than 4 GiB");
  return h;
}

// Apple's MakerNote is vendor data; damage inside it only costs the two headroom tags, never
// the standard tags the caller also needs (orientation above all).
void read_apple_makernote(std::span<const uint8_t> mn, ExifInfo& info) {
  static constexpr std::string_view kSignature("Apple iOS\0", 10);
  if (!starts_with(mn, kSignature)) return;
  info.has_apple_makernote = true;
  if (mn.size() < 14) return;
  // Header is "Apple iOS\0", a 2-byte version, then the byte order of the IFD that follows.
  bool be = !(mn[12] == 'I' && mn[13] == 'I');
  auto ifd = read_ifd(mn, be, 14, "Apple MakerNote");
  if (!ifd) return;
  for (const Entry& e : ifd->entries) {
    if (e.tag == kTagAppleHeadroom && !info.apple_maker33) info.apple_maker33 = first_number(e, be);
    if (e.tag == kTagAppleGain && !info.apple_maker48) info.apple_maker48 = first_number(e, be);
  }
}

// Sub-IFD pointer of IFD0, 0 meaning absent.
uint32_t pointer_tag(const Ifd& ifd, uint16_t tag, bool be) {
  for (const Entry& e : ifd.entries)
    if (e.tag == tag) return first_u32(e, be).value_or(0);
  return 0;
}

// ---- rebuilding ------------------------------------------------------------------------------

struct OutEntry {
  uint16_t tag = 0, type = 0;
  uint32_t count = 0;
  std::vector<uint8_t> data;  // already in the output byte order
};

// Copies allow-listed entries whose data is intact. `budget` (the input size) bounds what the
// copies may occupy in the output: hostile input can make IFDs overlap and many entries share
// one data block, and without a bound a small stream could expand into a huge one. Entries and
// values of a sane file are disjoint, so it never runs out for one.
template <class Pred>
std::vector<OutEntry> copy_entries(const Ifd& ifd, Pred keep, size_t& budget) {
  std::vector<OutEntry> out;
  for (const Entry& e : ifd.entries) {
    if (!keep(e.tag) || !e.value) continue;
    size_t n = e.value->size();
    size_t cost = kEntrySize + (n > 4 ? n : 0);
    if (cost > budget) continue;
    budget -= cost;
    out.push_back({e.tag, e.type, e.count, {e.value->begin(), e.value->end()}});
  }
  return out;
}

void set_entry(std::vector<OutEntry>& es, OutEntry e) {
  for (auto& x : es) {
    if (x.tag == e.tag) {
      x = std::move(e);
      return;
    }
  }
  es.push_back(std::move(e));
}

OutEntry short_entry(uint16_t tag, uint16_t v, bool be) {
  ByteWriter w(be);
  w.u16(v);
  return {tag, kTypeShort, 1, w.take()};
}

OutEntry long_entry(uint16_t tag, uint32_t v, bool be) {
  ByteWriter w(be);
  w.u32(v);
  return {tag, kTypeLong, 1, w.take()};
}

// TIFF readers binary-search IFDs, so entries must be ascending and unique; the first of
// duplicated input tags wins, matching what parse_exif reports.
void sort_unique(std::vector<OutEntry>& es) {
  std::stable_sort(es.begin(), es.end(),
                   [](const OutEntry& a, const OutEntry& b) { return a.tag < b.tag; });
  es.erase(std::unique(es.begin(), es.end(),
                       [](const OutEntry& a, const OutEntry& b) { return a.tag == b.tag; }),
           es.end());
}

void pad_to_word(ByteWriter& w) {
  if (w.size() & 1) w.u8(0);
}

// Writes an IFD (entries then out-of-line values) at the end of `w`, which starts at the TIFF
// header so positions are TIFF offsets. Returns each entry's value-field position for patching.
std::vector<size_t> write_ifd(ByteWriter& w, const std::vector<OutEntry>& es) {
  pad_to_word(w);
  std::vector<size_t> value_pos;
  size_t data_pos = w.size() + 2 + es.size() * kEntrySize + 4;
  w.u16(uint16_t(es.size()));
  for (const OutEntry& e : es) {
    w.u16(e.tag);
    w.u16(e.type);
    w.u32(e.count);
    value_pos.push_back(w.size());
    if (e.data.size() <= 4) {
      w.append(e.data);
      for (size_t i = e.data.size(); i < 4; ++i) w.u8(0);
    } else {
      w.u32(uint32_t(data_pos));
      data_pos += e.data.size() + (e.data.size() & 1);
    }
  }
  w.u32(0);  // no next IFD: thumbnails (IFD1) are never carried over
  for (const OutEntry& e : es) {
    if (e.data.size() <= 4) continue;
    w.append(e.data);
    pad_to_word(w);
  }
  return value_pos;
}

size_t index_of(const std::vector<OutEntry>& es, uint16_t tag) {
  for (size_t i = 0; i < es.size(); ++i)
    if (es[i].tag == tag) return i;
  return es.size();
}

}  // namespace

Result<ExifInfo> parse_exif(std::span<const uint8_t> tiff) {
  REGAIN_TRY(hdr, read_header(tiff));
  const bool be = hdr.big_endian;
  ExifInfo info;
  info.big_endian = be;
  // Only IFD0 may point to other IFDs here (Exif, GPS, IFD1), so nesting depth is fixed at
  // one; the visited set catches pointers that lead back to an IFD already read.
  std::set<uint32_t> visited{hdr.ifd0};
  REGAIN_TRY(ifd0, read_ifd(tiff, be, hdr.ifd0, "IFD0"));

  // With duplicated tags the first one counts, as in rebuild_exif and in pointer lookups.
  std::set<uint16_t> seen;
  for (const Entry& e : ifd0.entries) {
    if (!seen.insert(e.tag).second) continue;
    switch (e.tag) {
      case kTagOrientation: {
        auto v = first_u32(e, be);
        info.orientation = (v && *v >= 1 && *v <= 8) ? int(*v) : 1;
        break;
      }
      case kTagMake: info.make = ascii_value(e); break;
      case kTagModel: info.model = ascii_value(e); break;
      case kTagSoftware: info.software = ascii_value(e); break;
      default: break;
    }
  }

  if (uint32_t off = pointer_tag(ifd0, kTagExifIfd, be)) {
    if (!visited.insert(off).second) return bad("Exif IFD pointer loops back");
    REGAIN_TRY(exif, read_ifd(tiff, be, off, "Exif IFD"));
    seen.clear();
    for (const Entry& e : exif.entries) {
      if (!seen.insert(e.tag).second) continue;
      if (e.tag == kTagDateTimeOriginal) info.date_time_original = ascii_value(e);
      if (e.tag == kTagMakerNote && e.value) read_apple_makernote(*e.value, info);
    }
  }

  if (uint32_t off = pointer_tag(ifd0, kTagGpsIfd, be)) {
    if (!visited.insert(off).second) return bad("GPS IFD pointer loops back");
    REGAIN_TRY(gps, read_ifd(tiff, be, off, "GPS IFD"));
    info.has_gps = !gps.entries.empty();
  }

  if (ifd0.next != 0) {
    if (!visited.insert(ifd0.next).second) return bad("IFD chain loops back");
    // IFD1 only describes the thumbnail; a damaged one is reported as "no thumbnail" rather
    // than costing the caller the main image's tags.
    auto ifd1 = read_ifd(tiff, be, ifd0.next, "IFD1");
    if (ifd1) {
      for (const Entry& e : ifd1->entries) {
        auto off = first_u32(e, be);
        if (e.tag == kTagThumbnailOffset && off && *off != 0 && *off < tiff.size()) {
          info.thumbnail_count = 1;
          break;
        }
      }
    }
  }
  return info;
}

std::optional<double> apple_headroom_from_makernote(const ExifInfo& info) {
  if (!info.apple_maker33 && !info.apple_maker48) return std::nullopt;
  const double m33 = info.apple_maker33.value_or(0.0);
  const double m48 = info.apple_maker48.value_or(0.0);
  double stops;
  if (m33 < 1.0) stops = m48 <= 0.01 ? -20.0 * m48 + 1.8 : -0.101 * m48 + 1.601;
  else stops = m48 <= 0.01 ? -70.0 * m48 + 3.0 : -0.303 * m48 + 2.303;
  return std::exp2(std::max(stops, 0.0));
}

Result<std::vector<uint8_t>> rebuild_exif(std::span<const uint8_t> tiff,
                                          const ExifRebuildOptions& opt) {
  REGAIN_TRY(hdr, read_header(tiff));
  const bool be = hdr.big_endian;
  REGAIN_TRY(ifd0, read_ifd(tiff, be, hdr.ifd0, "IFD0"));
  std::set<uint32_t> visited{hdr.ifd0};
  size_t budget = tiff.size();

  // A damaged sub-IFD is dropped: the rest of the metadata is still worth keeping.
  auto sub_ifd = [&](uint16_t tag) -> std::optional<Ifd> {
    uint32_t off = pointer_tag(ifd0, tag, be);
    if (off == 0 || !visited.insert(off).second) return std::nullopt;
    auto r = read_ifd(tiff, be, off, "sub-IFD");
    if (!r) return std::nullopt;
    return std::move(*r);
  };

  auto out0 = copy_entries(ifd0, [](uint16_t t) { return allowed(kIfd0Allowed, t); }, budget);
  if (opt.orientation) {
    int o = *opt.orientation;
    set_entry(out0, short_entry(kTagOrientation, uint16_t(o >= 1 && o <= 8 ? o : 1), be));
  }

  std::vector<OutEntry> exif_out;
  if (auto exif = sub_ifd(kTagExifIfd))
    exif_out = copy_entries(*exif, [](uint16_t t) { return allowed(kExifAllowed, t); }, budget);
  if (opt.pixel_dimensions) {
    set_entry(exif_out, long_entry(kTagPixelX, opt.pixel_dimensions->first, be));
    set_entry(exif_out, long_entry(kTagPixelY, opt.pixel_dimensions->second, be));
  }

  std::vector<OutEntry> gps_out;
  if (opt.keep_gps) {
    if (auto gps = sub_ifd(kTagGpsIfd))
      gps_out = copy_entries(*gps, [](uint16_t) { return true; }, budget);
  }

  // Placeholders; patched once the sub-IFDs' positions are known.
  if (!exif_out.empty()) set_entry(out0, long_entry(kTagExifIfd, 0, be));
  if (!gps_out.empty()) set_entry(out0, long_entry(kTagGpsIfd, 0, be));
  sort_unique(out0);
  sort_unique(exif_out);
  sort_unique(gps_out);

  ByteWriter w(be);
  w.append(std::string_view(be ? "MM" : "II"));
  w.u16(42);
  w.u32(8);
  auto pos0 = write_ifd(w, out0);
  auto place_sub = [&](uint16_t tag, const std::vector<OutEntry>& es) {
    if (es.empty()) return;
    pad_to_word(w);
    w.put_u32_at(pos0[index_of(out0, tag)], uint32_t(w.size()));
    write_ifd(w, es);
  };
  place_sub(kTagExifIfd, exif_out);
  place_sub(kTagGpsIfd, gps_out);
  if (w.size() > std::numeric_limits<uint32_t>::max()) return bad("rebuilt stream too large");
  return w.take();
}

std::vector<uint8_t> make_orientation_exif(int orientation) {
  ByteWriter w(true);
  w.append(std::string_view("MM"));
  w.u16(42);
  w.u32(8);
  // Out-of-range values become 1 ("normal") like parse_exif reads them, so that we never emit
  // a value other readers would reject.
  write_ifd(w, {short_entry(kTagOrientation,
                            uint16_t(orientation >= 1 && orientation <= 8 ? orientation : 1),
                            true)});
  return w.take();
}

}  // namespace regain
