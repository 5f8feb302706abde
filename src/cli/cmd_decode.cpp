// `regain decode FILE [--headroom H] [--sdr] --out F`: HDR rendition as EXR / PQ PNG / PQ TIFF.
#include <iostream>

#include "cli/common.h"
#include "cli/io.h"
#include "regain/pipeline.h"

namespace regain::cli {

Runner add_decode(CLI::App& app) {
  auto* cmd = app.add_subcommand("decode", "Render the HDR (or SDR base) image to EXR, PQ PNG or PQ TIFF");
  struct Opts {
    std::string file, out;
    std::optional<double> headroom;
    bool sdr = false, small = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("file", o->file, "Gain-map JPEG, HEIC or AVIF")->required();
  cmd->add_option("--out", o->out, "Output: .exr (half float, file's primaries), .png (16-bit PQ + cICP), .tif (16-bit PQ)")->required();
  cmd->add_option("--headroom", o->headroom, "Display headroom in stops (default: the file's full alternate headroom)")
      ->check(CLI::Range(0.0, 30.0));
  cmd->add_flag("--sdr", o->sdr, "Write the SDR base instead (8-bit PNG or the JPEG bytes)");
  cmd->add_flag("--small", o->small, "Smallest file (zlib level 9, EXR ZIP) instead of the fast default (run-length / level 2 / PIZ, all cores)");
  return [=]() -> int {
    auto bytes = read_input(o->file);
    if (!bytes) return report(bytes.error());
    const std::string ext = extension_of(o->out);
    if (o->sdr) {
      if ((ext == "jpg" || ext == "jpeg") && sniff_file_type(*bytes) == FileType::Jpeg) {
        auto jr = read_jpegr(*bytes);
        if (!jr) return report(jr.error(), o->file);
        auto base = strip_gain_map_signalling(jr->primary_bytes);
        if (!base) return report(base.error(), o->file);
        if (auto r = write_output(o->out, *base); !r) return report(r.error());
        return kOk;
      }
      if (ext != "png") return report(Error{ErrorCode::Unsupported, "--sdr writes .png or .jpg"});
      auto img = decode_gainmap_sdr(*bytes);
      if (!img) return report(img.error(), o->file);
      auto png = encode_png8(*img, {}, o->small ? Effort::Small : Effort::Fast);
      if (!png) return report(png.error());
      if (auto r = write_output(o->out, *png); !r) return report(r.error());
      return kOk;
    }
    DecodeOptions dopt;
    dopt.headroom = o->headroom;
    auto hdr = decode_gainmap_hdr(*bytes, dopt);
    if (!hdr) return report(hdr.error(), o->file);
    auto enc = encode_hdr_file(hdr->rgb, hdr->primaries, ext, o->small ? Effort::Small : Effort::Fast);
    if (!enc) return report(enc.error());
    if (auto r = write_output(o->out, *enc); !r) return report(r.error());
    std::cerr << "decoded " << hdr->rgb.width() << "x" << hdr->rgb.height() << " at headroom "
              << hdr->headroom << " stops (" << primaries_name(hdr->primaries) << ", metadata "
              << metadata_source_name(hdr->source) << ") -> " << o->out << "\n";
    return kOk;
  };
}

}  // namespace regain::cli
