// `regain extract FILE --out DIR`: base JPEG bytes, gain-map JPEG bytes and PNG, metadata JSON.
#include <iostream>

#include "cli/common.h"
#include "cli/io.h"
#include "regain/report.h"

namespace regain::cli {

Runner add_extract(CLI::App& app) {
  auto* cmd = app.add_subcommand("extract", "Write the base JPEG, the gain map (JPEG and PNG) and metadata JSON");
  auto file = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("file", *file, "Gain-map JPEG")->required();
  cmd->add_option("--out", *out, "Output directory")->required();
  return [=]() -> int {
    auto bytes = read_input(*file);
    if (!bytes) return report(bytes.error());
    auto jr = read_jpegr(*bytes);
    if (!jr) return report(jr.error(), *file);
    std::filesystem::path dir(*out);
    const std::string stem = std::filesystem::path(*file).stem().string();
    auto base = strip_gain_map_signalling(jr->primary_bytes);
    if (!base) return report(base.error(), *file);
    if (auto r = write_output(dir / (stem + "_base.jpg"), *base); !r) return report(r.error());
    std::cout << (dir / (stem + "_base.jpg")).string() << "\n";
    nlohmann::json meta = jpegr_to_json(*jr);
    if (jr->gain_map) {
      if (auto r = write_output(dir / (stem + "_gainmap.jpg"), jr->gain_map_bytes); !r) return report(r.error());
      auto map = decode_jpeg(jr->gain_map_bytes);
      if (!map) return report(map.error(), "gain map");
      auto png = encode_png8(*map);
      if (!png) return report(png.error());
      if (auto r = write_output(dir / (stem + "_gainmap.png"), *png); !r) return report(r.error());
      std::cout << (dir / (stem + "_gainmap.jpg")).string() << "\n" << (dir / (stem + "_gainmap.png")).string() << "\n";
    }
    if (auto r = write_output(dir / (stem + "_meta.json"), meta.dump(2) + "\n"); !r) return report(r.error());
    std::cout << (dir / (stem + "_meta.json")).string() << "\n";
    if (!jr->gain_map) {
      std::cerr << "regain: " << *file << ": no gain map (base and metadata written)\n";
      return kNotFound;
    }
    return kOk;
  };
}

}  // namespace regain::cli
