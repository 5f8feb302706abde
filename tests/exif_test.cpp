#include "container/exif.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "test_support.h"
#include "util/bytes.h"

namespace regain {
namespace {

const char* kIphone = "edited-pair/original_iphone15promax.jpg";
const char* kAppleOld = "jpeg/apple_gainmap_old.jpg";
const char* kParisLe = "jpeg/paris_exif_xmp_gainmap_littleendian.jpg";
const char* kParisBe = "jpeg/paris_exif_xmp_gainmap_bigendian.jpg";
const char* kSeine = "jpeg/seine_sdr_gainmap_srgb.jpg";

// The TIFF stream of the first "Exif\0\0" APP1, found by walking marker segments (not by
// scanning bytes: thumbnails hold their own markers). Empty when there is none.
std::vector<uint8_t> exif_from_jpeg(const std::vector<uint8_t>& j) {
  if (j.size() < 4 || j[0] != 0xFF || j[1] != 0xD8) return {};
  size_t p = 2;
  while (p + 4 <= j.size()) {
    if (j[p] != 0xFF) return {};
    uint8_t m = j[p + 1];
    if (m == 0xFF) {  // fill byte before a marker
      ++p;
      continue;
    }
    if (m == 0xDA || m == 0xD9) return {};  // image data starts: metadata is over
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {  // markers without a length
      p += 2;
      continue;
    }
    size_t len = size_t(j[p + 2]) << 8 | j[p + 3];
    if (len < 2 || len > j.size() - p - 2) return {};
    const uint8_t* seg = j.data() + p + 4;
    size_t seg_len = len - 2;
    if (m == 0xE1 && seg_len >= 6 && std::memcmp(seg, "Exif\0\0", 6) == 0)
      return std::vector<uint8_t>(seg + 6, seg + seg_len);
    p += 2 + len;
  }
  return {};
}

std::vector<uint8_t> corpus_exif(const char* rel) {
  auto tiff = exif_from_jpeg(test::corpus_bytes(rel));
  EXPECT_FALSE(tiff.empty()) << rel << ": no EXIF APP1 found";
  return tiff;
}

// ---- an independent, minimal TIFF reader used to inspect what rebuild_exif wrote ----------

struct RawEntry {
  uint16_t tag = 0, type = 0;
  uint32_t count = 0;
  std::vector<uint8_t> field;  // the 4-byte value/offset field
};

struct RawTiff {
  bool be = false;
  std::span<const uint8_t> data;
  uint32_t ifd0 = 0;
};

RawTiff raw_tiff(std::span<const uint8_t> t) {
  RawTiff r;
  r.data = t;
  if (t.size() < 8) return r;
  r.be = t[0] == 'M';
  ByteReader br(t, r.be);
  br.skip(4);
  br.u32(r.ifd0);
  return r;
}

size_t type_bytes(uint16_t type) {
  static const std::map<uint16_t, size_t> sizes = {{1, 1}, {2, 1}, {3, 2}, {4, 4}, {5, 8},
                                                    {6, 1}, {7, 1}, {8, 2}, {9, 4}, {10, 8},
                                                    {11, 4}, {12, 8}, {13, 4}};
  auto it = sizes.find(type);
  return it == sizes.end() ? 0 : it->second;
}

std::vector<RawEntry> raw_ifd(const RawTiff& t, uint32_t off, uint32_t* next = nullptr) {
  std::vector<RawEntry> out;
  ByteReader r(t.data, t.be);
  uint16_t n = 0;
  if (!r.seek(off) || !r.u16(n)) {
    ADD_FAILURE() << "IFD at " << off << " unreadable";
    return out;
  }
  for (uint16_t i = 0; i < n; ++i) {
    RawEntry e;
    std::span<const uint8_t> f;
    if (!r.u16(e.tag) || !r.u16(e.type) || !r.u32(e.count) || !r.bytes(4, f)) {
      ADD_FAILURE() << "IFD at " << off << " truncated";
      return out;
    }
    e.field.assign(f.begin(), f.end());
    out.push_back(e);
  }
  uint32_t nx = 0;
  r.u32(nx);
  if (next) *next = nx;
  return out;
}

uint32_t field_u32(const RawTiff& t, const RawEntry& e) {
  ByteReader r(e.field, t.be);
  uint32_t v = 0;
  r.u32(v);
  return v;
}

std::vector<uint8_t> raw_value(const RawTiff& t, const RawEntry& e) {
  size_t n = size_t(e.count) * type_bytes(e.type);
  if (n <= 4) return {e.field.begin(), e.field.begin() + n};
  uint32_t off = field_u32(t, e);
  if (off > t.data.size() || n > t.data.size() - off) {
    ADD_FAILURE() << "tag " << e.tag << " value outside the stream";
    return {};
  }
  return {t.data.begin() + off, t.data.begin() + off + n};
}

const RawEntry* find_tag(const std::vector<RawEntry>& es, uint16_t tag) {
  for (const auto& e : es)
    if (e.tag == tag) return &e;
  return nullptr;
}

std::vector<uint16_t> tags_of(const std::vector<RawEntry>& es) {
  std::vector<uint16_t> out;
  for (const auto& e : es) out.push_back(e.tag);
  return out;
}

// ---- fixture builder ------------------------------------------------------------------------

struct Field {
  uint16_t tag, type;
  uint32_t count;
  std::vector<uint8_t> data;  // already in the stream's byte order
};

Field ascii(uint16_t tag, const std::string& s) {
  std::vector<uint8_t> d(s.begin(), s.end());
  d.push_back(0);
  return {tag, 2, uint32_t(d.size()), d};
}
Field short_field(bool be, uint16_t tag, uint16_t v) {
  ByteWriter w(be);
  w.u16(v);
  return {tag, 3, 1, w.take()};
}
Field long_field(bool be, uint16_t tag, uint32_t v) {
  ByteWriter w(be);
  w.u32(v);
  return {tag, 4, 1, w.take()};
}
Field srational_field(bool be, uint16_t tag, int32_t num, int32_t den) {
  ByteWriter w(be);
  w.s32(num);
  w.s32(den);
  return {tag, 10, 1, w.take()};
}

// Writes entries in the given order (deliberately not sorted) with their out-of-line values
// right after the IFD; offsets count from the start of `w`. Returns the position of the last
// entry's value field so a caller can patch a pointer there.
size_t put_ifd(ByteWriter& w, const std::vector<Field>& fs, uint32_t next = 0) {
  size_t data = w.size() + 2 + 12 * fs.size() + 4;
  size_t last = 0;
  w.u16(uint16_t(fs.size()));
  for (const auto& f : fs) {
    w.u16(f.tag);
    w.u16(f.type);
    w.u32(f.count);
    last = w.size();
    if (f.data.size() <= 4) {
      w.append(f.data);
      for (size_t i = f.data.size(); i < 4; ++i) w.u8(0);
    } else {
      w.u32(uint32_t(data));
      data += f.data.size();
    }
  }
  w.u32(next);
  for (const auto& f : fs)
    if (f.data.size() > 4) w.append(f.data);
  return last;
}

// IFD0 at offset 8, then (when given) an Exif IFD linked through a trailing 0x8769 entry.
std::vector<uint8_t> build_tiff(bool be, std::vector<Field> ifd0, const std::vector<Field>& exif = {}) {
  ByteWriter w(be);
  w.append(std::string_view(be ? "MM" : "II"));
  w.u16(42);
  w.u32(8);
  if (!exif.empty()) ifd0.push_back(long_field(be, 0x8769, 0));
  size_t ptr = put_ifd(w, ifd0);
  if (!exif.empty()) {
    w.put_u32_at(ptr, uint32_t(w.size()));
    put_ifd(w, exif);
  }
  return w.take();
}

// An Apple MakerNote: 14-byte header then a big-endian IFD whose value offsets count from the
// start of the MakerNote.
std::vector<uint8_t> apple_makernote(const std::vector<Field>& fs) {
  ByteWriter w(true);
  w.append(std::string_view("Apple iOS\0\0\1MM", 14));
  put_ifd(w, fs);
  return w.take();
}

Field makernote_field(const std::vector<uint8_t>& mn) {
  return {0x927C, 7, uint32_t(mn.size()), mn};
}

// ---- corpus ---------------------------------------------------------------------------------

TEST(Exif, IphoneMakerNoteHeadroom) {
  auto tiff = corpus_exif(kIphone);
  auto info = parse_exif(tiff);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_TRUE(info->big_endian);
  EXPECT_EQ(info->make, "Apple");
  EXPECT_EQ(info->model, "iPhone 15 Pro Max");
  EXPECT_EQ(info->software, "18.5");
  EXPECT_EQ(info->date_time_original, "2025:07:23 12:31:54");
  EXPECT_EQ(info->orientation, 1);
  EXPECT_TRUE(info->has_gps);
  EXPECT_GE(info->thumbnail_count, 1);
  EXPECT_TRUE(info->has_apple_makernote);
  ASSERT_TRUE(info->apple_maker33);
  ASSERT_TRUE(info->apple_maker48);
  EXPECT_NEAR(*info->apple_maker33, 1.00999999, 1e-8);
  EXPECT_NEAR(*info->apple_maker48, 0.004547884226, 1e-11);
  auto headroom = apple_headroom_from_makernote(*info);
  ASSERT_TRUE(headroom);
  EXPECT_NEAR(*headroom, 6.4159, 0.01);
  // The same photo's ISO metadata says 2.681641 stops; the formula lands within 1e-5.
  EXPECT_NEAR(std::log2(*headroom), 2.681641, 1e-4);
}

TEST(Exif, OldAppleMakerNote) {
  auto info = parse_exif(corpus_exif(kAppleOld));
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_TRUE(info->big_endian);
  EXPECT_EQ(info->model, "iPhone 13 mini");
  ASSERT_TRUE(info->apple_maker33);
  ASSERT_TRUE(info->apple_maker48);
  EXPECT_NEAR(*info->apple_maker33, 1.518931985, 1e-8);
  EXPECT_EQ(*info->apple_maker48, 0.0);
  auto headroom = apple_headroom_from_makernote(*info);
  ASSERT_TRUE(headroom);
  EXPECT_NEAR(*headroom, 8.0, 1e-9);
}

// The "bigendian" file's name refers to its MPF; its EXIF is little-endian like the other's.
TEST(Exif, ParisFilesAreLittleEndian) {
  for (const char* rel : {kParisLe, kParisBe}) {
    SCOPED_TRACE(rel);
    auto info = parse_exif(corpus_exif(rel));
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_FALSE(info->big_endian);
    EXPECT_EQ(info->make, "Google");
    EXPECT_EQ(info->model, "Pixel 4a");
    EXPECT_EQ(info->software, "GIMP 2.10.32");
    EXPECT_EQ(info->date_time_original, "2022:08:24 20:07:42");
    EXPECT_EQ(info->orientation, 1);
    EXPECT_FALSE(info->has_apple_makernote);
    EXPECT_FALSE(apple_headroom_from_makernote(*info));
  }
}

TEST(Exif, SeineHasThumbnailAndGps) {
  auto info = parse_exif(corpus_exif(kSeine));
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_FALSE(info->big_endian);
  EXPECT_GE(info->thumbnail_count, 1);
  EXPECT_TRUE(info->has_gps);
  EXPECT_EQ(info->date_time_original, "2023:08:05 17:16:53");
}

// ---- MakerNote and formula --------------------------------------------------------------------

TEST(Exif, AppleMakerNoteNumericTypes) {
  struct Case {
    uint16_t type;
    std::vector<uint8_t> bytes;  // big-endian, one element
    double expected;
  };
  auto f32 = std::bit_cast<uint32_t>(1.25f);
  auto f64 = std::bit_cast<uint64_t>(0.75);
  std::vector<Case> cases = {
      {10, {0, 0, 0, 3, 0, 0, 0, 2}, 1.5},                  // SRATIONAL
      {10, {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 4}, -0.25},    // SRATIONAL, negative
      {5, {0, 0, 0, 1, 0, 0, 0, 100}, 0.01},                // RATIONAL
      {3, {0, 2}, 2.0},                                     // SHORT
      {4, {0, 0, 0, 7}, 7.0},                               // LONG
      {9, {0xFF, 0xFF, 0xFF, 0xFB}, -5.0},                  // SLONG
      {11, {uint8_t(f32 >> 24), uint8_t(f32 >> 16), uint8_t(f32 >> 8), uint8_t(f32)}, 1.25},
      {12, {}, 0.75},                                       // DOUBLE, filled below
  };
  for (int i = 7; i >= 0; --i) cases.back().bytes.push_back(uint8_t(f64 >> (8 * i)));

  for (bool outer_be : {true, false}) {
    for (const auto& c : cases) {
      SCOPED_TRACE("type " + std::to_string(c.type) + (outer_be ? " in MM" : " in II"));
      auto mn = apple_makernote({{0x0021, c.type, 1, c.bytes}, {0x0030, c.type, 1, c.bytes}});
      auto tiff = build_tiff(outer_be, {ascii(0x010F, "Apple")}, {makernote_field(mn)});
      auto info = parse_exif(tiff);
      ASSERT_TRUE(info) << info.error().message;
      EXPECT_TRUE(info->has_apple_makernote);
      ASSERT_TRUE(info->apple_maker33);
      ASSERT_TRUE(info->apple_maker48);
      EXPECT_DOUBLE_EQ(*info->apple_maker33, c.expected);
      EXPECT_DOUBLE_EQ(*info->apple_maker48, c.expected);
    }
  }
}

TEST(Exif, AppleMakerNoteOddValues) {
  // A zero denominator and a non-numeric type leave the tag absent instead of inventing 0 / inf.
  auto mn = apple_makernote({{0x0021, 10, 1, {0, 0, 0, 1, 0, 0, 0, 0}},
                             {0x0030, 2, 4, {'1', '.', '5', 0}}});
  auto info = parse_exif(build_tiff(true, {}, {makernote_field(mn)}));
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_TRUE(info->has_apple_makernote);
  EXPECT_FALSE(info->apple_maker33);
  EXPECT_FALSE(info->apple_maker48);
  EXPECT_FALSE(apple_headroom_from_makernote(*info));

  // Other vendors' MakerNotes are not Apple's.
  std::vector<uint8_t> other = {'N', 'i', 'k', 'o', 'n', 0, 2, 0x10, 0, 0, 'M', 'M', 0, 42};
  info = parse_exif(build_tiff(true, {}, {makernote_field(other)}));
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->has_apple_makernote);

