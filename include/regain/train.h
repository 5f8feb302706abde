// Training the learned predictor on gain-map photos (`regain train`, `make model`).
// Every HDR photo a phone or raw editor wrote is a pair: its SDR base in, the log2 luminance
// gain between its HDR rendition and that base out (offsets, gamma, min/max, the Apple curve
// all honoured by decoding the HDR rendition with the file's own metadata).
#pragma once
#include "regain/export.h"
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "regain/image.h"
#include "regain/learned.h"

namespace regain {

struct TrainPair {
  std::string name;
  Image8 sdr;          // displayed orientation, long side <= the loader's size, sRGB-encoded
  ImageF log2_gain;    // same size: log2((Y_hdr + 1/64) / (Y_sdr + 1/64)), 1 channel
  Primaries primaries = Primaries::BT709;
  std::string metadata_source;
  uint64_t file_hash = 0;  // FNV-1a 64 of the file's bytes (provenance)
};

// Any file regain reads with a gain map (Ultra HDR / Adobe / ISO JPEG, Apple JPEG/HEIC,
// Samsung HEIC, AVIF). NotFound for files without a usable gain map.
REGAIN_API Result<TrainPair> load_train_pair(std::span<const uint8_t> file, const std::string& name, int long_side = 1024,
                                  int threads = 0);

struct EpochReport {
  int epoch = 0, epochs = 0;
  int member = 1, members = 1;      // which network of the ensemble (1-based)
  double train_abs = 0;             // mean |weighted gain error| (stops) over the epoch's sampled pixels
  double val_abs = -1, val_struc = -1;  // this member alone, log2 Y at work size; -1 without validation files
  double seconds = 0;
  bool resumed = false;             // this epoch came from a checkpoint
};

struct TrainOptions {
  int epochs = 12;
  uint64_t seed = 1;
  int jobs = 0;                     // threads preparing views (0 = all cores)
  int views_per_file = 6;           // augmented views of each photo per epoch
  int pixels_per_view = 3000;
  std::vector<int> hidden = {128, 64};  // hidden layer widths of a fresh model
  // Networks trained one after another, each alone with its own seed (ensemble_member_seed),
  // then averaged: an ensemble equals that many single runs.
  int ensemble = 1;
  double spatial_gain = 0.6;        // Model::spatial_gain of a fresh model
  double lr = 3e-3;                 // peak learning rate (cosine decay to lr/20)
  bool augment = true;
  std::optional<learned::Model> init;  // fine-tune from this model (keeps its normalisation)
  std::string checkpoint;           // written after every epoch; resumed from when it matches
  std::function<void(const EpochReport&)> progress;
};

struct PairScore {
  std::string name;
  double abs = 0, struc = 0;  // mean |log2 Y error|, and after removing the median offset
};

struct TrainOutcome {
  learned::Model model;
  std::vector<EpochReport> history;
  std::vector<PairScore> validation;  // final, per validation file
};

// The seed network k (0-based) of an ensemble trains with: network k of a run with `seed`
// equals the single network of a run with this seed.
REGAIN_API uint64_t ensemble_member_seed(uint64_t seed, int member);

REGAIN_API Result<TrainOutcome> train_model(const std::vector<TrainPair>& train, const std::vector<TrainPair>& val,
                                 const TrainOptions& opt);

// What a trained model records about itself (Model::info; `regain model info` shows it): name,
// date (SOURCE_DATE_EPOCH when set), count and FNV-64 of the training files, options, and the
// validation figures per file. The CLI and the Python module both call this.
REGAIN_API nlohmann::json training_provenance(const std::string& name, const std::vector<TrainPair>& train,
                                              const std::vector<TrainPair>& val, const TrainOutcome& outcome,
                                              const TrainOptions& opt, double seconds);

// The work-resolution score of a model on one pair (unaugmented): what training reports.
REGAIN_API PairScore score_pair(const learned::Model& m, const TrainPair& p);

// For model experiments: each pair's unaugmented work-resolution features, target and lit mask
// as raw float32 rows (name, width, height, then width*height rows of features, target, lit).
// With views > 0, that many augmented views of each pair instead (seeded like training).
REGAIN_API Result<void> dump_features(const std::vector<TrainPair>& pairs, const std::string& path, int views = 0);

REGAIN_API uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t h = 14695981039346656037ull);

}  // namespace regain
