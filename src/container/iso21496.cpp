#include "container/iso21496.h"

#include <string>

#include "gainmap/fraction.h"
#include "util/bytes.h"

namespace regain {

namespace {
constexpr uint8_t kMultichannel = 0x80, kUseBaseColourSpace = 0x40, kCommonDenominator = 0x08;

Result<void> put_signed(ByteWriter& w, double v, const char* field) {
  auto f = to_fraction_signed(v);
  if (!f) return fail(ErrorCode::InvalidInput, std::string("ISO 21496-1: ") + field + " cannot be written as a fraction");
  w.s32(int32_t(f->num));
  w.u32(f->den);
  return {};
}
Result<void> put_unsigned(ByteWriter& w, double v, const char* field) {
  auto f = to_fraction_unsigned(v);
  if (!f) return fail(ErrorCode::InvalidInput, std::string("ISO 21496-1: ") + field + " cannot be written as an unsigned fraction");
  w.u32(uint32_t(f->num));
  w.u32(f->den);
  return {};
}
}  // namespace

Result<std::vector<uint8_t>> encode_iso21496(const GainMapMetadata& m) {
  REGAIN_CHECK(validate(m));
  ByteWriter w(true);
  w.u16(m.minimum_version);
  w.u16(m.writer_version);
  // One channel suffices when all are equal, as the standard recommends.
  const bool multi = m.multichannel && !m.channels_equal();
  w.u8(uint8_t((multi ? kMultichannel : 0) | (m.use_base_colour_space ? kUseBaseColourSpace : 0)));
  REGAIN_CHECK(put_unsigned(w, m.base_headroom, "base_hdr_headroom"));
  REGAIN_CHECK(put_unsigned(w, m.alternate_headroom, "alternate_hdr_headroom"));
  for (int c = 0; c < (multi ? 3 : 1); ++c) {
    const auto& ch = m.channel[c];
    REGAIN_CHECK(put_signed(w, ch.min, "gain_map_min"));
    REGAIN_CHECK(put_signed(w, ch.max, "gain_map_max"));
    REGAIN_CHECK(put_unsigned(w, ch.gamma, "gamma"));
    REGAIN_CHECK(put_signed(w, ch.base_offset, "base_offset"));
    REGAIN_CHECK(put_signed(w, ch.alternate_offset, "alternate_offset"));
  }
  return w.take();
}

Result<IsoVersion> decode_iso_version(std::span<const uint8_t> data) {
  ByteReader r(data, true);
  IsoVersion v;
  if (!r.u16(v.minimum_version) || !r.u16(v.writer_version))
    return fail(ErrorCode::InvalidInput, "ISO 21496-1: version field truncated");
  return v;
}

Result<GainMapMetadata> decode_iso21496(std::span<const uint8_t> data) {
  auto bad = [](const std::string& m) { return fail(ErrorCode::InvalidInput, "ISO 21496-1: " + m); };
  ByteReader r(data, true);
  GainMapMetadata m;
  uint8_t flags;
  if (!r.u16(m.minimum_version) || !r.u16(m.writer_version)) return bad("truncated version");
  if (m.minimum_version != 0)
    return fail(ErrorCode::Unsupported, "ISO 21496-1: minimum_version " + std::to_string(m.minimum_version) + " is newer than this reader");
  if (!r.u8(flags)) return bad("truncated flags");
  m.multichannel = flags & kMultichannel;
  m.use_base_colour_space = flags & kUseBaseColourSpace;
  const int n = m.multichannel ? 3 : 1;

  auto frac = [&](bool is_signed, double& out, const char* field) -> Result<void> {
    uint32_t num, den;
    if (!r.u32(num) || !r.u32(den)) return bad(std::string("truncated at ") + field);
    if (den == 0) return bad(std::string(field) + " has a zero denominator");
    out = is_signed ? double(int32_t(num)) / den : double(num) / den;
    return {};
  };
  if (flags & kCommonDenominator) {
    // Legacy layout: one shared denominator, then numerators only.
    uint32_t den, num;
    if (!r.u32(den)) return bad("truncated common denominator");
    if (den == 0) return bad("common denominator is zero");
    auto next = [&](bool is_signed, double& out, const char* field) -> Result<void> {
      if (!r.u32(num)) return bad(std::string("truncated at ") + field);
      out = is_signed ? double(int32_t(num)) / den : double(num) / den;
      return {};
    };
    REGAIN_CHECK(next(false, m.base_headroom, "base_hdr_headroom"));
    REGAIN_CHECK(next(false, m.alternate_headroom, "alternate_hdr_headroom"));
    for (int c = 0; c < n; ++c) {
      auto& ch = m.channel[c];
      REGAIN_CHECK(next(true, ch.min, "gain_map_min"));
      REGAIN_CHECK(next(true, ch.max, "gain_map_max"));
      REGAIN_CHECK(next(false, ch.gamma, "gamma"));
      REGAIN_CHECK(next(true, ch.base_offset, "base_offset"));
      REGAIN_CHECK(next(true, ch.alternate_offset, "alternate_offset"));
    }
  } else {
    REGAIN_CHECK(frac(false, m.base_headroom, "base_hdr_headroom"));
    REGAIN_CHECK(frac(false, m.alternate_headroom, "alternate_hdr_headroom"));
    for (int c = 0; c < n; ++c) {
      auto& ch = m.channel[c];
      REGAIN_CHECK(frac(true, ch.min, "gain_map_min"));
      REGAIN_CHECK(frac(true, ch.max, "gain_map_max"));
      REGAIN_CHECK(frac(false, ch.gamma, "gamma"));
      REGAIN_CHECK(frac(true, ch.base_offset, "base_offset"));
      REGAIN_CHECK(frac(true, ch.alternate_offset, "alternate_offset"));
    }
  }
  if (n == 1) m.channel[1] = m.channel[2] = m.channel[0];
  // Trailing bytes are allowed: writer_version > 0 may extend the structure.
  REGAIN_CHECK(validate(m));
  return m;
}

}  // namespace regain