  // A damaged Apple IFD costs only the MakerNote tags, not the standard ones.
  auto broken = apple_makernote({});
  broken[14] = 0xFF;  // entry count 0xFF00 > any plausible IFD
  broken[15] = 0x00;
  info = parse_exif(build_tiff(true, {ascii(0x0110, "iPhone")}, {makernote_field(broken)}));
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->model, "iPhone");
  EXPECT_TRUE(info->has_apple_makernote);
  EXPECT_FALSE(info->apple_maker33);
}

TEST(Exif, HeadroomFormulaBranches) {
  auto headroom = [](std::optional<double> m33, std::optional<double> m48) {
    ExifInfo info;
    info.apple_maker33 = m33;
    info.apple_maker48 = m48;
    return apple_headroom_from_makernote(info);
  };
  EXPECT_FALSE(headroom(std::nullopt, std::nullopt));
  EXPECT_NEAR(*headroom(0.5, 0.005), std::exp2(-20.0 * 0.005 + 1.8), 1e-12);
  EXPECT_NEAR(*headroom(0.5, 0.5), std::exp2(-0.101 * 0.5 + 1.601), 1e-12);
  EXPECT_NEAR(*headroom(1.0, 0.01), std::exp2(-70.0 * 0.01 + 3.0), 1e-12);  // boundaries
  EXPECT_NEAR(*headroom(1.2, 0.5), std::exp2(-0.303 * 0.5 + 2.303), 1e-12);
  EXPECT_NEAR(*headroom(1.518931985, 0.0), 8.0, 1e-12);
  EXPECT_NEAR(*headroom(1.00999999, 0.004547884226), std::exp2(2.681648), 1e-4);
  // A missing tag counts as 0.
  EXPECT_NEAR(*headroom(std::nullopt, 0.005), std::exp2(-20.0 * 0.005 + 1.8), 1e-12);
  EXPECT_NEAR(*headroom(1.5, std::nullopt), 8.0, 1e-12);
  // Negative stops clamp to a headroom of 1 (never darker than SDR).
  EXPECT_DOUBLE_EQ(*headroom(1.5, 100.0), 1.0);
}

