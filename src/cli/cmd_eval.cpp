// `regain eval [FILES_OR_DIRS...] [--synthetic] [--json]`: restore quality on simulated edits
// (see include/regain/evaluate.h for the method).
#include <cmath>
#include <iostream>
#include <map>

#include "cli/common.h"
#include "cli/io.h"
#include "regain/evaluate.h"
#include "regain/learned.h"
#include "regain/pipeline.h"
#include "regain/synthetic.h"
#include "util/json_text.h"

namespace regain::cli {

namespace {

// SDR | the photo's HDR | each predictor's HDR, all through one global tone map (HDR scaled
// so SDR white sits at ~0.6 and the headroom shows above it), 16 px apart.
Image8 side_by_side(const std::vector<ImageF>& panels) {
  std::vector<Image8> tm;
  int total = 0, h = 0;
  for (size_t i = 0; i < panels.size(); ++i) {
    if (i == 0) {  // the SDR as it is shown
      Image8 s(panels[0].width(), panels[0].height(), 3);
      for (size_t k = 0; k < s.size(); ++k)
        s.data()[k] = uint8_t(std::lround(linear_to_srgb(std::clamp(panels[0].data()[k], 0.f, 1.f)) * 255.f));
      tm.push_back(std::move(s));
    } else {
      ImageF scaled = panels[i];
      for (auto& v : scaled.span()) v *= 1.5f;
      tm.push_back(tone_map_to_sdr(scaled));
    }
    total += tm.back().width() + (i ? 16 : 0);
    h = std::max(h, tm.back().height());
  }
  Image8 out(total, h, 3);
  out.fill(255);
  for (size_t i = 0, x0 = 0; i < tm.size(); x0 += size_t(tm[i].width()) + 16, ++i)
    for (int y = 0; y < tm[i].height(); ++y)
      std::copy(tm[i].row(y), tm[i].row(y) + 3 * tm[i].width(), out.row(y) + 3 * x0);
  return out;
}

int run_predictive_eval(const std::vector<std::string>& inputs, const std::string& model_path, bool json,
                        const std::string& pictures) {
  std::vector<std::filesystem::path> paths;
  for (const auto& in : inputs) {
    std::vector<std::filesystem::path> found;
    if (std::filesystem::is_directory(in)) {
      for (const auto& e : std::filesystem::directory_iterator(in)) {
        const std::string x = extension_of(e.path());
        if (x == "jpg" || x == "jpeg" || x == "heic" || x == "heif" || x == "avif" || x == "hif") found.push_back(e.path());
      }
      std::sort(found.begin(), found.end());
    } else {
      found.emplace_back(in);
    }
    paths.insert(paths.end(), found.begin(), found.end());
  }
  if (paths.empty()) return report(Error{ErrorCode::InvalidInput, "nothing to evaluate (give gain-map photos)"});
  auto heuristic = make_builtin_predictor();
  std::vector<const Predictor*> preds{heuristic.get()};
  auto dflt = make_default_predictor();
  preds.push_back(dflt.get());
  std::unique_ptr<Predictor> custom;
  if (!model_path.empty()) {
    auto m = learned::load_model(model_path);
    if (!m) return report(m.error(), model_path);
    custom = learned::make_learned_predictor(std::make_shared<const learned::Model>(std::move(*m)));
    preds.push_back(custom.get());
  }
  std::vector<PredictiveRow> all;
  size_t skipped = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    std::cerr << "[" << i + 1 << "/" << paths.size() << "] " << paths[i].string() << "\n";
    auto b = read_input(paths[i]);
    std::vector<ImageF> renditions;
    Result<std::vector<PredictiveRow>> rows =
        b ? evaluate_predictive_file(paths[i].filename().string(), *b, preds, pictures.empty() ? nullptr : &renditions)
          : Result<std::vector<PredictiveRow>>(tl::unexpected(b.error()));
    if (rows && !pictures.empty()) {
      auto png = encode_png8(side_by_side(renditions));
      if (png) {
        auto w = write_output(std::filesystem::path(pictures) / (paths[i].stem().string() + "_compare.png"), *png);
        if (!w) return report(w.error(), pictures);
      }
    }
    if (!rows) {
      std::cerr << "  skipped: " << rows.error().message << "\n";
      ++skipped;
      continue;
    }
    all.insert(all.end(), rows->begin(), rows->end());
  }
  if (all.empty()) return report(Error{ErrorCode::NotFound, "no file had a usable gain map"});
  // Means per method, in first-seen order.
  std::vector<std::string> order;
  std::map<std::string, std::array<double, 4>> sum;
  for (const auto& r : all) {
    if (!sum.count(r.method)) order.push_back(r.method);
    auto& s = sum[r.method];
    s[0] += r.abs; s[1] += r.struc; s[2] += r.pu_psnr; s[3] += 1;
  }
  if (json) {
    nlohmann::json j = nlohmann::json::object();
    j["rows"] = nlohmann::json::array();
    for (const auto& r : all)
      j["rows"].push_back({{"file", r.file}, {"method", r.method}, {"abs", r.abs}, {"struc", r.struc}, {"pu_psnr", r.pu_psnr}, {"boost", r.boost}, {"level", r.level}});
    for (const auto& m : order)
      j["mean"][m] = {{"abs", sum[m][0] / sum[m][3]}, {"struc", sum[m][1] / sum[m][3]}, {"pu_psnr", sum[m][2] / sum[m][3]}, {"files", sum[m][3]}};
    j["skipped"] = skipped;
    std::cout << json_text(j, 2) << "\n";
    return kOk;
  }
  std::printf("%-48s %-28s %7s %7s %8s %6s %6s\n", "file", "method", "abs", "struc", "PU-PSNR", "boost", "level");
  for (const auto& r : all)
    std::printf("%-48s %-28s %7.3f %7.3f %8.2f %6.2f %+6.2f\n", r.file.substr(0, 48).c_str(), r.method.c_str(), r.abs, r.struc, r.pu_psnr, r.boost, r.level);
  for (const auto& m : order)
    std::printf("%-48s %-28s %7.3f %7.3f %8.2f\n", ("mean of " + std::to_string(int(sum[m][3])) + " files").c_str(), m.c_str(),
                sum[m][0] / sum[m][3], sum[m][1] / sum[m][3], sum[m][2] / sum[m][3]);
  return kOk;
}

}  // namespace

