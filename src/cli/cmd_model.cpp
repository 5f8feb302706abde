// `regain model`: learned-predictor weights.
//   regain model convert IN.pth OUT.rgm   torch.save state_dict -> native memory-mapped format
//   regain model info FILE                 checks a weights file and prints its summary
// Also the shared --model/--model-scale/--precision options of `process` and `bench`.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <fstream>
#include <random>

#include <sys/resource.h>

#include "cli/common.h"
#include "regain/gmnet.h"
#include "regain/learned.h"
#include "regain/synthetic.h"
#include "cli/io.h"

#include <nlohmann/json.hpp>
#include "util/json_text.h"

namespace regain::cli {

void add_model_options(CLI::App& cmd, std::string& model, int& scale, std::string& precision) {
  cmd.add_option("--model", model, "Predictor model: a regain model (.rglm, from `regain train`) or GMNet weights (.pth/.rgm)");
  cmd.add_option("--model-scale", scale, "The model's input downscale (2 for the real-world GMNet weights)")
      ->check(CLI::Range(1, 16));
  cmd.add_option("--precision", precision, "Model arithmetic: auto (bf16 on CPUs with AMX, else fp32), fp32, bf16");
}

void add_predictor_option(CLI::App& cmd, std::string& predictor) {
  cmd.add_option("--predictor", predictor,
                 "Predictive mode: default (the built-in learned model), heuristic (builtin-highlight-v1)")
      ->check(CLI::IsMember({"default", "learned", "heuristic"}));
}

namespace {
bool is_learned_model_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[4] = {};
  f.read(magic, 4);
  return f.gcount() == 4 && std::string(magic, 4) == "RGLM";
}
}  // namespace

Result<std::unique_ptr<Predictor>> choose_predictor(const std::string& predictor, const std::string& model, int scale,
                                                    const std::string& precision) {
  if (!model.empty()) {
    if (predictor == "heuristic") return fail(ErrorCode::InvalidInput, "--predictor heuristic takes no --model");
    return load_model_predictor(model, scale, precision);
  }
  if (predictor == "heuristic") return make_builtin_predictor();
  return std::unique_ptr<Predictor>();
}

Result<std::unique_ptr<Predictor>> load_model_predictor(const std::string& path, int scale, const std::string& precision) {
  if (is_learned_model_file(path)) {
    REGAIN_TRY(m, learned::load_model(path));
    return learned::make_learned_predictor(std::make_shared<const learned::Model>(std::move(m)));
  }
  REGAIN_TRY(prec, gmnet::parse_precision(precision));
  REGAIN_TRY(w, gmnet::load_weights(path));
  REGAIN_TRY(engine, gmnet::Engine::create(w, prec));
  gmnet::ModelOptions mo;
  mo.scale = scale;
  mo.run.precision = engine->precision();
  return gmnet::make_predictor(std::shared_ptr<gmnet::Engine>(std::move(engine)), mo);
}