// ---- orientation --------------------------------------------------------------------------

TEST(Exif, MakeOrientationExif) {
  for (int o = 1; o <= 8; ++o) {
    auto tiff = make_orientation_exif(o);
    auto info = parse_exif(tiff);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_TRUE(info->big_endian);
    EXPECT_EQ(info->orientation, o);
    auto raw = raw_tiff(tiff);
    auto ifd0 = raw_ifd(raw, raw.ifd0);
    ASSERT_EQ(ifd0.size(), 1u);
    EXPECT_EQ(ifd0[0].tag, 0x0112);
    EXPECT_EQ(ifd0[0].type, 3);
    EXPECT_EQ(ifd0[0].count, 1u);
  }
  EXPECT_EQ(parse_exif(make_orientation_exif(6))->orientation, 6);
  EXPECT_EQ(parse_exif(make_orientation_exif(0))->orientation, 1);
  EXPECT_EQ(parse_exif(make_orientation_exif(9))->orientation, 1);
}

TEST(Exif, OrientationOutsideRangeReadsAsOne) {
  for (bool be : {true, false}) {
    for (uint16_t v : {0, 9, 0xFFFF}) {
      auto info = parse_exif(build_tiff(be, {short_field(be, 0x0112, v)}));
      ASSERT_TRUE(info);
      EXPECT_EQ(info->orientation, 1) << v;
    }
    auto info = parse_exif(build_tiff(be, {short_field(be, 0x0112, 8)}));
    ASSERT_TRUE(info);
    EXPECT_EQ(info->orientation, 8);
  }
}