Runner add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Score Reference mode on simulated edits against ground truth and baselines");
  auto inputs = std::make_shared<std::vector<std::string>>();
  auto synthetic = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  cmd->add_option("inputs", *inputs, "Gain-map JPEGs or directories of them");
  cmd->add_flag("--synthetic", *synthetic, "Also evaluate the bundled synthetic scenes (1024x768)");
  cmd->add_flag("--json", *json, "JSON rows instead of the table");
  auto predictive = std::make_shared<bool>(false);
  auto model = std::make_shared<std::string>();
  cmd->add_flag("--predictive", *predictive,
                "Score Predictive mode on real gain-map photos (JPEG/HEIC/AVIF): no gain, the heuristic, the learned model");
  cmd->add_option("--model", *model, "With --predictive: also score this model (.rglm)");
  auto predictor = std::make_shared<std::string>("default");
  add_predictor_option(*cmd, *predictor);
  auto pictures = std::make_shared<std::string>();
  cmd->add_option("--pictures", *pictures,
                  "With --predictive: write <stem>_compare.png here (SDR | its HDR | heuristic | learned, one tone map)");
  return [=]() -> int {
    if (*predictive) return run_predictive_eval(*inputs, *model, *json, *pictures);
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
    auto chosen = choose_predictor(*predictor, "", 2, "auto");
    if (!chosen) return report(chosen.error());
    std::vector<EvalRow> all;
    for (const auto& [name, bytes] : files) {
      std::cerr << "evaluating " << name << "\n";
      auto rows = evaluate_file(name, bytes, chosen->get());
      if (!rows) {
        std::cerr << "regain: " << name << ": " << rows.error().message << "\n";
        continue;
      }
      all.insert(all.end(), rows->begin(), rows->end());
    }
    if (*json) {
      std::cout << json_text(eval_rows_to_json(all), 2) << "\n";
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
