// master_image: one HDR master -> PQ HEICs, gain-map HEIC/JPEG_R/AVIF, optional PQ TIFF and
// previews. Everything is produced in memory; the caller writes the files only when all of
// them succeeded, so a bad input leaves nothing behind.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "container/heif_decode.h"
#include "pipeline/master_base.h"
#include "regain/heif.h"
#include "regain/icc.h"
#include "regain/label.h"
#include "regain/master.h"
#include "regain/overlay.h"
#include "regain/pipeline.h"
#include "regain/report.h"
#include "regain/tonemap.h"
#include "util/parallel.h"

namespace regain {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

struct ExportInfo {
  MasterExport kind;
  std::string_view key, profile, ext;
};
constexpr ExportInfo kExports[] = {
    {MasterExport::Pq, "pq", "HDR_P3_D65_ST2084", "heic"},
    {MasterExport::PqCompat, "pq-compat", "P3_PQ", "heic"},
    {MasterExport::GainMapHeic, "gainmap", "HDR_gain_map", "heic"},
    {MasterExport::GainMapJpeg, "jpeg", "HDR_gain_map", "jpg"},
    {MasterExport::GainMapAvif, "avif", "HDR_gain_map", "avif"},
    {MasterExport::PqTiff, "tiff", "HDR_P3_D65_ST2084", "tif"},
};
const ExportInfo& info(MasterExport e) {
  for (const auto& i : kExports)
    if (i.kind == e) return i;
  return kExports[0];
}

bool is_pq_heic(MasterExport e) { return e == MasterExport::Pq || e == MasterExport::PqCompat; }
bool is_gain_map(MasterExport e) {
  return e == MasterExport::GainMapHeic || e == MasterExport::GainMapJpeg || e == MasterExport::GainMapAvif;
}

// Integer-factor box downscale so the long side is at most `max_side` (previews only).
template <class T>
Image<T> downscale(const Image<T>& src, int max_side) {
  const int f = std::max(1, (std::max(src.width(), src.height()) + max_side - 1) / max_side);
  if (f == 1) return src;
  const int w = std::max(1, src.width() / f), h = std::max(1, src.height() / f), c = src.channels();
  Image<T> out(w, h, c);
  std::vector<float> acc(size_t(w) * c);
  for (int y = 0; y < h; ++y) {
    std::fill(acc.begin(), acc.end(), 0.f);
    for (int yy = y * f; yy < (y + 1) * f; ++yy) {
      const T* s = src.row(yy);
      for (int x = 0; x < w * f; ++x)
        for (int k = 0; k < c; ++k) acc[size_t(x / f) * c + k] += float(s[size_t(x) * c + k]);
    }
    T* d = out.row(y);
    const float inv = 1.f / float(f * f);
    for (size_t i = 0; i < acc.size(); ++i) {
      if constexpr (std::is_same_v<T, float>) d[i] = acc[i] * inv;
      else d[i] = T(std::clamp(acc[i] * inv + 0.5f, 0.f, 255.f));
    }
  }
  return out;
}

// Preview of a PQ export: our own decode of the written file (so the preview shows what
// the file holds), tone-mapped for an SDR screen with the built-in mapper, Display P3 PNG.
Result<std::vector<uint8_t>> pq_preview(const std::vector<uint8_t>& file, const MasterOptions& opt) {
  REGAIN_TRY(hf, read_heif(file, opt.limits));
  REGAIN_TRY(pic, decode_heif_item(hf, file, hf.primary, opt.limits, opt.threads));
  const ImageF lin = downscale(signal_to_relative_light(pic.pixels, pic.bit_depth, Transfer::PQ), opt.preview_size);
  return encode_png8(tone_map_base(lin, Primaries::DisplayP3, 0, opt.threads), make_display_icc(Primaries::DisplayP3));
}

// Preview of a gain-map export: its SDR rendition as decoded from the file.
Result<std::vector<uint8_t>> sdr_preview(const std::vector<uint8_t>& file, Primaries base_primaries,
                                         const MasterOptions& opt) {
  DecodeOptions d;
  d.limits = opt.limits;
  d.threads = opt.threads;
  REGAIN_TRY(sdr, decode_gainmap_sdr(file, d));
  return encode_png8(downscale(sdr, opt.preview_size), make_display_icc(base_primaries));
}

Result<std::vector<uint8_t>> tiff_preview(const Image16& pq16, const MasterOptions& opt) {
  const ImageF small = downscale(signal_to_relative_light(pq16, 16, Transfer::PQ), opt.preview_size);
  return encode_png8(tone_map_base(small, Primaries::DisplayP3, 0, opt.threads), make_display_icc(Primaries::DisplayP3));
}

}  // namespace