// ---- rebuild ----------------------------------------------------------------------------------

const std::set<uint16_t> kIfd0Allowed = {0x010F, 0x0110, 0x0112, 0x011A, 0x011B, 0x0128,
                                         0x0131, 0x0132, 0x013B, 0x8298, 0x0213};
const std::set<uint16_t> kExifAllowed = {
    0x829A, 0x829D, 0x8822, 0x8827, 0x9000, 0x9003, 0x9004, 0x9010, 0x9011, 0x9012,
    0x9201, 0x9202, 0x9203, 0x9204, 0x9205, 0x9207, 0x9209, 0x920A, 0x9290, 0x9291,
    0x9292, 0xA001, 0xA405, 0xA406, 0xA403, 0xA402, 0xA432, 0xA433, 0xA434};

// Structural checks every rebuilt stream must pass: ascending unique tags, only allow-listed
// ones, word-aligned out-of-line values, no IFD1, and values inside the stream.
void check_rebuilt_structure(std::span<const uint8_t> out) {
  auto t = raw_tiff(out);
  ASSERT_GE(out.size(), 8u);
  EXPECT_EQ(t.ifd0, 8u);
  uint32_t next = 1;
  auto ifd0 = raw_ifd(t, t.ifd0, &next);
  EXPECT_EQ(next, 0u) << "rebuilt stream must not carry IFD1 (thumbnail)";
  auto check = [&](const std::vector<RawEntry>& es, auto allow) {
    for (size_t i = 0; i < es.size(); ++i) {
      if (i > 0) {
        EXPECT_LT(es[i - 1].tag, es[i].tag) << "entries must be strictly ascending";
      }
      EXPECT_TRUE(allow(es[i].tag)) << "unexpected tag 0x" << std::hex << es[i].tag;
      if (size_t(es[i].count) * type_bytes(es[i].type) > 4) {
        EXPECT_EQ(field_u32(t, es[i]) % 2, 0u) << "value offset not word-aligned";
        raw_value(t, es[i]);
      }
    }
  };
  check(ifd0, [](uint16_t tag) { return kIfd0Allowed.count(tag) || tag == 0x8769 || tag == 0x8825; });
  if (auto* p = find_tag(ifd0, 0x8769)) {
    EXPECT_EQ(p->type, 4);
    uint32_t off = field_u32(t, *p);
    EXPECT_EQ(off % 2, 0u);
    auto exif = raw_ifd(t, off);
    EXPECT_FALSE(exif.empty()) << "an empty Exif IFD should be omitted";
    check(exif, [](uint16_t tag) { return kExifAllowed.count(tag) || tag == 0xA002 || tag == 0xA003; });
  }
  if (auto* p = find_tag(ifd0, 0x8825)) {
    EXPECT_EQ(p->type, 4);
    EXPECT_EQ(field_u32(t, *p) % 2, 0u);
    check(raw_ifd(t, field_u32(t, *p)), [](uint16_t) { return true; });  // GPS is copied whole
  }
}

