// `regain samples --out DIR`: writes the bundled synthetic scenes (HDR EXR, SDR JPEG, the
// Ultra HDR JPEG made from them, and an edit of the SDR as an editor would write it: a patch
// copied over the upper right, a recoloured block, a 4:5 reframe, no gain map) so the demo
// runs on files the project generates.
#include <iostream>

#include "cli/common.h"
#include "cli/io.h"
#include "regain/evaluate.h"
#include "regain/pipeline.h"
#include "regain/synthetic.h"

namespace regain::cli {

Runner add_samples(CLI::App& app) {
  auto* cmd = app.add_subcommand("samples", "Generate synthetic HDR sample scenes (EXR, SDR JPEG, Ultra HDR JPEG, edited JPEG)");
  auto out = std::make_shared<std::string>();
  auto width = std::make_shared<int>(1600);
  auto height = std::make_shared<int>(1200);
  cmd->add_option("--out", *out, "Output directory")->required();
  cmd->add_option("--width", *width, "Width")->check(CLI::Range(16, 8000));
  cmd->add_option("--height", *height, "Height")->check(CLI::Range(16, 8000));
  return [=]() -> int {
    const std::pair<const char*, SceneKind> scenes[] = {
        {"sunset", SceneKind::Sunset}, {"interior", SceneKind::Interior}, {"night", SceneKind::Night}};
    std::filesystem::path dir(*out);
    for (const auto& [name, kind] : scenes) {
      ImageF hdr = synthetic_hdr_scene(*width, *height, kind);
      Image8 sdr = tone_map_to_sdr(hdr);
      auto exr = encode_exr(hdr, Primaries::BT709);
      if (!exr) return report(exr.error());
      JpegEncodeOptions jo{95, true};
      auto sdr_jpeg = encode_jpeg(sdr, jo);
      if (!sdr_jpeg) return report(sdr_jpeg.error());
      auto uhdr = encode_jpegr(sdr, hdr);
      if (!uhdr) return report(uhdr.error());
      auto edited = encode_jpeg(demo_edit(sdr), JpegEncodeOptions{92, true});
      if (!edited) return report(edited.error());
      for (auto& [suffix, data] : {std::pair<std::string, std::vector<uint8_t>*>{"_hdr.exr", &*exr},
                                   {"_sdr.jpg", &*sdr_jpeg}, {"_ultrahdr.jpg", &*uhdr}, {"_edited.jpg", &*edited}}) {
        auto path = dir / (std::string(name) + suffix);
        if (auto w = write_output(path, *data); !w) return report(w.error());
        std::cout << path.string() << "\n";
      }
    }
    return kOk;
  };
}

}  // namespace regain::cli
