// process_image: edited SDR (+ optional original) -> Ultra HDR JPEG and its side outputs.
// The SDR base in the output is the user's edited image: a JPEG is carried byte for byte
// (only metadata segments change), anything else is encoded once at high quality.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <system_error>

#include "container/exif.h"
#include "container/heif_decode.h"
#include "regain/icc.h"
#include "regain/jpegr.h"
#include "regain/overlay.h"
#include "regain/pipeline.h"
#include "regain/process.h"
#include "regain/report.h"
#include "regain/heif.h"
#include "util/orientation.h"
#include "pipeline/reference.h"
#include "pipeline/transparency.h"
#include "util/parallel.h"
#include "util/rgb8.h"
#include "util/json_text.h"

namespace regain {

std::optional<OutputFormat> parse_output_format(std::string_view s) {
  if (s == "jpeg" || s == "jpg") return OutputFormat::Jpeg;
  if (s == "heic") return OutputFormat::Heic;
  if (s == "avif") return OutputFormat::Avif;
  return std::nullopt;
}

namespace {

using Clock = std::chrono::steady_clock;
// Checked between stages: a cancelled job stops at the next boundary and frees its buffers.
bool cancelled(const ProcessOptions& o) { return o.cancel && o.cancel->load(std::memory_order_relaxed); }
Error cancelled_error() { return Error{ErrorCode::Internal, "cancelled"}; }
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

struct EditedImage {
  Image8 pixels;                         // stored orientation, 8-bit RGB
  std::vector<uint8_t> jpeg;             // the primary JPEG when the input is one
  std::vector<uint8_t> icc;
  std::vector<uint8_t> exif;             // allow-listed TIFF stream (may be empty)
  int orientation = 1;
  Primaries primaries = Primaries::BT709;
  bool icc_known = true;
  bool tone_curve_not_srgb = false;      // the ICC's primaries are sRGB's but its curve is not
  Image8 alpha;                          // stored orientation; empty when the edit is opaque
  double transparent_share = 0;          // of alpha's pixels, not fully opaque
  bool alpha_premultiplied = false;      // (TIFF associated alpha) until flattened
};

// An ICC profile whose data colour space is GRAY cannot describe the RGB base we write.
bool is_gray_icc(std::span<const uint8_t> icc) {
  return icc.size() >= 20 && std::memcmp(icc.data() + 16, "GRAY", 4) == 0;
}

// A PQ, HLG or linear signal (cICP / an ICC `cicp` tag): an HDR image, not an SDR edit.
bool hdr_transfer_code(uint16_t code) {
  const auto t = transfer_from_cicp(code);
  return t == Transfer::PQ || t == Transfer::HLG || t == Transfer::Linear;
}
bool hdr_icc(std::span<const uint8_t> icc) {
  if (icc.empty()) return false;
  const auto tags = read_icc_tags(icc);
  return tags && tags->cicp && hdr_transfer_code(tags->cicp->transfer_characteristics);
}
Error hdr_edit_error(const char* what) {
  return Error{ErrorCode::Unsupported, std::string("the edited image is HDR (") + what +
                                           "); the edit must be SDR (an HDR image can be the --ref original)"};
}

// The edit's EXIF, allow-listed, to carry into the output. With `keep_orientation` its
// Orientation tag is the one the output keeps with the pixels as stored (a JPEG's, or a PNG's
// eXIf, which browsers honour); otherwise the tag is written as 1 (the pixels were turned
// upright, or the format's readers ignore the tag).
void take_exif(std::span<const uint8_t> tiff, bool keep_orientation, EditedImage& e,
               std::vector<std::string>& warnings) {
  if (tiff.empty()) return;
  ExifRebuildOptions xo;
  if (!keep_orientation) xo.orientation = 1;
  auto ex = rebuild_exif(tiff, xo);
  if (!ex) {
    warnings.push_back("EXIF unreadable, dropped: " + ex.error().message);
    return;
  }
  // One JPEG APP1 segment holds 65533 bytes, "Exif\0\0" included. Only a non-JPEG source can
  // bring more (the allow-list keeps long strings).
  constexpr size_t kMaxExifTiff = 65533 - 6;
  if (ex->size() > kMaxExifTiff) {
    warnings.push_back("EXIF of " + std::to_string(ex->size()) + " bytes does not fit in a JPEG, dropped");
    return;
  }
  e.exif = std::move(*ex);
  if (keep_orientation)
    if (const auto info = parse_exif(e.exif)) e.orientation = info->orientation;
}

// The alpha plane of a 4-sample 16-bit image (TIFF), or empty when every pixel is opaque.
Image8 alpha_of(const Image16& px) {
  if (px.channels() != 4) return {};
  Image8 a(px.width(), px.height(), 1);
  bool any = false;
  for (size_t i = 0, n = a.size(); i < n; ++i) {
    a.data()[i] = uint8_t((px.data()[4 * i + 3] * 255u + 32767u) / 65535u);
    any |= a.data()[i] != 255;
  }
  return any ? std::move(a) : Image8{};
}

std::string hex_colour(std::array<uint8_t, 3> c) {
  char s[8];
  std::snprintf(s, sizeof s, "#%02x%02x%02x", c[0], c[1], c[2]);
  return s;
}

Result<EditedImage> load_edited(std::span<const uint8_t> bytes, const Limits& limits,
                                std::array<uint8_t, 3> background, int threads,
                                std::vector<std::string>& warnings) {
  EditedImage e;
  const FileType t = sniff_file_type(bytes);
  if (t == FileType::Jpeg) {
    REGAIN_TRY(jr, read_jpegr(bytes));
    if (jr.gain_map) warnings.push_back("the edited image already had a gain map; it was replaced");
    e.jpeg.assign(jr.primary_bytes.begin(), jr.primary_bytes.end());
    e.icc = jr.icc;
    take_exif(jr.exif_tiff, true, e, warnings);  // the orientation of the EXIF actually written
    REGAIN_TRY(px, decode_jpeg(jr.primary_bytes, limits, 3));
    e.pixels = std::move(px);
    if (jr.primary.components == 1) {
      // A black-and-white edit: some readers (libultrahdr) refuse a gray base, so the
      // luma is re-packed losslessly as YCbCr rather than carried as is; a file the
      // re-packing refuses (coefficients an encoder may not write) is encoded from its pixels.
      if (auto ycc = gray_jpeg_to_ycc(jr.primary_bytes, limits)) {
        e.jpeg = std::move(*ycc);
        warnings.push_back("grayscale JPEG re-packed as YCbCr (luma unchanged) so every reader accepts the base");
      } else {
        if (ycc.error().code == ErrorCode::TooLarge) return tl::unexpected(ycc.error());
        e.jpeg.clear();
        warnings.push_back("grayscale JPEG could not be re-packed (" + ycc.error().message + "): base re-encoded");
      }
    }
  } else if (t == FileType::Png) {
    REGAIN_TRY(png, decode_png8(bytes, 3, limits));
    if (png.cicp && hdr_transfer_code(png.cicp->transfer))
      return tl::unexpected(hdr_edit_error("a PQ/HLG/linear cICP"));
    if (png.source_channels < 3) warnings.push_back("grayscale PNG written as RGB");
    if (png.bit_depth == 16) warnings.push_back("16-bit PNG reduced to 8 bits for the SDR base");
    e.pixels = std::move(png.pixels);
    e.alpha = std::move(png.alpha);
    e.icc = std::move(png.icc);
    // eXIf before IDAT: its orientation, as browsers show it. One after IDAT (ImageMagick's
    // place) is not read by browsers, so the picture is as stored and the tag is written as 1.
    if (png.exif_after_idat && !png.exif.empty())
      if (const auto info = parse_exif(png.exif); info && info->orientation != 1)
        warnings.push_back("PNG eXIf after the image data: its Orientation " + std::to_string(info->orientation) +
                           " ignored, as browsers ignore it");
    take_exif(png.exif, !png.exif_after_idat, e, warnings);
    // cICP without iCCP (PNG third edition): its primaries, and a display profile naming them.
    if (e.icc.empty() && png.cicp)
      if (const auto p = primaries_from_cicp(png.cicp->primaries); p && *p != Primaries::BT709) {
        e.primaries = *p;
        e.icc = make_display_icc(*p);
      }
  } else if (t == FileType::Tiff) {
    REGAIN_TRY(tif, decode_tiff(bytes, limits));
    if (tif.is_float) return tl::unexpected(hdr_edit_error("floating-point TIFF"));
    if (tif.pixels16.channels() < 3) warnings.push_back("grayscale TIFF written as RGB");
    if (tif.extra == TiffImage::Extra::Unspecified)
      warnings.push_back("TIFF 4th sample is not marked as alpha: ignored");
    if (tif.bit_depth == 16) warnings.push_back("16-bit TIFF reduced to 8 bits for the SDR base");
    // Turned upright here (a TIFF edit brings no EXIF to carry an orientation tag in).
    if (tif.extra == TiffImage::Extra::Alpha || tif.extra == TiffImage::Extra::PremultipliedAlpha) {
      e.alpha = alpha_of(tif.pixels16);
      if (!e.alpha.empty()) e.alpha = apply_orientation(e.alpha, tif.orientation);
      e.alpha_premultiplied = tif.extra == TiffImage::Extra::PremultipliedAlpha;
    }
    e.pixels = apply_orientation(to_rgb8(tif.pixels16), tif.orientation);
    e.icc = std::move(tif.icc);
  } else if (t == FileType::Heif || t == FileType::Avif) {
    // An edit saved back as HEIC/AVIF (phone photo apps do): the primary image, decoded with
    // its transforms applied (HEIF's irot/imir are mandatory), so orientation 1 from here on.
    REGAIN_TRY(hf, read_heif(bytes, limits));
    if (is_hdr_transfer(hf.primary.nclx)) return tl::unexpected(hdr_edit_error("a PQ/HLG/linear primary"));
    REGAIN_TRY(pic, decode_heif_item(hf, bytes, hf.primary, limits, 0, true));
    if (hf.gain_map) warnings.push_back("the edited image already had a gain map; it was replaced");
    take_exif(hf.exif_tiff, false, e, warnings);  // camera, date, author; Orientation 1
    e.primaries = heif_primaries(pic);
    e.icc = std::move(pic.icc);
    // nclx only (common in AVIF): a display profile for the same primaries, so the preview's
    // colour conversion and the output's ICC describe it.
    if (e.icc.empty() && e.primaries != Primaries::BT709) e.icc = make_display_icc(e.primaries);
    Image8 px = take_8bit(std::move(pic));
    if (px.channels() == 1) warnings.push_back("grayscale image written as RGB");
    e.pixels = to_rgb8(std::move(px));
    if (hf.alpha && (hf.alpha->display_width != hf.primary.display_width ||
                     hf.alpha->display_height != hf.primary.display_height)) {
      warnings.push_back("alpha plane is " + std::to_string(hf.alpha->display_width) + "x" +
                         std::to_string(hf.alpha->display_height) + ", not the picture's size: ignored");
    } else if (hf.alpha) {
      // Decoded with its transforms (the primary's when it has none of its own: see read_heif).
      auto a = decode_heif_item(hf, bytes, *hf.alpha, limits, 0, true);
      if (!a) {
        if (a.error().code == ErrorCode::TooLarge) return tl::unexpected(a.error());
        warnings.push_back("alpha plane unreadable, ignored: " + a.error().message);
      } else {
        Image8 plane = take_8bit(std::move(*a));
        if (plane.channels() == 3) {  // coded in colour: its luma (R = G = B for neutral chroma)
          Image8 y(plane.width(), plane.height(), 1);
          for (size_t i = 0; i < y.size(); ++i) y.data()[i] = plane.data()[3 * i];
          plane = std::move(y);
        }
        if (plane.channels() != 1 || plane.width() != e.pixels.width() || plane.height() != e.pixels.height()) {
          warnings.push_back("alpha plane does not match the picture's size, ignored");
        } else if (std::any_of(plane.span().begin(), plane.span().end(), [](uint8_t v) { return v != 255; })) {
          e.alpha = std::move(plane);
          e.alpha_premultiplied = hf.alpha_premultiplied;
        }
      }
    }
  } else if (t == FileType::Webp) {
    // Downloads, AI tools and messengers hand out WebP. Browsers (Chromium) show a WebP as
    // stored whatever its EXIF Orientation says, so that is the picture the user edited and
    // saw: pixels as stored, and the EXIF carried with Orientation 1.
    REGAIN_TRY(wp, decode_webp(bytes, limits));
    e.pixels = std::move(wp.pixels);
    e.alpha = std::move(wp.alpha);
    e.icc = std::move(wp.icc);
    if (!wp.exif.empty())
      if (const auto info = parse_exif(wp.exif); info && info->orientation != 1)
        warnings.push_back("WebP EXIF Orientation " + std::to_string(info->orientation) +
                           " ignored, as browsers ignore it: the picture is kept as stored");
    take_exif(wp.exif, false, e, warnings);
  } else {
    return fail(ErrorCode::Unsupported,
                std::string("the edited image must be a JPEG, PNG, TIFF, HEIC, AVIF or WebP, not ") + file_type_name(t));
  }
  if (hdr_icc(e.icc)) return tl::unexpected(hdr_edit_error("its ICC profile names a PQ/HLG/linear signal"));
  if (!e.alpha.empty()) {
    flatten_onto(e.pixels, e.alpha, background, e.alpha_premultiplied, threads);
    e.transparent_share = transparent_share(e.alpha);
    char share[32];
    std::snprintf(share, sizeof share, "%.1f", 100.0 * e.transparent_share);
    warnings.push_back(std::string("transparent pixels (") + share + " % of the image) flattened onto " +
                       hex_colour(background) + "; no HDR gain where the background shows");
  }
  if (is_gray_icc(e.icc)) {
    // The base is RGB now: an RGB profile with the gray profile's tone curve keeps the
    // picture's look (Photoshop's "Dot Gain 20%" is far from sRGB in the mid-tones).
    if (auto rgb = rgb_icc_from_gray(e.icc)) {
      e.icc = std::move(*rgb);
      e.tone_curve_not_srgb = true;
      warnings.push_back("grayscale ICC profile written as an RGB profile with the same tone curve");
    } else {
      warnings.push_back("grayscale ICC profile unreadable, dropped (" + rgb.error().message + ")");
      e.icc.clear();
    }
  }
  if (!e.icc.empty()) {
    auto info = inspect_icc(e.icc);
    if (info && info->primaries) e.primaries = *info->primaries;
    else e.icc_known = false;
  }
  return e;
}

// HEIC / AVIF: HEIF has no EXIF orientation that readers must honour (irot does), so base
// and map are written as displayed and the EXIF tag says 1. The base is re-encoded
// (HEVC/AV1 at high quality) with the edited image's ICC.
Result<std::vector<uint8_t>> package_heif(const EditedImage& e, const ComputedGainMap& cg, const ProcessOptions& opt) {
  HeifEncodeOptions ho;
  ho.avif = opt.format == OutputFormat::Avif;
  ho.threads = opt.threads;
  if (!e.exif.empty()) {
    ExifRebuildOptions xo;
    xo.orientation = 1;
    if (auto ex = rebuild_exif(e.exif, xo)) ho.exif = std::move(*ex);
  }
  const Image8 shown = apply_orientation(e.pixels, e.orientation);
  const Image8 map = apply_orientation(cg.map, e.orientation);
  return encode_heif_gainmap(shown, e.primaries, e.icc, map, cg.meta, ho);
}

const char* output_format_name(OutputFormat f) {
  return f == OutputFormat::Heic ? "heic" : f == OutputFormat::Avif ? "avif" : "jpeg";
}

// The edited SDR as an sRGB JPEG for web display: same pixel size and orientation tag. An
// sRGB JPEG is carried as is; anything else goes through one 8-bit lcms2 transform.
Result<std::vector<uint8_t>> sdr_preview(const EditedImage& e, int threads) {
  if (!e.jpeg.empty() && e.primaries == Primaries::BT709 && e.icc_known && !e.tone_curve_not_srgb)
    return with_jpeg_metadata(e.jpeg, make_orientation_exif(e.orientation), make_display_icc(Primaries::BT709));
  Image8 srgb;  // only when converting: an sRGB edit is encoded from its own pixels
  if (!e.icc.empty() && (e.primaries != Primaries::BT709 || !e.icc_known || e.tone_curve_not_srgb)) {
    srgb = Image8(e.pixels.width(), e.pixels.height(), 3);
    REGAIN_CHECK(icc_to_srgb8(e.icc, e.pixels.span(), srgb.span(), threads));
  }
  REGAIN_TRY(jpeg, encode_jpeg(srgb.empty() ? e.pixels : srgb, {92, true}));
  return with_jpeg_metadata(jpeg, make_orientation_exif(e.orientation), make_display_icc(Primaries::BT709));
}

}  // namespace

Result<ProcessResult> process_image(std::span<const uint8_t> edited_bytes,
                                    std::optional<std::span<const uint8_t>> reference,
                                    const ProcessOptions& opt) {
  const auto t0 = Clock::now();
  std::vector<std::string> warnings;
  // The edit decodes on its own thread while the original decodes here: the two are
  // independent, and a PNG edit's inflate is one serial stream (12-MP iPhone HEIC original +
  // PNG edit: 1.78 -> 1.49 s). The edit's error wins when both fail.
  std::optional<Result<RefRenditions>> original;
  std::vector<std::string> edit_warnings;
  auto edit_job = start_job([&] { return load_edited(edited_bytes, opt.limits, opt.background, opt.threads, edit_warnings); }, reference.has_value());
  if (reference) original = load_reference(*reference, opt.limits);
  REGAIN_TRY(e, edit_job.get());
  warnings = std::move(edit_warnings);
  if (cancelled(opt)) return tl::unexpected(cancelled_error());
  if (!e.icc_known) warnings.push_back("unrecognised ICC profile: gain computed in its own RGB space");
  const double load_ms = ms_since(t0);

  const auto t1 = Clock::now();
  auto fallback = opt.predictor ? nullptr : make_default_predictor();
  const Predictor& predictor = opt.predictor ? *opt.predictor : *fallback;
  PredictOptions po;
  po.boost = opt.boost;
  po.primaries = e.primaries;
  po.orientation = e.orientation;
  po.threads = opt.threads;
  if (!e.alpha.empty()) po.opacity = &e.alpha;
  std::string mode = "predictive";
  nlohmann::json alignment = nullptr, edited_share = nullptr, outside_share = nullptr, copied_regions = nullptr;
  ImageF gains;
  double boost = 0;
  std::string boost_reason;
  if (reference) {
    if (!*original) return tl::unexpected(original->error());
    REGAIN_TRY(ref, reference_gain(e.pixels, e.orientation, e.primaries, std::move(**original), predictor, po, opt.cancel));
    for (auto& w : ref.warnings) warnings.push_back(w);
    alignment = ref.alignment;
    if (ref.used) {
      mode = "reference";
      gains = std::move(ref.log2_gain);
      // The background of a transparent edit loses its gain before --boost measures the peak.
      if (!e.alpha.empty()) fade_gain_by_alpha(gains, e.alpha, opt.threads);
      edited_share = ref.edited_share;
      outside_share = ref.outside_share;
      copied_regions = ref.copied_regions;
      boost = opt.boost.value_or(ref.reference_headroom);
      boost_reason = opt.boost ? "given" : "the original's headroom";
      if (opt.boost) {
        // --boost caps the headroom; the original's gain is scaled down to fit under it.
        float mx = 0;
        for (float v : gains.span()) mx = std::max(mx, v);
        if (mx > *opt.boost)
          for (auto& v : gains.span()) v = float(v * (*opt.boost / mx));
      }
    }
  }
  if (cancelled(opt)) return tl::unexpected(cancelled_error());
  if (mode == "predictive") {
    REGAIN_TRY(pred, predictor.predict(e.pixels, po));
    gains = std::move(pred.log2_gain);
    if (!e.alpha.empty()) fade_gain_by_alpha(gains, e.alpha, opt.threads);  // the predictor's peak skipped it
    boost = pred.boost;
    boost_reason = pred.boost_reason;
  }
  // Metadata from the map actually written: exact min/max of the gains.
  REGAIN_TRY(cg, quantize_gain_map_exact(gains, e.primaries));
  const double predict_ms = ms_since(t1);
  if (cancelled(opt)) return tl::unexpected(cancelled_error());

  // Package: the edited JPEG is carried as is; other inputs are encoded once.
  const auto t2 = Clock::now();
  EncodeOptions eo;
  eo.container.keep_other_xmp = false;
  eo.container.exif = e.exif;
  eo.container.icc = e.icc.empty() ? make_display_icc(e.primaries) : e.icc;
  ProcessResult r;
  if (opt.format == OutputFormat::Jpeg) {
    std::vector<uint8_t> base = e.jpeg;
    if (base.empty()) {
      REGAIN_TRY(enc, encode_jpeg(e.pixels, {95, true}));
      base = std::move(enc);
    }
    REGAIN_TRY(file, package_jpegr(base, cg.map, cg.meta, eo));
    r.output = std::move(file);
  } else {
    REGAIN_TRY(file, package_heif(e, cg, opt));
    r.output = std::move(file);
  }
  if (cancelled(opt)) return tl::unexpected(cancelled_error());
  if (opt.want_previews) {
    // The sRGB preview (a colour conversion and a JPEG encode, one thread each) runs beside the
    // map PNG and the overlay: 12-MP PNG edit, --previews 0.62 -> 0.3 s of packaging.
    auto preview = start_job([&] { return sdr_preview(e, opt.threads); });
    Image8 turned_map, turned_sdr;  // only when the orientation is not 1: no copies otherwise
    if (e.orientation != 1) {
      turned_map = apply_orientation(cg.map, e.orientation);
      turned_sdr = apply_orientation(e.pixels, e.orientation);
    }
    const Image8& map_shown = e.orientation != 1 ? turned_map : cg.map;
    const Image8& sdr_shown = e.orientation != 1 ? turned_sdr : e.pixels;
    auto vis = encode_png8(map_shown);
    auto where = encode_jpeg(gain_overlay(sdr_shown, map_shown, cg.meta, opt.threads), {88, true});
    auto sdr = preview.get();  // joined before any early return
    if (!sdr) return tl::unexpected(sdr.error());
    if (!vis) return tl::unexpected(vis.error());
    if (!where) return tl::unexpected(where.error());
    r.sdr_preview = std::move(*sdr);
    r.gainmap_png = std::move(*vis);
    r.where_hdr_jpeg = std::move(*where);
  }
  const double package_ms = ms_since(t2);

  if (opt.want_hdr) {
    REGAIN_TRY(hdr, decode_gainmap_hdr(r.output));
    r.hdr = std::move(hdr.rgb);
    r.hdr_primaries = hdr.primaries;
  }
  const bool swap = orientation_swaps_axes(e.orientation);
  r.meta = {{"mode", mode},
            {"predictor", predictor.name()},
            {"boost", boost},
            {"boost_reason", boost_reason},
            {"input",
             {{"width", swap ? e.pixels.height() : e.pixels.width()},
              {"height", swap ? e.pixels.width() : e.pixels.height()},
              {"orientation", e.orientation},
              {"primaries", std::string(primaries_name(e.primaries))},
              {"base_carried_losslessly", !e.jpeg.empty()},
              {"transparent_share", e.transparent_share},
              {"background", e.alpha.empty() ? nlohmann::json(nullptr) : nlohmann::json(hex_colour(opt.background))}}},
            {"alignment", alignment},
            {"edited_share", edited_share},
            {"outside_reference_share", outside_share},
            {"copied_regions", copied_regions},
            {"gain_map", {{"width", cg.map.width()}, {"height", cg.map.height()}, {"channels", cg.map.channels()}}},
            {"metadata", metadata_to_json(cg.meta)},
            {"output", {{"format", output_format_name(opt.format)}, {"bytes", r.output.size()}}},
            {"timings_ms", {{"load", load_ms}, {"predict", predict_ms}, {"package", package_ms}, {"total", ms_since(t0)}}},
            {"warnings", warnings}};
  make_utf8(r.meta);  // warnings may quote text from the inputs
  return r;
}

}  // namespace regain