TEST(Exif, RebuildIphoneKeepsCameraDataDropsPrivateData) {
  auto tiff = corpus_exif(kIphone);
  auto out = rebuild_exif(tiff);
  ASSERT_TRUE(out) << out.error().message;
  check_rebuilt_structure(*out);

  auto info = parse_exif(*out);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_TRUE(info->big_endian);
  EXPECT_EQ(info->make, "Apple");
  EXPECT_EQ(info->model, "iPhone 15 Pro Max");
  EXPECT_EQ(info->software, "18.5");
  EXPECT_EQ(info->date_time_original, "2025:07:23 12:31:54");
  EXPECT_FALSE(info->has_apple_makernote);
  EXPECT_FALSE(info->apple_maker33);
  EXPECT_FALSE(info->has_gps);
  EXPECT_EQ(info->thumbnail_count, 0);

  auto src = raw_tiff(tiff);
  auto dst = raw_tiff(*out);
  auto src0 = raw_ifd(src, src.ifd0);
  auto dst0 = raw_ifd(dst, dst.ifd0);
  // HostComputer (0x013C) and the GPS pointer go; the rest of IFD0 is allow-listed.
  EXPECT_EQ(tags_of(dst0), (std::vector<uint16_t>{0x010F, 0x0110, 0x011A, 0x011B, 0x0128, 0x0131,
                                                   0x0132, 0x0213, 0x8769}));
  auto src_exif = raw_ifd(src, field_u32(src, *find_tag(src0, 0x8769)));
  auto dst_exif = raw_ifd(dst, field_u32(dst, *find_tag(dst0, 0x8769)));
  EXPECT_EQ(tags_of(dst_exif),
            (std::vector<uint16_t>{0x829A, 0x829D, 0x8822, 0x8827, 0x9000, 0x9003, 0x9004,
                                   0x9010, 0x9011, 0x9012, 0x9201, 0x9202, 0x9203, 0x9204,
                                   0x9207, 0x9209, 0x920A, 0x9291, 0x9292, 0xA001, 0xA402,
                                   0xA403, 0xA405, 0xA406, 0xA432, 0xA433, 0xA434}));
  // Copied entries keep type, count and value bytes exactly.
  auto same_values = [&](const std::vector<RawEntry>& from, const std::vector<RawEntry>& to) {
    for (const auto& e : to) {
      if (e.tag == 0x8769) continue;
      const RawEntry* o = find_tag(from, e.tag);
      ASSERT_NE(o, nullptr);
      EXPECT_EQ(e.type, o->type);
      EXPECT_EQ(e.count, o->count);
      EXPECT_EQ(raw_value(dst, e), raw_value(src, *o)) << "tag 0x" << std::hex << e.tag;
    }
  };
  same_values(src0, dst0);
  same_values(src_exif, dst_exif);
  auto lens = raw_value(dst, *find_tag(dst_exif, 0xA434));
  EXPECT_EQ(std::string(lens.begin(), lens.end() - 1),
            "iPhone 15 Pro Max back triple camera 6.765mm f/1.78");
  EXPECT_LT(out->size(), tiff.size());
}

