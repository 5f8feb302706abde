#include "container/iso21496.h"

#include <array>
#include <string>

#include "gainmap/fraction.h"
#include "util/bytes.h"

namespace regain {

namespace {
constexpr uint8_t kMultichannel = 0x80, kUseBaseColourSpace = 0x40, kCommonDenominator = 0x08;

Result<Fraction> signed_fraction(double v, const char* field) {
  auto f = to_fraction_signed(v);
  if (!f) return fail(ErrorCode::InvalidInput, std::string("ISO 21496-1: ") + field + " cannot be written as a fraction");
  return *f;
}
Result<Fraction> unsigned_fraction(double v, const char* field) {
  auto f = to_fraction_unsigned(v);
  if (!f) return fail(ErrorCode::InvalidInput, std::string("ISO 21496-1: ") + field + " cannot be written as an unsigned fraction");
  return *f;
}
// The value a reader computes from the fraction (as decode_iso21496 does).
double read_back(const Fraction& f) { return double(f.num) / f.den; }

struct ChannelFractions {
  Fraction min, max, gamma, base_offset, alternate_offset;
};
}  // namespace

Result<std::vector<uint8_t>> encode_iso21496(const GainMapMetadata& m) {
  REGAIN_CHECK(validate(m));
  // One channel suffices when all are equal, as the standard recommends.
  const bool multi = m.multichannel && !m.channels_equal();
  const int n = multi ? 3 : 1;
  REGAIN_TRY(base, unsigned_fraction(m.base_headroom, "base_hdr_headroom"));
  REGAIN_TRY(alt, unsigned_fraction(m.alternate_headroom, "alternate_hdr_headroom"));
  std::array<ChannelFractions, 3> ch{};
  for (int c = 0; c < n; ++c) {
    const auto& in = m.channel[c];
    REGAIN_TRY(mn, signed_fraction(in.min, "gain_map_min"));
    REGAIN_TRY(mx, signed_fraction(in.max, "gain_map_max"));
    REGAIN_TRY(g, unsigned_fraction(in.gamma, "gamma"));
    REGAIN_TRY(bo, signed_fraction(in.base_offset, "base_offset"));
    REGAIN_TRY(ao, signed_fraction(in.alternate_offset, "alternate_offset"));
    // Values a fraction cannot hold exactly are rounded; two nearly equal ones (min and max
    // of a flat map) must not swap order on the way.
    if (read_back(mx) < read_back(mn)) mx = mn;
    ch[c] = {mn, mx, g, bo, ao};
  }
  // What a reader will see must itself be valid metadata (e.g. distinct headrooms, gamma > 0).
  GainMapMetadata seen = m;
  seen.multichannel = multi;
  seen.base_headroom = read_back(base);
  seen.alternate_headroom = read_back(alt);
  for (int c = 0; c < 3; ++c) {
    const auto& f = ch[multi ? c : 0];
    seen.channel[c] = {read_back(f.min), read_back(f.max), read_back(f.gamma), read_back(f.base_offset),
                       read_back(f.alternate_offset)};
  }
  if (auto v = validate(seen); !v)
    return fail(ErrorCode::InvalidInput, "ISO 21496-1: the metadata cannot be written exactly (" + v.error().message + ")");

  ByteWriter w(true);
  w.u16(m.minimum_version);
  w.u16(m.writer_version);
  w.u8(uint8_t((multi ? kMultichannel : 0) | (m.use_base_colour_space ? kUseBaseColourSpace : 0)));
  auto put = [&](const Fraction& f, bool is_signed) {
    if (is_signed) w.s32(int32_t(f.num));
    else w.u32(uint32_t(f.num));
    w.u32(f.den);
  };
  put(base, false);
  put(alt, false);
  for (int c = 0; c < n; ++c) {
    put(ch[c].min, true);
    put(ch[c].max, true);
    put(ch[c].gamma, false);
    put(ch[c].base_offset, true);
    put(ch[c].alternate_offset, true);
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
