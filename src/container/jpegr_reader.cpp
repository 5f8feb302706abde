// Reading gain-map JPEGs of every flavour, with the diagnostics `regain inspect` reports.
#include <algorithm>
#include <cmath>
#include <string>

#include "container/exif.h"
#include "container/iso21496.h"
#include "container/jpeg_segments.h"
#include "container/mpf.h"
#include "container/xmp.h"
#include "regain/jpegr.h"
#include "util/bytes.h"

namespace regain {

const char* metadata_source_name(MetadataSource s) {
  switch (s) {
    case MetadataSource::None: return "none";
    case MetadataSource::Iso: return "iso21496-1";
    case MetadataSource::Xmp: return "xmp-hdrgm";
    case MetadataSource::Apple: return "apple";
  }
  return "none";
}

namespace {

std::string_view as_text(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// What one JPEG image of the file carries.
struct Part {
  JpegStream stream;
  JpegPartInfo info;
  std::optional<Xmp> xmp;
  std::span<const uint8_t> iso_payload;  // after the URN
  std::span<const uint8_t> mpf_payload;  // after "MPF\0"
  size_t mpf_marker_offset = 0;
  std::span<const uint8_t> exif_tiff;
};

Part describe(std::span<const uint8_t> file, JpegStream stream, std::vector<std::string>& warnings,
              const char* label) {
  Part p;
  p.info.offset = stream.begin;
  p.info.size = stream.end - stream.begin;
  for (const auto& seg : stream.segments) {
    if (seg.offset >= stream.first_sos && stream.first_sos) break;
    JpegSegmentInfo si{jpeg_marker_name(seg.marker), "", seg.offset, seg.total_size};
    if (seg.marker == 0xE0 && starts_with(seg.payload, kJfifSig)) si.kind = "JFIF";
    else if (seg.marker == 0xE1 && starts_with(seg.payload, kExifSig)) {
      si.kind = "EXIF";
      p.info.exif = true;
      if (p.exif_tiff.empty()) p.exif_tiff = seg.payload.subspan(kExifSig.size());
    } else if (seg.marker == 0xE1 && starts_with(seg.payload, kXmpSig)) {
      si.kind = "XMP";
      auto x = parse_xmp(as_text(seg.payload.subspan(kXmpSig.size())));
      if (!x) {
        warnings.push_back(std::string(label) + ": XMP ignored: " + x.error().message);
      } else {
        if (x->declares(kNsHdrgm) || x->find(kNsHdrgm, "Version")) { p.info.xmp_hdrgm = true; si.kind += " hdrgm"; }
        if (!x->directory.empty()) { p.info.xmp_container = true; si.kind += " GContainer"; }
        if (x->declares(kNsApple)) { p.info.apple_xmp = true; si.kind += " Apple HDRGainMap"; }
        if (!p.xmp) p.xmp = std::move(*x);
      }
    } else if (seg.marker == 0xE1 && starts_with(seg.payload, kXmpExtSig)) si.kind = "XMP extension";
    else if (seg.marker == 0xE2 && starts_with(seg.payload, kIccSig)) { si.kind = "ICC"; p.info.icc = true; }
    else if (seg.marker == 0xE2 && starts_with(seg.payload, kIsoSig)) {
      auto body = seg.payload.subspan(kIsoSig.size());
      if (body.size() <= 4) { si.kind = "ISO 21496-1 (version)"; p.info.iso_version = true; }
      else { si.kind = "ISO 21496-1 (metadata)"; p.info.iso_full = true; }
      if (p.iso_payload.empty()) p.iso_payload = body;
    } else if (seg.marker == 0xE2 && starts_with(seg.payload, kMpfSig)) {
      si.kind = "MPF";
      p.info.mpf = true;
      if (p.mpf_payload.empty()) {
        p.mpf_payload = seg.payload.subspan(kMpfSig.size());
        p.mpf_marker_offset = seg.offset;
      }
    } else if (seg.marker == 0xEE) si.kind = "Adobe";
    p.info.segments.push_back(si);
  }
  if (auto ji = jpeg_info(file.subspan(stream.begin, stream.end - stream.begin))) {
    p.info.width = ji->width;
    p.info.height = ji->height;
    p.info.components = ji->components;
  }
  p.stream = std::move(stream);
  return p;
}

// True when the image's own metadata marks it as a gain map.
bool looks_like_gain_map(const Part& p) {
  if (p.info.iso_full || p.info.xmp_hdrgm) return true;
  if (p.xmp) {
    auto a = apple_from_xmp(*p.xmp);
    return a.version.has_value() || a.aux_type.find("hdrgainmap") != std::string::npos;
  }
  return false;
}

}  // namespace

Result<JpegrFile> read_jpegr(std::span<const uint8_t> file) {
  JpegrFile out;
  auto ps = parse_jpeg_stream(file, 0);
  if (!ps) return tl::unexpected(with_context(ps.error(), "primary image"));
  if (ps->truncated) {
    out.warnings.push_back("primary image: no EOI marker (file truncated?)");
    out.damaged = true;
    out.damage = out.warnings.back();
  }
  Part primary = describe(file, std::move(*ps), out.warnings, "primary");
  out.primary = primary.info;
  out.primary_bytes = file.subspan(primary.stream.begin, primary.stream.end - primary.stream.begin);
  out.exif_tiff = primary.exif_tiff;
  out.icc = collect_icc(file, primary.stream);
  if (!primary.exif_tiff.empty()) {
    auto exif = parse_exif(primary.exif_tiff);
    if (exif) {
      out.orientation = exif->orientation;
      out.has_gps = exif->has_gps;
      out.apple_maker33 = exif->apple_maker33;
      out.apple_maker48 = exif->apple_maker48;
    } else {
      out.warnings.push_back("primary EXIF unreadable: " + exif.error().message);
    }
  }

  // ---- locate the gain map --------------------------------------------------------------
  std::optional<Part> gm;
  auto try_at = [&](size_t off) -> std::optional<Part> {
    if (off + 2 > file.size() || file[off] != 0xFF || file[off + 1] != 0xD8) return std::nullopt;
    auto s = parse_jpeg_stream(file, off);
    if (!s) return std::nullopt;
    std::vector<std::string> w;
    Part p = describe(file, std::move(*s), w, "gain map");
    if (!looks_like_gain_map(p)) return std::nullopt;
    for (auto& m : w) out.warnings.push_back(m);
    if (p.stream.truncated) out.warnings.push_back("gain map: no EOI marker (file truncated?)");
    return p;
  };
  bool mpf_pointed_wrongly = false;
  if (!primary.mpf_payload.empty()) {
    auto mpf = parse_mpf(primary.mpf_payload);
    if (!mpf) {
      out.warnings.push_back("MPF unreadable: " + mpf.error().message);
    } else {
      const size_t base = primary.mpf_marker_offset + 8;
      int attempts = 0;
      std::vector<size_t> tried;
      for (const auto& e : mpf->entries) {
        MpfEntryInfo ei{e.attribute, e.size, e.offset, e.offset ? base + e.offset : 0, false};
        if (e.offset == 0) {
          ei.valid = true;  // the primary itself
          out.mpf_entries.push_back(ei);
          continue;
        }
        ei.valid = ei.file_offset + 2 <= file.size() && file[ei.file_offset] == 0xFF &&
                   file[ei.file_offset + 1] == 0xD8;
        if (ei.valid && uint64_t(ei.file_offset) + e.size > file.size())
          out.warnings.push_back("MPF entry at " + std::to_string(ei.file_offset) + " claims " +
                                 std::to_string(e.size) + " bytes, past the end of the file");
        out.mpf_entries.push_back(ei);
        if (gm || out.mpf_entries.size() > 64) continue;
        // Each candidate costs a walk of its stream: never the same offset twice, and only
        // a few in all (hostile files list up to 1000 entries).
        if (std::find(tried.begin(), tried.end(), ei.file_offset) != tried.end() || ++attempts > 8) continue;
        tried.push_back(ei.file_offset);
        if (ei.valid) {
          gm = try_at(ei.file_offset);
        } else if (ei.file_offset >= file.size()) {
          out.warnings.push_back("MPF points the gain map past the end of the file (offset " +
                                 std::to_string(ei.file_offset) + ", file " + std::to_string(file.size()) +
                                 " bytes): gain map missing");
          if (!out.damaged) {
            out.damaged = true;
            out.damage = out.warnings.back();
          }
        } else if ((gm = try_at(e.offset))) {
          mpf_pointed_wrongly = true;
          out.warnings.push_back(
              "MPF gain-map offset is counted from the file start instead of the MPF header: "
              "Chrome and Android ignore this gain map (regain repair fixes it)");
        }
      }
    }
  }
  if (!gm && primary.xmp && !primary.xmp->directory.empty()) {
    // GContainer: items follow the primary back to back (plus padding).
    uint64_t pos = primary.stream.end;
    const auto& dir = primary.xmp->directory;
    if (!dir.empty() && dir[0].padding) pos += *dir[0].padding;
    for (size_t i = 1; i < dir.size() && !gm; ++i) {
      if (dir[i].semantic == "GainMap") {
        if (pos < file.size()) gm = try_at(size_t(pos));
        if (gm) out.warnings.push_back("gain map found through the GContainer directory only (no usable MPF entry)");
        break;
      }
      pos += dir[i].length.value_or(0) + dir[i].padding.value_or(0);
    }
  }
  if (!gm && !primary.stream.truncated && primary.stream.end < file.size()) {
    // Last resort: the image that structurally follows the primary's EOI (what libultrahdr
    // does). Not a byte scan: EXIF thumbnails live inside the primary and are skipped.
    if ((gm = try_at(primary.stream.end)))
      out.warnings.push_back("gain map found only by position after the primary (no MPF entry for it)");
  }
  if (!gm) {
    if (primary.info.xmp_hdrgm || primary.info.iso_version || !out.mpf_entries.empty())
      if (out.mpf_entries.size() > 1 || primary.info.xmp_hdrgm || primary.info.iso_version) {
        out.warnings.push_back("primary announces a gain map but none could be located");
        if (!out.damaged) {
          out.damaged = true;
          out.damage = out.warnings.back();
        }
      }
    return out;
  }

  out.gain_map = gm->info;
  out.gain_map_bytes = file.subspan(gm->stream.begin, gm->stream.end - gm->stream.begin);
  out.gain_map_icc = collect_icc(file, gm->stream);
  for (size_t i = gm->stream.end; i < file.size(); ++i)
    if (file[i] != 0) ++out.trailing_bytes;  // zero padding does not count

  // ---- metadata (ISO wins, then XMP, then Apple) -----------------------------------------
  if (gm->info.iso_full) {
    auto iso = decode_iso21496(gm->iso_payload);
    if (iso) out.iso_metadata = *iso;
    else out.warnings.push_back("gain map ISO 21496-1 metadata ignored: " + iso.error().message);
  }
  if (gm->xmp && gm->info.xmp_hdrgm) {
    auto x = hdrgm_from_xmp(*gm->xmp);
    if (x) out.xmp_metadata = *x;
    else out.warnings.push_back("gain map XMP metadata ignored: " + x.error().message);
  }
  if (gm->xmp) {
    auto a = apple_from_xmp(*gm->xmp);
    out.apple_version = a.version;
    if (a.headroom && *a.headroom >= 1.0) out.apple_headroom = a.headroom;
  }
  if (!out.apple_headroom && (out.apple_maker33 || out.apple_maker48) && out.apple_version) {
    ExifInfo e;
    e.apple_maker33 = out.apple_maker33;
    e.apple_maker48 = out.apple_maker48;
    out.apple_headroom = apple_headroom_from_makernote(e);
  }
  if (out.iso_metadata) { out.metadata = out.iso_metadata; out.source = MetadataSource::Iso; }
  else if (out.xmp_metadata) { out.metadata = out.xmp_metadata; out.source = MetadataSource::Xmp; }
  else if (out.apple_version && out.apple_headroom) {
    out.metadata = apple_metadata(*out.apple_headroom);
    out.source = MetadataSource::Apple;
  } else {
    out.warnings.push_back("gain map has no usable metadata: it will be ignored");
  }

  // ---- what makes ecosystems ignore it ---------------------------------------------------
  bool fixable = mpf_pointed_wrongly;
  if (!primary.info.mpf) {
    out.warnings.push_back("primary has no MPF index: Chrome and Android ignore the gain map");
    fixable = true;
  }
  if (out.iso_metadata && !primary.info.iso_version && !(out.xmp_metadata && primary.info.xmp_hdrgm))
    out.warnings.push_back("ISO metadata in the gain map but no ISO version segment in the primary: Chrome ignores it");
  if (out.xmp_metadata && !primary.info.xmp_hdrgm && !(out.iso_metadata && primary.info.iso_version))
    out.warnings.push_back("hdrgm XMP in the gain map but not in the primary: Chrome ignores it");
  if (out.source == MetadataSource::Iso || out.source == MetadataSource::Xmp) {
    if (!out.iso_metadata) out.warnings.push_back("no ISO 21496-1 metadata: readers that only take ISO (Android 15+ ISO path, newer Apple) may ignore the gain map");
    if (!out.xmp_metadata) out.warnings.push_back("no hdrgm XMP: Android 14 and older Ultra HDR readers ignore the gain map");
    if (!out.iso_metadata || !out.xmp_metadata || !primary.info.iso_version || !primary.info.xmp_hdrgm) fixable = true;
  }
  if (out.source == MetadataSource::Apple) {
    out.warnings.push_back("only Apple gain-map metadata: Android and Ultra HDR readers ignore it");
    fixable = true;
  }
  if (out.iso_metadata && out.xmp_metadata) {
    const auto& a = *out.iso_metadata;
    const auto& b = *out.xmp_metadata;
    bool differ = std::fabs(a.alternate_headroom - b.alternate_headroom) > 1e-3;
    for (int c = 0; c < 3; ++c)
      differ = differ || std::fabs(a.channel[c].max - b.channel[c].max) > 1e-3 ||
               std::fabs(a.channel[c].min - b.channel[c].min) > 1e-3;
    if (differ) out.warnings.push_back("ISO and XMP metadata disagree: readers will render differently");
  }
  if (gm->info.exif) out.warnings.push_back("gain-map image carries EXIF (its orientation must be ignored)");
  if (primary.xmp) {
    for (const auto& item : primary.xmp->directory)
      if (item.semantic == "GainMap" && item.length && *item.length != gm->info.size)
        out.warnings.push_back("GContainer Item:Length " + std::to_string(*item.length) +
                               " differs from the gain-map size " + std::to_string(gm->info.size));
  }
  out.repair_would_help = fixable && out.metadata.has_value();
  return out;
}

}  // namespace regain