TEST(Exif, RebuildKeepsGpsOnRequest) {
  for (const char* rel : {kIphone, kSeine, kParisLe}) {
    SCOPED_TRACE(rel);
    auto tiff = corpus_exif(rel);
    auto orig = parse_exif(tiff);
    ASSERT_TRUE(orig);
    ExifRebuildOptions opt;
    opt.keep_gps = true;
    auto out = rebuild_exif(tiff, opt);
    ASSERT_TRUE(out) << out.error().message;
    check_rebuilt_structure(*out);
    auto info = parse_exif(*out);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->has_gps, orig->has_gps);
    EXPECT_EQ(info->big_endian, orig->big_endian);
    EXPECT_EQ(info->make, orig->make);
    EXPECT_EQ(info->date_time_original, orig->date_time_original);
  }
  // The iPhone's GPS IFD is copied whole.
  auto tiff = corpus_exif(kIphone);
  ExifRebuildOptions opt;
  opt.keep_gps = true;
  auto out = rebuild_exif(tiff, opt);
  ASSERT_TRUE(out);
  auto src = raw_tiff(tiff);
  auto dst = raw_tiff(*out);
  auto src_gps = raw_ifd(src, field_u32(src, *find_tag(raw_ifd(src, src.ifd0), 0x8825)));
  auto dst_gps = raw_ifd(dst, field_u32(dst, *find_tag(raw_ifd(dst, dst.ifd0), 0x8825)));
  EXPECT_EQ(tags_of(dst_gps), tags_of(src_gps));
  for (size_t i = 0; i < dst_gps.size() && i < src_gps.size(); ++i)
    EXPECT_EQ(raw_value(dst, dst_gps[i]), raw_value(src, src_gps[i]));
}

TEST(Exif, RebuildOrientationOverrideAndPixelDimensions) {
  for (const char* rel : {kIphone, kParisLe}) {  // one without, one with an Orientation tag
    SCOPED_TRACE(rel);
    auto tiff = corpus_exif(rel);
    ExifRebuildOptions opt;
    opt.orientation = 6;
    opt.pixel_dimensions = std::make_pair(864u, 1184u);
    auto out = rebuild_exif(tiff, opt);
    ASSERT_TRUE(out) << out.error().message;
    check_rebuilt_structure(*out);
    auto info = parse_exif(*out);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->orientation, 6);

    auto t = raw_tiff(*out);
    auto ifd0 = raw_ifd(t, t.ifd0);
    const RawEntry* o = find_tag(ifd0, 0x0112);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->type, 3);
    EXPECT_EQ(o->count, 1u);
    auto exif = raw_ifd(t, field_u32(t, *find_tag(ifd0, 0x8769)));
    const RawEntry* x = find_tag(exif, 0xA002);
    const RawEntry* y = find_tag(exif, 0xA003);
    ASSERT_NE(x, nullptr);
    ASSERT_NE(y, nullptr);
    EXPECT_EQ(x->type, 4);
    EXPECT_EQ(y->type, 4);
    EXPECT_EQ(field_u32(t, *x), 864u);
    EXPECT_EQ(field_u32(t, *y), 1184u);
  }
  // Orientation back to 1 after pixels were rotated.
  ExifRebuildOptions opt;
  opt.orientation = 1;
  auto out = rebuild_exif(make_orientation_exif(6), opt);
  ASSERT_TRUE(out);
  EXPECT_EQ(parse_exif(*out)->orientation, 1);
}

TEST(Exif, RebuildWithoutOverrideKeepsOriginalOrientation) {
  auto out = rebuild_exif(make_orientation_exif(5));
  ASSERT_TRUE(out);
  EXPECT_EQ(parse_exif(*out)->orientation, 5);
  check_rebuilt_structure(*out);
}

TEST(Exif, RebuildIsStable) {
  for (const char* rel : {kIphone, kParisBe, kSeine, kAppleOld}) {
    SCOPED_TRACE(rel);
    auto once = rebuild_exif(corpus_exif(rel));
    ASSERT_TRUE(once);
    auto twice = rebuild_exif(*once);
    ASSERT_TRUE(twice);
    EXPECT_EQ(*once, *twice);
  }
}

