// Writing JPEG_R: primary = SOI, JFIF, EXIF, XMP (hdrgm:Version + GContainer), ICC, ISO
// version, MPF, then the primary's own tables and scan data; gain map = SOI, XMP (hdrgm),
// ISO metadata, tables and scan data. Pixel data is copied byte for byte.
#include <string>

#include "container/iso21496.h"
#include "container/jpeg_segments.h"
#include "container/mpf.h"
#include "container/xmp.h"
#include "regain/jpegr.h"
#include "util/bytes.h"

namespace regain {

namespace {

constexpr size_t kMaxSegmentPayload = 65533;

Result<void> put_segment(ByteWriter& w, uint8_t marker, std::string_view sig,
                         std::span<const uint8_t> body) {
  size_t len = sig.size() + body.size();
  if (len > kMaxSegmentPayload)
    return fail(ErrorCode::InvalidInput, std::string("segment ") + jpeg_marker_name(marker) + " payload of " +
                                             std::to_string(len) + " bytes exceeds 65533");
  w.u8(0xFF);
  w.u8(marker);
  w.u16(uint16_t(len + 2));
  w.append(sig);
  w.append(body);
  return {};
}

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// An ICC profile in APP2 chunks numbered 1..n: one byte each, so at most 255 chunks (16.7 MB).
Result<void> put_icc(ByteWriter& w, std::span<const uint8_t> icc) {
  constexpr size_t kChunk = 65519;
  const size_t n = (icc.size() + kChunk - 1) / kChunk;
  if (n > 255)
    return fail(ErrorCode::InvalidInput, "ICC profile of " + std::to_string(icc.size()) +
                                             " bytes does not fit in 255 JPEG APP2 chunks");
  for (size_t i = 0; i < n; ++i) {
    auto part = icc.subspan(i * kChunk, std::min(kChunk, icc.size() - i * kChunk));
    std::vector<uint8_t> body = {uint8_t(i + 1), uint8_t(n)};
    body.insert(body.end(), part.begin(), part.end());
    REGAIN_CHECK(put_segment(w, 0xE2, kIccSig, body));
  }
  return {};
}

// Segments of an input JPEG that we keep: everything before the first SOS except the
// metadata we rewrite. `drop_exif` / `drop_icc` when the caller replaces them; extended-XMP
// segments stay with the main packet they belong to.
bool keep_segment(const JpegSegment& s, bool drop_exif, bool drop_icc, bool keep_xmp_ext = false) {
  if (s.marker == 0xD8) return false;
  if (s.marker == 0xE0 && starts_with(s.payload, kJfifSig)) return false;  // written first
  if (s.marker == 0xE1 && starts_with(s.payload, kXmpSig)) return false;
  if (s.marker == 0xE1 && starts_with(s.payload, kXmpExtSig)) return keep_xmp_ext;
  if (s.marker == 0xE1 && starts_with(s.payload, kExifSig)) return !drop_exif;
  if (s.marker == 0xE2 && (starts_with(s.payload, kIsoSig) || starts_with(s.payload, kMpfSig))) return false;
  if (s.marker == 0xE2 && starts_with(s.payload, kIccSig)) return !drop_icc;
  return true;
}

struct Stream {
  JpegStream s;
  std::span<const uint8_t> bytes;
};

Result<Stream> open(std::span<const uint8_t> jpeg, const char* what) {
  auto s = parse_jpeg_stream(jpeg, 0);
  if (!s) return tl::unexpected(with_context(s.error(), what));
  if (s->truncated) return fail(ErrorCode::InvalidInput, std::string(what) + ": JPEG has no EOI");
  return Stream{std::move(*s), jpeg.subspan(0, s->end)};
}

void put_jfif(ByteWriter& w, const Stream& st) {
  if (const auto* j = st.s.find_app(0xE0, kJfifSig))
    w.append(st.bytes.subspan(j->offset, j->total_size));
}

void put_rest(ByteWriter& w, const Stream& st, bool drop_exif, bool drop_icc, bool keep_xmp_ext = false) {
  for (const auto& seg : st.s.segments) {
    if (seg.offset >= st.s.first_sos) break;
    if (keep_segment(seg, drop_exif, drop_icc, keep_xmp_ext)) w.append(st.bytes.subspan(seg.offset, seg.total_size));
  }
  w.append(st.bytes.subspan(st.s.first_sos));
}

// The main XMP packet of a stream (text after the APP1 signature), empty if none.
std::string_view xmp_packet(const Stream& st) {
  const auto* seg = st.s.find_app(0xE1, kXmpSig);
  if (!seg) return {};
  auto body = seg->payload.subspan(kXmpSig.size());
  return {reinterpret_cast<const char*>(body.data()), body.size()};
}

}  // namespace

Result<std::vector<uint8_t>> strip_gain_map_signalling(std::span<const uint8_t> primary_jpeg) {
  REGAIN_TRY(st, open(primary_jpeg, "primary JPEG"));
  ByteWriter w(true);
  w.u8(0xFF); w.u8(0xD8);
  put_jfif(w, st);
  if (const auto* e = st.s.find_app(0xE1, kExifSig)) w.append(st.bytes.subspan(e->offset, e->total_size));
  std::string px = strip_gain_map_xmp(xmp_packet(st));
  if (!px.empty()) REGAIN_CHECK(put_segment(w, 0xE1, kXmpSig, bytes_of(px)));
  put_rest(w, st, /*drop_exif=*/true, /*drop_icc=*/false, /*keep_xmp_ext=*/true);
  return w.take();
}

Result<std::vector<uint8_t>> with_jpeg_metadata(std::span<const uint8_t> jpeg, std::span<const uint8_t> exif,
                                                std::span<const uint8_t> icc) {
  REGAIN_TRY(st, open(jpeg, "JPEG"));
  ByteWriter w(true);
  w.u8(0xFF); w.u8(0xD8);
  put_jfif(w, st);
  if (!exif.empty()) REGAIN_CHECK(put_segment(w, 0xE1, kExifSig, exif));
  if (!icc.empty()) REGAIN_CHECK(put_icc(w, icc));
  put_rest(w, st, /*drop_exif=*/true, /*drop_icc=*/true);
  return w.take();
}

Result<std::vector<uint8_t>> assemble_jpegr(std::span<const uint8_t> primary_jpeg,
                                            std::span<const uint8_t> gain_map_jpeg,
                                            const GainMapMetadata& meta, const JpegrWriteOptions& opt) {
  REGAIN_CHECK(validate(meta));
  if (!opt.write_xmp && !opt.write_iso)
    return fail(ErrorCode::InvalidInput, "JPEG_R: at least one metadata flavour must be written");
  if (meta.curve != GainCurve::Iso21496)
    return fail(ErrorCode::Unsupported, "JPEG_R: Apple-curve gain maps must be converted to ISO form first");
  REGAIN_TRY(primary, open(primary_jpeg, "primary JPEG"));
  REGAIN_TRY(gain, open(gain_map_jpeg, "gain-map JPEG"));

  std::optional<std::string> gm_xmp;
  if (opt.write_xmp) {
    auto x = opt.keep_other_xmp ? merge_gainmap_xmp(xmp_packet(gain), meta) : gainmap_xmp(meta);
    if (!x && x.error().code != ErrorCode::Unsupported) return tl::unexpected(x.error());
    if (x) gm_xmp = std::move(*x);
  }
  if (!gm_xmp && opt.keep_other_xmp && !xmp_packet(gain).empty()) {
    std::string kept = strip_gain_map_xmp(xmp_packet(gain));  // e.g. Apple's properties
    if (!kept.empty()) gm_xmp = std::move(kept);
  }
  std::vector<uint8_t> iso;
  if (opt.write_iso || !gm_xmp) {
    REGAIN_TRY(enc, encode_iso21496(meta));
    iso = std::move(enc);
  }

  // Gain-map image first: its size goes into the primary's XMP and MPF.
  ByteWriter g(true);
  g.u8(0xFF); g.u8(0xD8);
  put_jfif(g, gain);
  if (gm_xmp) REGAIN_CHECK(put_segment(g, 0xE1, kXmpSig, bytes_of(*gm_xmp)));
  if (!iso.empty()) REGAIN_CHECK(put_segment(g, 0xE2, kIsoSig, iso));
  // The gain map's ICC names the colour space of the math when it is not the base's.
  bool keep_gm_icc = false;
  if (opt.gain_map_icc && !opt.gain_map_icc->empty()) REGAIN_CHECK(put_icc(g, *opt.gain_map_icc));
  else if (!opt.gain_map_icc) keep_gm_icc = !meta.use_base_colour_space;
  put_rest(g, gain, /*drop_exif=*/true, /*drop_icc=*/!keep_gm_icc);
  std::vector<uint8_t> gm_bytes = g.take();

  ByteWriter w(true);
  w.u8(0xFF); w.u8(0xD8);
  put_jfif(w, primary);
  const bool replace_exif = opt.exif.has_value();
  if (replace_exif && !opt.exif->empty()) {
    std::vector<uint8_t> body(opt.exif->begin(), opt.exif->end());
    REGAIN_CHECK(put_segment(w, 0xE1, kExifSig, body));
  } else if (!replace_exif) {
    if (const auto* e = primary.s.find_app(0xE1, kExifSig)) w.append(primary.bytes.subspan(e->offset, e->total_size));
  }
  if (gm_xmp) {
    REGAIN_TRY(px, opt.keep_other_xmp ? merge_primary_xmp(xmp_packet(primary), gm_bytes.size())
                                      : Result<std::string>(primary_xmp(gm_bytes.size())));
    REGAIN_CHECK(put_segment(w, 0xE1, kXmpSig, bytes_of(px)));
  } else if (opt.keep_other_xmp && !xmp_packet(primary).empty()) {
    // ISO-only output: the user's packet without old hdrgm signalling (it would be stale).
    std::string px = strip_gain_map_xmp(xmp_packet(primary));
    if (!px.empty()) REGAIN_CHECK(put_segment(w, 0xE1, kXmpSig, bytes_of(px)));
  }
  const bool replace_icc = opt.icc.has_value();
  if (replace_icc && !opt.icc->empty()) put_icc(w, *opt.icc);
  else if (!replace_icc)
    for (const auto* c : primary.s.find_all_app(0xE2, kIccSig)) w.append(primary.bytes.subspan(c->offset, c->total_size));
  if (!iso.empty()) REGAIN_CHECK(put_segment(w, 0xE2, kIsoSig, iso_version_payload()));
  const size_t mpf_pos = w.size();
  REGAIN_CHECK(put_segment(w, 0xE2, {}, build_mpf(0, 0, 0)));
  // EXIF and ICC were written above; keep_segment must not copy them again.
  put_rest(w, primary, /*drop_exif=*/true, /*drop_icc=*/true, /*keep_xmp_ext=*/opt.keep_other_xmp);

  const size_t primary_size = w.size();
  if (primary_size + gm_bytes.size() > 0xFFFFFFFFull)
    return fail(ErrorCode::TooLarge, "JPEG_R: output over 4 GiB cannot be indexed by MPF");
  // Patch the MPF entries now that the primary size is known.
  auto mpf = build_mpf(uint32_t(primary_size), uint32_t(gm_bytes.size()),
                       uint32_t(primary_size - (mpf_pos + 8)));
  std::copy(mpf.begin(), mpf.end(), w.bytes().begin() + mpf_pos + 4);
  w.append(gm_bytes);
  return w.take();
}

}  // namespace regain
