// `regain train INPUTS... --out MODEL.rglm`: train the learned predictor on gain-map photos.
//   --manifest FILE --use train   take the files of a manifest.json whose "use" matches
//   --init MODEL                  fine-tune (keeps the model's feature normalisation)
//   --val FILES / --val-split F   validation photos (scored per epoch, recorded in the model)
//   --epochs N --jobs N --seed S --checkpoint F (default OUT.ckpt; an interrupted run resumes)
// Files that cannot be used are skipped with their reason; the run never aborts for one file.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <mutex>

#include "cli/common.h"
#include "cli/io.h"
#include "regain/learned.h"
#include "regain/train.h"
#include "util/json_text.h"
#include "util/parallel.h"

namespace regain::cli {

namespace {

namespace fs = std::filesystem;

// What `train` reads from a directory: gain-map JPEG, HEIC and AVIF files.
const std::vector<std::string> kPhotoExtensions{"jpg", "jpeg", "heic", "heif", "avif", "hif"};

Result<std::vector<fs::path>> from_manifest(const std::string& manifest, const std::string& use) {
  REGAIN_TRY(bytes, read_input(manifest));
  std::vector<fs::path> out;
  try {
    const auto j = nlohmann::json::parse(bytes.begin(), bytes.end());
    const auto& items = j.is_array() ? j : j.at("files");
    for (const auto& it : items)
      if (use.empty() || it.value("use", std::string()) == use)
        out.push_back(fs::path(manifest).parent_path() / it.at("file").get<std::string>());
  } catch (const std::exception& e) {
    return fail(ErrorCode::InvalidInput, std::string("manifest: ") + e.what());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Loads pairs in parallel; unusable files are reported and skipped.
std::vector<TrainPair> load_pairs(const std::vector<fs::path>& files, int jobs, bool quiet, std::vector<nlohmann::json>& skipped) {
  std::vector<std::optional<TrainPair>> slots(files.size());
  std::vector<std::string> why(files.size());
  std::mutex io;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < files.size();) {
      auto bytes = read_input(files[i]);
      Result<TrainPair> p = bytes ? Result<TrainPair>(fail(ErrorCode::Internal, "")) : tl::unexpected(bytes.error());
      if (bytes) {
        try {
          p = load_train_pair(*bytes, files[i].filename().string(), 1024, 1);
        } catch (const std::exception& e) {
          p = fail(ErrorCode::Internal, e.what());
        }
      }
      std::lock_guard lock(io);
      if (p) slots[i] = std::move(*p);
      else why[i] = p.error().message;
      if (!quiet) std::cerr << (p ? "  loaded " : "  skipped ") << files[i].string() << (p ? "" : ": " + why[i]) << "\n";
    }
  };
  std::vector<std::thread> pool;
  for (int j = 1; j < std::max(1, jobs); ++j) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  std::vector<TrainPair> out;
  for (size_t i = 0; i < files.size(); ++i) {
    if (slots[i]) out.push_back(std::move(*slots[i]));
    else skipped.push_back({{"file", files[i].string()}, {"reason", why[i]}});
  }
  return out;
}

}  // namespace

Runner add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train the learned predictor on gain-map photos (JPEG/HEIC/AVIF)");
  struct O {
    std::vector<std::string> inputs, val;
    std::string out, init, manifest, use = "train", val_use, checkpoint, name = "custom";
    int epochs = 12, jobs = 0, views = 6, ensemble = 1;
    double val_split = 0;
    uint64_t seed = 1;
    bool json = false, no_augment = false;
    std::string dump;
  };
  auto o = std::make_shared<O>();
  cmd->add_option("inputs", o->inputs, "Gain-map photos or directories of them");
  cmd->add_option("--out", o->out, "Model file to write (.rglm)")->required();
  cmd->add_option("--manifest", o->manifest, "Also take the files listed in a manifest.json");
  cmd->add_option("--use", o->use, "With --manifest: only entries whose \"use\" is this (default train; empty = all)");
  cmd->add_option("--val-use", o->val_use, "With --manifest: validate on the entries whose \"use\" is this (e.g. eval-only)");
  cmd->add_option("--init", o->init, "Fine-tune this model (.rglm) instead of starting fresh");
  cmd->add_option("--val", o->val, "Validation photos or directories (never trained on)");
  cmd->add_option("--val-split", o->val_split, "Hold out this share of the inputs for validation")->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--epochs", o->epochs, "Passes over the photos (default 12)")->check(CLI::Range(1, 1000));
  cmd->add_option("--ensemble", o->ensemble,
                  "Train this many networks (seeds derived from --seed) and average them (default 1; with --init, the initial model's count)")
      ->check(CLI::Range(1, learned::kMaxMembers));
  cmd->add_option("--views", o->views, "Augmented views of each photo per epoch (default 6)")->check(CLI::Range(1, 64));
  cmd->add_option("--jobs", o->jobs, "Threads (default: all cores)")->check(CLI::Range(0, 64));
  cmd->add_option("--seed", o->seed, "Random seed (default 1): same seed, same files, same build -> same model");
  cmd->add_option("--checkpoint", o->checkpoint, "Checkpoint file (default OUT.ckpt); a matching one is resumed");
  cmd->add_option("--name", o->name, "Model name recorded in the file");
  cmd->add_flag("--no-augment", o->no_augment, "Train on the photos as they are");
  cmd->add_flag("--json", o->json, "Print a JSON summary at the end");
  cmd->add_option("--dump-features", o->dump, "Write the training and validation photos' features to this file and stop (for experiments)");
  return [=]() -> int {
    std::vector<std::string> errors;
    auto files = expand_inputs(o->inputs, kPhotoExtensions, errors);
    if (!o->manifest.empty()) {
      auto m = from_manifest(o->manifest, o->use);
      if (!m) return report(m.error(), o->manifest);
      files.insert(files.end(), m->begin(), m->end());
    }
    for (const auto& e : errors) std::cerr << "regain: " << e << "\n";
    auto val_files = expand_inputs(o->val, kPhotoExtensions, errors);
    if (!o->val_use.empty()) {
      if (o->manifest.empty()) return report(Error{ErrorCode::InvalidInput, "--val-use needs --manifest"});
      auto m = from_manifest(o->manifest, o->val_use);
      if (!m) return report(m.error(), o->manifest);
      val_files.insert(val_files.end(), m->begin(), m->end());
    }
    if (files.empty()) return report(Error{ErrorCode::InvalidInput, "no training photos given"});
    TrainOptions to;
    to.epochs = o->epochs;
    to.seed = o->seed;
    to.jobs = o->jobs;
    to.views_per_file = o->views;
    to.ensemble = o->ensemble;
    to.augment = !o->no_augment;
    to.checkpoint = o->checkpoint.empty() ? o->out + ".ckpt" : o->checkpoint;
    if (!o->init.empty()) {
      auto m = learned::load_model(o->init);
      if (!m) return report(m.error(), o->init);
      to.init = std::move(*m);
      to.lr = 1e-3;
    }
    const int threads = resolve_threads(o->jobs);
    std::vector<nlohmann::json> skipped;
    std::cerr << "loading " << files.size() << " training photo(s)\n";
    auto train = load_pairs(files, threads, o->json, skipped);
    std::vector<TrainPair> val;
    if (!val_files.empty()) {
      std::cerr << "loading " << val_files.size() << " validation photo(s)\n";
      val = load_pairs(val_files, threads, o->json, skipped);
    }
    if (o->val_split > 0 && train.size() > 1) {
      // Deterministic hold-out: the photos whose content hash sorts last.
      std::stable_sort(train.begin(), train.end(), [](const TrainPair& a, const TrainPair& b) { return a.file_hash < b.file_hash; });
      size_t k = std::min(train.size() - 1, std::max<size_t>(1, size_t(std::lround(o->val_split * double(train.size())))));
      for (size_t i = train.size() - k; i < train.size(); ++i) val.push_back(std::move(train[i]));
      train.resize(train.size() - k);
    }
    for (const auto& s : skipped) std::cerr << "skipped " << s["file"].get<std::string>() << ": " << s["reason"].get<std::string>() << "\n";
    if (train.empty()) return report(Error{ErrorCode::InvalidInput, "none of the training photos has a usable gain map"});
    if (!o->dump.empty()) {
      if (auto r = dump_features(train, o->dump, o->no_augment ? 0 : o->views); !r) return report(r.error(), o->dump);
      if (auto r = dump_features(val, o->dump + ".val"); !r) return report(r.error(), o->dump);
      std::cerr << "wrote " << o->dump << "\n";
      return kOk;
    }
    std::cerr << "training on " << train.size() << " photo(s), validating on " << val.size() << "\n";
    to.progress = [&](const EpochReport& r) {
      if (r.members > 1) std::cerr << "network " << r.member << "/" << r.members << ", ";
      std::cerr << "epoch " << r.epoch << "/" << r.epochs << (r.resumed ? " (checkpoint)" : "") << std::fixed
                << std::setprecision(3) << ": train " << r.train_abs;
      if (r.val_abs >= 0) std::cerr << ", val abs " << r.val_abs << " struc " << r.val_struc;
      std::cerr << std::setprecision(1) << " (" << r.seconds << " s)\n";
    };
    const auto t0 = std::chrono::steady_clock::now();
    auto res = train_model(train, val, to);
    if (!res) return report(res.error());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    learned::Model& m = res->model;
    m.info = training_provenance(o->name, train, val, *res, to, seconds);
    if (auto w = learned::save_model(m, o->out); !w) return report(w.error(), o->out);
    std::error_code ec;
    fs::remove(to.checkpoint, ec);
    std::cerr << "wrote " << o->out << " (" << m.parameter_count() << " parameters, " << std::fixed << std::setprecision(1)
              << seconds << " s)\n";
    if (o->json) std::cout << json_text(nlohmann::json{{"model", o->out}, {"info", m.info}, {"skipped", skipped}}, 2) << "\n";
    return kOk;
  };
}

}  // namespace regain::cli