TEST(Exif, RebuildFiltersSortsAndSkipsDamagedEntries) {
  for (bool be : {false, true}) {
    SCOPED_TRACE(be ? "MM" : "II");
    Field broken = ascii(0x8298, "(c) somebody");
    broken.count = 0x10000;  // value runs past the end: dropped, not fatal
    auto tiff = build_tiff(
        be,
        {ascii(0x0110, "Model X"), ascii(0x010F, "Maker"), short_field(be, 0x0112, 3),
         ascii(0x013C, "host"), broken, ascii(0x013B, "Artist Name")},
        {ascii(0xA431, "SERIAL123"),                      // BodySerialNumber: private
         {0x9286, 7, 12, std::vector<uint8_t>(12, 'u')},  // UserComment
         makernote_field(apple_makernote({srational_field(true, 0x21, 3, 2)})),
         ascii(0x9003, "2024:01:02 03:04:05"), srational_field(be, 0x9204, -1, 3),
         short_field(be, 0xA001, 1), {0x9999, 99, 1, {1, 2, 3, 4}},  // unknown type
         ascii(0x9003, "duplicate, first one wins")});
    auto orig = parse_exif(tiff);
    ASSERT_TRUE(orig) << orig.error().message;
    EXPECT_EQ(orig->orientation, 3);
    EXPECT_TRUE(orig->has_apple_makernote);
    EXPECT_EQ(orig->date_time_original, "2024:01:02 03:04:05");

    auto out = rebuild_exif(tiff);
    ASSERT_TRUE(out) << out.error().message;
    check_rebuilt_structure(*out);
    auto t = raw_tiff(*out);
    auto ifd0 = raw_ifd(t, t.ifd0);
    EXPECT_EQ(tags_of(ifd0), (std::vector<uint16_t>{0x010F, 0x0110, 0x0112, 0x013B, 0x8769}));
    auto exif = raw_ifd(t, field_u32(t, *find_tag(ifd0, 0x8769)));
    EXPECT_EQ(tags_of(exif), (std::vector<uint16_t>{0x9003, 0x9204, 0xA001}));

    auto info = parse_exif(*out);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->big_endian, be);
    EXPECT_EQ(info->make, "Maker");
    EXPECT_EQ(info->model, "Model X");
    EXPECT_EQ(info->orientation, 3);
    EXPECT_EQ(info->date_time_original, "2024:01:02 03:04:05");
    EXPECT_FALSE(info->has_apple_makernote);
    auto bias = raw_value(t, *find_tag(exif, 0x9204));
    ByteReader r(bias, be);
    int32_t num = 0, den = 0;
    r.s32(num);
    r.s32(den);
    EXPECT_EQ(num, -1);
    EXPECT_EQ(den, 3);
  }
}

TEST(Exif, RebuildOmitsEmptyExifIfd) {
  auto tiff = build_tiff(true, {ascii(0x010F, "Maker")}, {ascii(0xA431, "SERIAL")});
  auto out = rebuild_exif(tiff);
  ASSERT_TRUE(out);
  auto t = raw_tiff(*out);
  EXPECT_EQ(tags_of(raw_ifd(t, t.ifd0)), (std::vector<uint16_t>{0x010F}));
  // ... but pixel dimensions alone make it non-empty.
  ExifRebuildOptions opt;
  opt.pixel_dimensions = std::make_pair(10u, 20u);
  out = rebuild_exif(tiff, opt);
  ASSERT_TRUE(out);
  check_rebuilt_structure(*out);
  t = raw_tiff(*out);
  auto ifd0 = raw_ifd(t, t.ifd0);
  ASSERT_NE(find_tag(ifd0, 0x8769), nullptr);
  EXPECT_EQ(tags_of(raw_ifd(t, field_u32(t, *find_tag(ifd0, 0x8769)))),
            (std::vector<uint16_t>{0xA002, 0xA003}));
}

// ---- broken and hostile input ---------------------------------------------------------------

TEST(Exif, RejectsBrokenHeaders) {
  std::vector<std::vector<uint8_t>> bad = {
      {},
      {'M', 'M', 0, 42},
      {'X', 'X', 0, 42, 0, 0, 0, 8, 0, 0},
      {'M', 'M', 0, 43, 0, 0, 0, 8, 0, 0},
      {'I', 'I', 42, 0, 0xFF, 0xFF, 0, 0, 0, 0},  // IFD0 past the end
      {'M', 'M', 0, 42, 0, 0, 0, 2, 0, 0},        // IFD0 inside the header
      {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 5},        // 5 entries announced, none there
      {'M', 'M', 0, 42, 0, 0, 0, 8, 0xFF, 0xFF},  // absurd entry count
  };
  for (const auto& b : bad) {
    auto p = parse_exif(b);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, ErrorCode::InvalidInput);
    auto r = rebuild_exif(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::InvalidInput);
  }
  // An empty IFD0 is odd but well-formed.
  auto empty = parse_exif(std::vector<uint8_t>{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0});
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->orientation, 1);
}

// Whatever parse_exif makes of damaged input, rebuild_exif's output must parse.
void exercise(std::span<const uint8_t> tiff) {
  auto info = parse_exif(tiff);
  if (info) {
    EXPECT_GE(info->orientation, 1);
    EXPECT_LE(info->orientation, 8);
    apple_headroom_from_makernote(*info);
  }
  ExifRebuildOptions full;
  full.keep_gps = true;
  full.orientation = 8;
  full.pixel_dimensions = std::make_pair(1u, 2u);
  for (const auto& opt : {ExifRebuildOptions{}, full}) {
    auto out = rebuild_exif(tiff, opt);
    if (!out) continue;
    // Copies are budgeted by the input size; padding and the added entries are small.
    EXPECT_LE(out->size(), tiff.size() + tiff.size() / 8 + 256);
    auto again = parse_exif(*out);
    ASSERT_TRUE(again) << again.error().message;
    if (opt.orientation) {
      EXPECT_EQ(again->orientation, 8);
    }
  }
}