Runner add_model(CLI::App& app) {
  auto* cmd = app.add_subcommand("model", "Learned-predictor weights: convert, info");
  cmd->require_subcommand(1);
  auto in = std::make_shared<std::string>(), out = std::make_shared<std::string>();
  auto* convert = cmd->add_subcommand("convert", "torch.save GMNet weights -> native .rgm (memory-mapped)");
  convert->add_option("in", *in, "GMNet state_dict saved with torch.save (.pth)")->required();
  convert->add_option("out", *out, "Output .rgm")->required();
  auto* info = cmd->add_subcommand("info", "Check a weights file against the network");
  info->add_option("file", *in, "A regain model (.rglm, or 'default' for the built-in one) or GMNet weights (.pth/.rgm)")->required();
  auto* bench = cmd->add_subcommand("bench", "Time the network on random input (model-input size)");
  auto size = std::make_shared<std::vector<int>>(std::vector<int>{1024, 768});
  auto prec = std::make_shared<std::string>("auto");
  auto tile = std::make_shared<int>(1024);
  auto reps = std::make_shared<int>(2);
  auto as_json = std::make_shared<bool>(false);
  bench->add_flag("--json", *as_json, "One JSON line: median wall/cpu seconds and peak RSS");
  bench->add_option("file", *in, "Weights (.pth or .rgm)")->required();
  bench->add_option("--size", *size, "Model input W H")->expected(2);
  bench->add_option("--precision", *prec, "auto, fp32, bf16");
  bench->add_option("--tile", *tile, "Tile size (0 = whole image)");
  bench->add_option("--reps", *reps, "Timed runs (after one warm-up)");
  return [=]() -> int {
    if (bench->parsed() && (is_learned_model_file(*in) || *in == "default")) {
      // The learned predictor on a synthetic scene of --size (SDR in, map at 1/4 out).
      std::shared_ptr<const learned::Model> m = learned::default_model();
      if (*in != "default") {
        auto lm = learned::load_model(*in);
        if (!lm) return report(lm.error(), *in);
        m = std::make_shared<const learned::Model>(std::move(*lm));
      }
      if (!m) return report(Error{ErrorCode::NotFound, "this build has no embedded model"});
      const Image8 sdr = tone_map_to_sdr(synthetic_hdr_scene((*size)[0], (*size)[1], SceneKind::Sunset));
      auto pred = learned::make_learned_predictor(m);
      rusage before{};
      getrusage(RUSAGE_SELF, &before);
      std::vector<double> walls;
      for (int r = 0; r <= *reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        auto out = pred->predict(sdr, {});
        if (!out) return report(out.error());
        if (r) walls.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      std::sort(walls.begin(), walls.end());
      rusage u{};
      getrusage(RUSAGE_SELF, &u);
      const nlohmann::json j = {{"model", m->name()}, {"width", (*size)[0]}, {"height", (*size)[1]},
                                {"predict_wall_s", walls.empty() ? 0.0 : walls[walls.size() / 2]},
                                {"peak_rss_mib", u.ru_maxrss / 1024.0},
                                {"peak_rss_before_predict_mib", before.ru_maxrss / 1024.0}};
      std::cout << (*as_json ? json_text(j) : json_text(j, 2)) << "\n";
      return kOk;
    }
    if (info->parsed() && (is_learned_model_file(*in) || *in == "default")) {
      std::shared_ptr<const learned::Model> m;
      if (*in == "default") {
        m = learned::default_model();
        if (!m) return report(Error{ErrorCode::NotFound, "this build has no embedded model"});
      } else {
        auto lm = learned::load_model(*in);
        if (!lm) return report(lm.error(), *in);
        m = std::make_shared<const learned::Model>(std::move(*lm));
      }
      std::vector<int> widths{m->feature_count()};
      for (const auto& l : m->layers) widths.push_back(l.out);
      const nlohmann::json j = {{"architecture", "pixel-mlp"}, {"layers", widths}, {"parameters", m->parameter_count()},
                                {"work_side", m->work_side}, {"bytes", learned::serialize_model(*m).size()}, {"info", m->info}};
      std::cout << json_text(j, 2) << "\n";
      return kOk;
    }
    auto w = gmnet::load_weights(*in);
    if (!w) return report(w.error(), *in);
    if (bench->parsed()) {
      auto p = gmnet::parse_precision(*prec);
      if (!p) return report(p.error());
      auto e = gmnet::Engine::create(*w, *p);
      if (!e) return report(e.error());
      ImageF img((*size)[0], (*size)[1], 3), thumb(256, 256, 3);
      std::mt19937 rng(1);
      for (auto& v : img.span()) v = float(rng() % 1000) / 1000.f;
      for (auto& v : thumb.span()) v = float(rng() % 1000) / 1000.f;
      gmnet::RunOptions ro;
      ro.tile = *tile;
      auto cpu = [] { rusage u{}; getrusage(RUSAGE_SELF, &u); return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec); };
      std::vector<double> walls, cpus;
      for (int r = 0; r <= *reps; ++r) {
        const double c0 = cpu();
        const auto t0 = std::chrono::steady_clock::now();
        auto out = (*e)->run(img, thumb, ro);
        if (!out) return report(out.error());
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        if (r) { walls.push_back(wall); cpus.push_back(cpu() - c0); }
        if (!*as_json) std::cout << (r ? "run " : "warm-up ") << gmnet::precision_name((*e)->precision()) << " " << (*size)[0] << "x" << (*size)[1]
                  << ": wall " << wall << " s, cpu " << cpu() - c0 << " s, peak RSS " << u.ru_maxrss / 1024 << " MiB\n";
      }
      if (*as_json) {
        std::sort(walls.begin(), walls.end());
        std::sort(cpus.begin(), cpus.end());
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        std::cout << nlohmann::json{{"precision", gmnet::precision_name((*e)->precision())}, {"width", (*size)[0]},
                                    {"height", (*size)[1]}, {"tile", *tile}, {"wall", walls[walls.size() / 2]},
                                    {"cpu", cpus[cpus.size() / 2]}, {"peak_rss_mib", u.ru_maxrss / 1024.0}}.dump()
                  << "\n";
      }
      return kOk;
    }
    if (convert->parsed()) {
      if (auto r = gmnet::save_rgm(*w, *out); !r) return report(r.error(), *out);
      std::cerr << "wrote " << *out << "\n";
      return kOk;
    }
    int64_t params = 0;
    for (const auto& [k, t] : *w) params += t.numel();
    std::cout << "GMNet weights: " << w->size() << " tensors, " << params << " parameters; bf16 on this CPU: "
              << (gmnet::cpu_has_bf16() ? "yes" : "no") << ", AMX: " << (gmnet::cpu_has_amx() ? "yes" : "no") << "\n";
    return kOk;
  };
}

}  // namespace regain::cli
