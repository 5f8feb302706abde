// `regain encode`: SDR + HDR -> JPEG_R, or SDR + existing gain map + metadata JSON -> JPEG_R.
#include <iostream>

#include "cli/common.h"
#include "cli/io.h"
#include "container/exif.h"
#include "regain/icc.h"
#include "regain/jpegr.h"
#include "regain/pipeline.h"
#include "regain/report.h"
#include "util/orientation.h"

namespace regain::cli {

namespace {

struct Opts {
  std::string sdr, hdr, gainmap, meta, out;
  int scale = 4, quality = 95, map_quality = 90;
  bool multichannel = false, no_xmp = false, no_iso = false, keep_gps = false;
  double gamma = 1.0;
  std::string hdr_transfer, hdr_primaries;
};

struct Sdr {
  std::vector<uint8_t> bytes;  // original file
  bool is_jpeg = false;
  Image8 pixels;               // stored orientation
  int orientation = 1;
  Primaries primaries = Primaries::BT709;
  std::vector<uint8_t> icc;
  std::span<const uint8_t> exif_tiff;
};

Result<Sdr> load_sdr(const std::string& path) {
  Sdr s;
  REGAIN_TRY(bytes, read_input(path));
  s.bytes = std::move(bytes);
  FileType t = sniff_file_type(s.bytes);
  if (t == FileType::Jpeg) {
    s.is_jpeg = true;
    REGAIN_TRY(jr, read_jpegr(s.bytes));
    s.orientation = jr.orientation;
    s.icc = jr.icc;
    s.exif_tiff = jr.exif_tiff;
    REGAIN_TRY(px, decode_jpeg(jr.primary_bytes, {}, 3));
    s.pixels = std::move(px);
  } else if (t == FileType::Png) {
    REGAIN_TRY(png, decode_png(s.bytes));
    if (png.bit_depth != 8) return fail(ErrorCode::Unsupported, "SDR PNG must be 8-bit");
    if (png.pixels.channels() < 3) return fail(ErrorCode::Unsupported, "SDR PNG must be RGB");
    s.pixels = png_to_8bit(png, 3);
    s.icc = png.icc;
  } else {
    return fail(ErrorCode::Unsupported, std::string("SDR input must be JPEG or 8-bit PNG, not ") + file_type_name(t));
  }
  s.primaries = jpeg_primaries(s.icc);
  return s;
}

EncodeOptions encode_options(const Opts& o, const Sdr& sdr) {
  EncodeOptions e;
  e.gain.scale = o.scale;
  e.gain.multichannel = o.multichannel;
  e.gain.gamma = o.gamma;
  e.gain.primaries = sdr.primaries;
  e.base_quality = o.quality;
  e.map_quality = o.map_quality;
  e.container.write_xmp = !o.no_xmp;
  e.container.write_iso = !o.no_iso;
  e.container.keep_other_xmp = false;  // XMP can carry GPS and history: only ours goes out
  if (!sdr.icc.empty()) e.container.icc = sdr.icc;
  // Only allow-listed EXIF travels to the output; GPS only on request.
  if (!sdr.exif_tiff.empty()) {
    ExifRebuildOptions ro;
    ro.keep_gps = o.keep_gps;
    auto ex = rebuild_exif(sdr.exif_tiff, ro);
    e.container.exif = ex ? *ex : std::vector<uint8_t>{};
  } else {
    e.container.exif = std::vector<uint8_t>{};
  }
  return e;
}

int run_from_hdr(const Opts& o) {
  auto sdr = load_sdr(o.sdr);
  if (!sdr) return report(sdr.error(), o.sdr);
  auto hbytes = read_input(o.hdr);
  if (!hbytes) return report(hbytes.error());
  HdrReadOptions ho;
  if (!o.hdr_transfer.empty()) ho.transfer = parse_transfer(o.hdr_transfer);
  if (!o.hdr_primaries.empty()) ho.primaries = parse_primaries(o.hdr_primaries);
  auto hdr = read_hdr_image(*hbytes, ho);
  if (!hdr) return report(hdr.error(), o.hdr);
  // HDR files carry displayed orientation; bring it to the SDR's stored orientation.
  ImageF h = apply_orientation(hdr->rgb, inverse_orientation(sdr->orientation));
  if (h.width() != sdr->pixels.width() || h.height() != sdr->pixels.height())
    return report(Error{ErrorCode::InvalidInput,
                        "HDR is " + std::to_string(h.width()) + "x" + std::to_string(h.height()) + " but SDR is " +
                            std::to_string(sdr->pixels.width()) + "x" + std::to_string(sdr->pixels.height()) +
                            " (stored orientation); use `regain process` for edited/reframed pairs"});
  if (hdr->primaries != sdr->primaries) {
    Mat3 m = gamut_matrix(hdr->primaries, sdr->primaries);
    for (size_t i = 0; i < h.size(); i += 3) {
      Vec3 v = mul(m, Vec3{h.data()[i], h.data()[i + 1], h.data()[i + 2]});
      for (int c = 0; c < 3; ++c) h.data()[i + c] = v[c];
    }
  }
  EncodeOptions e = encode_options(o, *sdr);
  auto out = sdr->is_jpeg ? encode_jpegr_from_jpeg(sdr->bytes, h, e) : encode_jpegr(sdr->pixels, h, e);
  if (!out) return report(out.error());
  if (auto w = write_output(o.out, *out); !w) return report(w.error());
  std::cout << "wrote " << o.out << " (" << out->size() << " bytes)\n";
  return kOk;
}

int run_from_gainmap(const Opts& o) {
  auto sdr = load_sdr(o.sdr);
  if (!sdr) return report(sdr.error(), o.sdr);
  auto gbytes = read_input(o.gainmap);
  if (!gbytes) return report(gbytes.error());
  Image8 map;
  FileType t = sniff_file_type(*gbytes);
  if (t == FileType::Jpeg) {
    auto m = decode_jpeg(*gbytes);
    if (!m) return report(m.error(), o.gainmap);
    map = std::move(*m);
  } else if (t == FileType::Png) {
    auto p = decode_png(*gbytes);
    if (!p) return report(p.error(), o.gainmap);
    map = png_to_8bit(*p, p->pixels.channels() >= 3 ? 3 : 1);
  } else {
    return report(Error{ErrorCode::Unsupported, "gain map must be a JPEG or PNG"}, o.gainmap);
  }
  auto mbytes = read_input(o.meta);
  if (!mbytes) return report(mbytes.error());
  nlohmann::json j = nlohmann::json::parse(mbytes->begin(), mbytes->end(), nullptr, false);
  if (j.is_discarded()) return report(Error{ErrorCode::InvalidInput, "not valid JSON"}, o.meta);
  // Accept both a bare metadata object and `inspect --json` / extract output.
  if (j.contains("gain_map") && j["gain_map"].is_object()) j = j["gain_map"]["metadata"];
  auto meta = metadata_from_json(j);
  if (!meta) return report(meta.error(), o.meta);
  std::vector<uint8_t> base;
  if (sdr->is_jpeg) {
    auto jr = read_jpegr(sdr->bytes);
    base.assign(jr->primary_bytes.begin(), jr->primary_bytes.end());
  } else {
    JpegEncodeOptions jo;
    jo.quality = o.quality;
    jo.subsample_420 = true;
    auto enc = encode_jpeg(sdr->pixels, jo);
    if (!enc) return report(enc.error());
    base = std::move(*enc);
  }
  EncodeOptions e = encode_options(o, *sdr);
  if (!e.container.icc) e.container.icc = make_display_icc(sdr->primaries);
  auto out = package_jpegr(base, map, *meta, e);
  if (!out) return report(out.error());
  if (auto w = write_output(o.out, *out); !w) return report(w.error());
  std::cout << "wrote " << o.out << " (" << out->size() << " bytes)\n";
  return kOk;
}

}  // namespace

Runner add_encode(CLI::App& app) {
  auto* cmd = app.add_subcommand("encode", "Make an Ultra HDR JPEG from SDR + HDR, or from SDR + gain map + metadata");
  auto o = std::make_shared<Opts>();
  cmd->add_option("--sdr", o->sdr, "SDR image (JPEG is carried without re-encoding; or 8-bit PNG)")->required();
  auto* hdr = cmd->add_option("--hdr", o->hdr, "HDR image: EXR, 16-bit PQ/HLG PNG (cICP) or TIFF");
  auto* gm = cmd->add_option("--gainmap", o->gainmap, "Existing gain map (JPEG or PNG)");
  auto* meta = cmd->add_option("--meta", o->meta, "Metadata JSON (as written by extract / inspect --json)");
  hdr->excludes(gm);
  gm->needs(meta);
  cmd->add_option("--out", o->out, "Output JPEG")->required();
  cmd->add_option("--scale", o->scale, "Gain map downscale factor (1, 2, 4, 8)")->check(CLI::IsMember({1, 2, 4, 8}));
  cmd->add_flag("--multichannel", o->multichannel, "3-channel gain map");
  cmd->add_option("--gamma", o->gamma, "Gain map gamma")->check(CLI::Range(0.1, 10.0));
  cmd->add_option("--quality", o->quality, "Base JPEG quality (when the SDR is re-encoded)")->check(CLI::Range(1, 100));
  cmd->add_option("--map-quality", o->map_quality, "Gain-map JPEG quality")->check(CLI::Range(1, 100));
  cmd->add_option("--hdr-transfer", o->hdr_transfer, "Transfer of an HDR input that does not say (pq, hlg, linear)");
  cmd->add_option("--hdr-primaries", o->hdr_primaries, "Primaries of an HDR input that does not say (bt709, p3, bt2020)");
  cmd->add_flag("--no-xmp", o->no_xmp, "Omit the Google/Adobe hdrgm XMP flavour");
  cmd->add_flag("--no-iso", o->no_iso, "Omit the ISO 21496-1 flavour");
  cmd->add_flag("--keep-gps", o->keep_gps, "Keep GPS EXIF tags (dropped by default)");
  return [=]() -> int {
    if (o->hdr.empty() && o->gainmap.empty())
      return report(Error{ErrorCode::InvalidInput, "encode needs --hdr, or --gainmap with --meta"});
    if (o->no_xmp && o->no_iso) return report(Error{ErrorCode::InvalidInput, "--no-xmp and --no-iso together leave no metadata"});
    return o->hdr.empty() ? run_from_gainmap(*o) : run_from_hdr(*o);
  };
}

}  // namespace regain::cli