TEST(ExifHostile, Truncations) {
  for (const char* rel : {kIphone, kParisLe}) {
    SCOPED_TRACE(rel);
    auto tiff = corpus_exif(rel);
    ASSERT_FALSE(tiff.empty());
    for (size_t i = 0; i < 200; ++i) {
      size_t len = tiff.size() * i / 199;
      // A fresh, exactly sized copy so that AddressSanitizer sees any read past `len`.
      std::vector<uint8_t> cut(tiff.begin(), tiff.begin() + len);
      exercise(cut);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(ExifHostile, RandomSingleByteCorruptions) {
  auto tiff = corpus_exif(kIphone);
  ASSERT_FALSE(tiff.empty());
  std::mt19937 rng(20240611);
  // Half the hits go to the first 2 KiB, where the IFDs live; the rest is mostly thumbnail.
  size_t head = std::min<size_t>(tiff.size(), 2048);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> bad = tiff;
    size_t pos = (i % 2 == 0) ? rng() % head : rng() % tiff.size();
    bad[pos] ^= uint8_t(1 + rng() % 255);
    exercise(bad);
    if (HasFatalFailure()) return;
  }
}

TEST(ExifHostile, SelfReferencingIfds) {
  for (bool be : {true, false}) {
    // IFD0's Exif pointer leads back to IFD0.
    auto loop = build_tiff(be, {ascii(0x010F, "Maker"), long_field(be, 0x8769, 8)});
    auto p = parse_exif(loop);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, ErrorCode::InvalidInput);
    exercise(loop);

    // IFD0's next-IFD link points to itself.
    ByteWriter w(be);
    w.append(std::string_view(be ? "MM" : "II"));
    w.u16(42);
    w.u32(8);
    put_ifd(w, {short_field(be, 0x0112, 6)}, /*next=*/8);
    auto chain = w.take();
    EXPECT_FALSE(parse_exif(chain));
    exercise(chain);
    auto out = rebuild_exif(chain);
    ASSERT_TRUE(out);
    EXPECT_EQ(parse_exif(*out)->orientation, 6);

    // GPS pointer equal to the Exif pointer: the same IFD reached twice.
    auto twice = build_tiff(be, {long_field(be, 0x8825, 0)}, {ascii(0x9003, "2020:01:01 00:00:00")});
    {
      auto t = raw_tiff(twice);
      auto ifd0 = raw_ifd(t, 8);
      ByteWriter pw(be);
      pw.u32(field_u32(t, *find_tag(ifd0, 0x8769)));
      // The GPS entry is IFD0's first: its value field sits at 8 + 2 + 8.
      std::copy(pw.bytes().begin(), pw.bytes().end(), twice.begin() + 18);
    }
    EXPECT_FALSE(parse_exif(twice));
    exercise(twice);
  }
}

TEST(ExifHostile, HugeCounts) {
  for (bool be : {true, false}) {
    Field make = ascii(0x010F, "Maker");
    make.count = 0xFFFFFFFF;
    Field rational = srational_field(be, 0x829A, 1, 100);
    rational.count = 0xFFFFFFFF;  // 8 * count overflows 32 bits
    auto mn = apple_makernote({srational_field(true, 0x21, 3, 2)});
    Field maker = makernote_field(mn);
    maker.count = 0xFFFFFFFF;
    auto tiff = build_tiff(be, {make, ascii(0x0110, "Model")}, {rational, maker});
    auto info = parse_exif(tiff);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->make, "");
    EXPECT_EQ(info->model, "Model");
    EXPECT_FALSE(info->has_apple_makernote);

    auto out = rebuild_exif(tiff);
    ASSERT_TRUE(out) << out.error().message;
    check_rebuilt_structure(*out);
    auto t = raw_tiff(*out);
    EXPECT_EQ(tags_of(raw_ifd(t, t.ifd0)), (std::vector<uint16_t>{0x0110}));
    exercise(tiff);
  }
}

// Many GPS entries sharing one data block must not blow a small stream up into a huge one.
TEST(ExifHostile, SharedValueBlocksDoNotAmplify) {
  const bool be = false;
  const uint32_t blob = 4000;
  std::vector<Field> gps;
  ByteWriter w(be);
  w.append(std::string_view("II"));
  w.u16(42);
  w.u32(8);
  // IFD0: one GPS pointer, patched below.
  size_t ptr = put_ifd(w, {long_field(be, 0x8825, 0)});
  uint32_t gps_off = uint32_t(w.size());
  w.put_u32_at(ptr, gps_off);
  const uint16_t n = 1000;
  uint32_t data_off = gps_off + 2 + 12 * n + 4;
  w.u16(n);
  for (uint16_t i = 0; i < n; ++i) {
    w.u16(i);
    w.u16(7);
    w.u32(blob);
    w.u32(data_off);
  }
  w.u32(0);
  for (uint32_t i = 0; i < blob; ++i) w.u8(uint8_t(i));
  auto tiff = w.take();

  ExifRebuildOptions opt;
  opt.keep_gps = true;
  auto out = rebuild_exif(tiff, opt);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_LE(out->size(), 2 * tiff.size());
  auto info = parse_exif(*out);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->has_gps);
}

}  // namespace
}  // namespace regain
