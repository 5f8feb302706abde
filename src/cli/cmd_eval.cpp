// `regain eval [FILES_OR_DIRS...] [--synthetic] [--json]`: restore quality on simulated edits
// (see include/regain/evaluate.h for the method).
#include <iostream>

#include "cli/common.h"
#include "cli/io.h"
#include "regain/evaluate.h"
#include "regain/pipeline.h"
#include "regain/synthetic.h"

namespace regain::cli {

Runner add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Score Reference mode on simulated edits against ground truth and baselines");
  auto inputs = std::make_shared<std::vector<std::string>>();
  auto synthetic = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  cmd->add_option("inputs", *inputs, "Gain-map JPEGs or directories of them");
  cmd->add_flag("--synthetic", *synthetic, "Also evaluate the bundled synthetic scenes (1024x768)");
  cmd->add_flag("--json", *json, "JSON rows instead of the table");
  return [=]() -> int {
    std::vector<std::pair<std::string, std::vector<uint8_t>>> files;
    if (*synthetic)
      for (auto [name, kind] : {std::pair{"synthetic-sunset", SceneKind::Sunset}, {"synthetic-interior", SceneKind::Interior}}) {
        ImageF hdr = synthetic_hdr_scene(1024, 768, kind);
        auto f = encode_jpegr(tone_map_to_sdr(hdr), hdr);
        if (!f) return report(f.error());
        files.emplace_back(name, std::move(*f));
      }
    for (const auto& in : *inputs) {
      std::vector<std::filesystem::path> paths;
      if (std::filesystem::is_directory(in)) {
        for (const auto& e : std::filesystem::directory_iterator(in))
          if (extension_of(e.path()) == "jpg" || extension_of(e.path()) == "jpeg") paths.push_back(e.path());
      } else {
        paths.emplace_back(in);
      }
      std::sort(paths.begin(), paths.end());
      for (const auto& p : paths) {
        auto b = read_input(p);
        if (!b) return report(b.error());
        auto jr = read_jpegr(*b);
        if (!jr || !jr->gain_map || !jr->metadata) {
          std::cerr << "skipping " << p.string() << ": no usable gain map\n";
          continue;
        }
        files.emplace_back(p.filename().string(), std::move(*b));
      }
    }
    if (files.empty()) return report(Error{ErrorCode::InvalidInput, "nothing to evaluate (give gain-map JPEGs or --synthetic)"});
    std::vector<EvalRow> all;
    for (const auto& [name, bytes] : files) {
      std::cerr << "evaluating " << name << "\n";
      auto rows = evaluate_file(name, bytes);
      if (!rows) {
        std::cerr << "regain: " << name << ": " << rows.error().message << "\n";
        continue;
      }
      all.insert(all.end(), rows->begin(), rows->end());
    }
    if (*json) {
      std::cout << eval_rows_to_json(all).dump(2) << "\n";
      return kOk;
    }
    std::printf("%-28s %-15s %-11s %10s %10s %9s\n", "file", "edit", "method", "PU-PSNR", "edited", "log2 err");
    for (const auto& r : all) {
      char edited[16] = "-";
      if (r.pu_psnr_edited >= 0) std::snprintf(edited, sizeof edited, "%.2f", r.pu_psnr_edited);
      std::printf("%-28s %-15s %-11s %10.2f %10s %9.3f\n", r.file.c_str(), r.edit.c_str(), r.method.c_str(),
                  r.pu_psnr_unedited, edited, r.log_lum_unedited);
    }
    return kOk;
  };
}

}  // namespace regain::cli