std::optional<MasterExport> parse_master_export(std::string_view s) {
  for (const auto& i : kExports)
    if (i.key == s) return i.kind;
  if (s == "jpg" || s == "jpegr") return MasterExport::GainMapJpeg;
  return std::nullopt;
}
std::string_view master_export_key(MasterExport e) { return info(e).key; }
std::string_view master_export_profile(MasterExport e) { return info(e).profile; }
std::string_view master_export_extension(MasterExport e) { return info(e).ext; }
std::string master_file_name(std::string_view stem, MasterExport e) {
  return std::string(stem) + "_" + std::string(info(e).profile) + "." + std::string(info(e).ext);
}

Result<MasterResult> master_image(std::span<const uint8_t> input, std::string_view stem, const MasterOptions& opt) {
  if (opt.exports.empty()) return fail(ErrorCode::InvalidInput, "master: no exports requested");
  if (opt.map_scale != 1 && opt.map_scale != 2 && opt.map_scale != 4 && opt.map_scale != 8)
    return fail(ErrorCode::InvalidInput, "master: gain-map scale must be 1, 2, 4 or 8");
  if (!std::isfinite(opt.exposure) || std::abs(opt.exposure) > 16)
    return fail(ErrorCode::InvalidInput, "master: --exposure must be within +-16 stops");
  if (!std::isfinite(opt.sdr_exposure) || opt.sdr_exposure < 0 || opt.sdr_exposure > 3)
    return fail(ErrorCode::InvalidInput, "master: --sdr-exposure must be within 0..3 stops");
  const auto t0 = Clock::now();
  nlohmann::json timing;
  REGAIN_TRY(m, load_master(input, opt));
  ImageF& master = m.rgb;
  const int W = master.width(), H = master.height();
  timing["load_ms"] = ms_since(t0);

  auto wants = [&](auto pred) { return std::any_of(opt.exports.begin(), opt.exports.end(), pred); };
  const bool want_pq = wants(is_pq_heic);
  const bool want_gain_map = wants(is_gain_map);
  const bool want_tiff = wants([](MasterExport e) { return e == MasterExport::PqTiff; });

  // PQ code values of the unlabelled master: 10-bit for the HEICs, 16-bit for the TIFF.
  auto t = Clock::now();
  Image16 pq10, pq16;
  if (want_pq) pq10 = encode_pq(master, 10, opt.threads);
  if (want_tiff) pq16 = encode_pq(master, 16, opt.threads);
  timing["pq_ms"] = ms_since(t);

  // SDR base and gain map (shared by the HEIC, JPEG_R and AVIF exports).
  t = Clock::now();
  Image8 base;
  ComputedGainMap cg;
  Primaries base_primaries = opt.lut ? opt.lut_output : opt.sdr_primaries;
  std::optional<LabelRect> label_box;
  nlohmann::json tone;
  if (want_gain_map) {
    if (opt.lut) {
      base = lut_base(master, *opt.lut, opt.threads);
      tone = {{"method", "lut"}, {"lut_title", opt.lut->title}, {"lut_size", opt.lut->size}};
    } else {
      base = tone_map_base(master, base_primaries, opt.sdr_exposure, opt.threads);
      tone = {{"method", "BT.2446-1 Method A"}, {"sdr_exposure", opt.sdr_exposure}};
    }
    tone["base_primaries"] = std::string(primaries_name(base_primaries));
    const std::string text(master_export_profile(MasterExport::GainMapHeic));
    // The master goes into the base's primaries for the ratio (gain maps use the base's
    // colour space); the label is burned into both renditions at the same SDR light.
    ImageF hdr_for_map;
    ImageF* hdr = &master;
    if (base_primaries != Primaries::DisplayP3) {
      hdr_for_map = master;
      const Mat3 mtx = gamut_matrix(Primaries::DisplayP3, base_primaries);
      parallel_for(H, opt.threads, [&](int y0, int y1) {
        for (int y = y0; y < y1; ++y) {
          float* p = hdr_for_map.row(y);
          for (int x = 0; x < W; ++x, p += 3) {
            const Vec3 v = mul(mtx, Vec3{p[0], p[1], p[2]});
            p[0] = v[0], p[1] = v[1], p[2] = v[2];
          }
        }
      });
      hdr = &hdr_for_map;
    }
    if (opt.label) {
      REGAIN_TRY(r8, draw_label(base, text));
      REGAIN_TRY(rf, draw_label(*hdr, text, 1.f));
      (void)rf;
      label_box = r8;
    }
    REGAIN_TRY(map, master_gain_map(base, *hdr, base_primaries, opt.map_scale, label_box, opt.threads));
    cg = std::move(map);
  }
  timing["base_and_map_ms"] = ms_since(t);

  // Encode every export.
  MasterResult out;
  nlohmann::json exports = nlohmann::json::array();
  HeifEncodeOptions ho;
  ho.quality = opt.quality;
  ho.gain_map_quality = opt.gain_map_quality;
  ho.threads = opt.threads;
  // Both PQ HEICs in one go: the same pixels except the label tile(s), so the second file
  // reuses every other coded tile (regain/heif.h encode_heif_image_set).
  std::vector<std::vector<uint8_t>> pq_files;
  double pq_encode_ms = 0;
  auto encode_pq_heics = [&]() -> Result<void> {
    if (!pq_files.empty()) return {};
    const auto tp = Clock::now();
    HeifEncodeOptions pq_opt = ho;
    pq_opt.quality = opt.pq_quality;
    // Near-lossless QPs are bound by entropy coding, not by mode decisions: x265's ultrafast
    // preset was 40% faster than `fast` at quality 100 for 1% more bytes and the same error.
    if (opt.pq_quality >= 99) pq_opt.effort = 0;
    Image16 a = pq10, b = pq10;
    if (opt.label) {
      REGAIN_CHECK(paint_label_pq(a, master_export_profile(MasterExport::Pq), 10));
      REGAIN_CHECK(paint_label_pq(b, master_export_profile(MasterExport::PqCompat), 10));
    }
    const auto icc_a = make_hdr_icc(HdrIccProfile::HdrP3D65St2084);
    const auto icc_b = make_hdr_icc(HdrIccProfile::P3Pq);
    const HeifImageVariant v[2] = {{&a, icc_a}, {&b, icc_b}};
    const bool both = wants([](MasterExport x) { return x == MasterExport::Pq; }) &&
                      wants([](MasterExport x) { return x == MasterExport::PqCompat; });
    std::span<const HeifImageVariant> which(v, 2);
    if (!both) which = wants([](MasterExport x) { return x == MasterExport::Pq; }) ? which.first(1) : which.last(1);
    REGAIN_TRY(files, encode_heif_image_set(which, 10, Nclx{12, 16, 0, true}, pq_opt));
    pq_files.assign(2, {});
    if (both) pq_files = std::move(files);
    else if (which.data() == v) pq_files[0] = std::move(files[0]);
    else pq_files[1] = std::move(files[0]);
    pq_encode_ms = ms_since(tp);
    return {};
  };
  for (MasterExport e : opt.exports) {
    if (std::any_of(out.files.begin(), out.files.end(), [&](const MasterFile& f) { return f.kind == e; })) continue;
    t = Clock::now();
    MasterFile f;
    f.kind = e;
    f.name = master_file_name(stem, e);
    const std::string text(master_export_profile(e));
    if (is_pq_heic(e)) {
      REGAIN_CHECK(encode_pq_heics());
      f.bytes = std::move(e == MasterExport::Pq ? pq_files[0] : pq_files[1]);
    } else if (e == MasterExport::GainMapHeic || e == MasterExport::GainMapAvif) {
      HeifEncodeOptions g = ho;
      g.avif = e == MasterExport::GainMapAvif;
      REGAIN_TRY(bytes, encode_heif_gainmap(base, base_primaries, make_display_icc(base_primaries), cg.map, cg.meta, g));
      f.bytes = std::move(bytes);
    } else if (e == MasterExport::GainMapJpeg) {
      JpegEncodeOptions jo;
      jo.quality = opt.jpeg_quality;
      jo.subsample_420 = false;  // 4:4:4 keeps the label and saturated edges crisp
      REGAIN_TRY(jpeg, encode_jpeg(base, jo));
      EncodeOptions eo;
      eo.map_quality = opt.gain_map_quality;
      eo.container.icc = make_display_icc(base_primaries);
      eo.container.keep_other_xmp = false;
      REGAIN_TRY(bytes, package_jpegr(jpeg, cg.map, cg.meta, eo));
      f.bytes = std::move(bytes);
    } else if (e == MasterExport::PqTiff) {
      REGAIN_TRY(bytes, encode_tiff16(pq16, make_hdr_icc(HdrIccProfile::HdrP3D65St2084)));
      f.bytes = std::move(bytes);
    }
    const double enc_ms = ms_since(t);
    if (opt.previews) {
      t = Clock::now();
      Result<std::vector<uint8_t>> p = is_pq_heic(e)     ? pq_preview(f.bytes, opt)
                                       : is_gain_map(e) ? sdr_preview(f.bytes, base_primaries, opt)
                                                        : tiff_preview(pq16, opt);
      if (!p) return tl::unexpected(with_context(p.error(), f.name + " preview"));
      f.preview_png = std::move(*p);
      timing[std::string(master_export_key(e)) + "_preview_ms"] = ms_since(t);
    }
    exports.push_back({{"export", std::string(master_export_key(e))},
                       {"file", f.name},
                       {"bytes", f.bytes.size()},
                       {"encode_ms", enc_ms}});
    out.files.push_back(std::move(f));
  }
  if (want_pq) timing["pq_heics_ms"] = pq_encode_ms;
  if (opt.previews && want_gain_map) {
    const Image8 small_map = downscale(cg.map, opt.preview_size);
    REGAIN_TRY(vis, encode_png8(small_map));
    out.gain_map_png = std::move(vis);
    // "Where HDR is added" for SDR screens: the base's pixels (not colour managed: a guide).
    REGAIN_TRY(where, encode_jpeg(gain_overlay(downscale(base, opt.preview_size), small_map, cg.meta, opt.threads), {88, true}));
    out.where_hdr_jpeg = std::move(where);
  }

  nlohmann::json& meta = out.meta;
  meta["width"] = W;
  meta["height"] = H;
  meta["input"] = {{"transfer", std::string(transfer_name(m.source_transfer))},
                   {"primaries", std::string(primaries_name(m.source_primaries))},
                   {"space_from", m.space_from},
                   {"exposure", m.source_transfer == Transfer::Linear ? opt.exposure : 0.0}};
  meta["exports"] = exports;
  meta["label"] = opt.label;
  if (want_gain_map) {
    meta["tone_mapper"] = tone;
    meta["gain_map"] = metadata_to_json(cg.meta);
    meta["gain_map"]["width"] = cg.map.width();
    meta["gain_map"]["height"] = cg.map.height();
    meta["gain_map"]["scale"] = opt.map_scale;
  }
  meta["warnings"] = m.warnings;
  timing["total_ms"] = ms_since(t0);
  meta["timing"] = timing;
  return out;
}

}  // namespace regain
