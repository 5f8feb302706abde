// The learned gain-map predictor (Predictive mode's default): a small per-pixel network over
// multi-scale and scene-wide features of a ~256-px work image, trained on real gain-map photos
// (SDR base in, the camera's log2 luminance gain out), upsampled to the map edge-aware.
//
// Model file (.rglm), little-endian:
//   "RGLM"  u32 format version (1)  u32 json_len  json  u32 float_count  float32[float_count]
//   u32 CRC-32 of every preceding byte
// The JSON names the architecture ("pixel-mlp"), the feature set version, the layer widths,
// the work size and the guided-upsampling parameters, the ensemble size ("members", absent =
// 1), plus provenance under "info" (training files' count and hash, date, epochs, validation
// figures). The floats are, in order: the feature means, the feature inverse standard
// deviations, then for each member network in turn, per layer the weights (inputs x outputs,
// output-fastest) and the biases.
#pragma once
#include "regain/export.h"
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "regain/error.h"
#include "regain/predict.h"

namespace regain::learned {

inline constexpr uint64_t kMaxModelFileBytes = 4ull << 20;  // the shipped budget
inline constexpr int kMaxLayerWidth = 256;
inline constexpr int kMaxMembers = 8;

struct Layer {
  int in = 0, out = 0;
  std::vector<float> w;  // in x out, output-fastest
  std::vector<float> b;  // out
};

struct REGAIN_API Model {
  int work_side = 256;       // long side of the work image, pixels
  int guide_radius = 2;      // guided upsampling window radius (work pixels)
  float guide_eps = 1e-3f;   // on the guide's variance (sRGB lightness, 0..1)
  // Predictions are pulled toward the image's median gain by this factor (1 = as predicted):
  // with few training photos the network is over-confident about local structure.
  float spatial_gain = 1.f;
  std::vector<float> mean, inv_std;  // feature normalisation
  std::vector<Layer> layers;         // ReLU between layers, linear output (log2 gain)
  // Further networks of the same shape, averaged with `layers` (an ensemble of independently
  // seeded runs). With a few dozen training photos each run settles on its own arbitrary
  // local structure; the average keeps what the runs agree on.
  std::vector<std::vector<Layer>> members;
  nlohmann::json info = nlohmann::json::object();  // provenance

  int feature_count() const { return layers.empty() ? 0 : layers.front().in; }
  // info["name"] when it is a string, else `fallback` (info comes from untrusted files).
  std::string name(const std::string& fallback = "model") const {
    auto it = info.find("name");
    return it != info.end() && it->is_string() ? it->get<std::string>() : fallback;
  }
  size_t parameter_count() const;
};

// A fresh model with the standard architecture, weights from a seeded He initialisation.
REGAIN_API Model new_model(uint64_t seed, std::vector<int> hidden = {128, 64});

REGAIN_API std::vector<uint8_t> serialize_model(const Model& m);
// Every size, offset, count and value is checked; a damaged file is refused, never misread.
REGAIN_API Result<Model> parse_model(std::span<const uint8_t> bytes);
REGAIN_API Result<Model> load_model(const std::filesystem::path& path);
REGAIN_API Result<void> save_model(const Model& m, const std::filesystem::path& path);
// The model built into the binary (models/regain-default.rglm at build time).
REGAIN_API std::shared_ptr<const Model> default_model();

// Network output (log2 gain) for n rows of raw (unnormalised) features: the mean over the
// ensemble's members.
REGAIN_API void forward(const Model& m, const float* features, size_t n, float* out, int threads = 1);
// One network alone (`net`: m.layers or one of m.members; normalisation from m): what each
// member of an ensemble is trained on, independently of the others.
REGAIN_API void forward_network(const Model& m, const std::vector<Layer>& net, const float* features, size_t n,
                                float* out, int threads = 1);

// Applies Model::spatial_gain to work-resolution predictions (median over the lit pixels).
REGAIN_API void pull_to_median(const Model& m, const std::vector<uint8_t>& lit, std::vector<float>& pred);

// The Predictor over a model. Scene-chosen headroom by default; PredictOptions::boost sets
// the headroom: the predicted gains are scaled so their peak equals it (at most 2x up).
REGAIN_API std::unique_ptr<Predictor> make_learned_predictor(std::shared_ptr<const Model> m);

// ---- training core (the loop and data live in the pipeline layer) -------------------------
struct REGAIN_API Gradients {
  std::vector<Layer> layers;  // same shapes as the model's
  void zero();
};
// Adam state and one step.
struct REGAIN_API Adam {
  double lr = 3e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-5;
  int64_t step = 0;
  std::vector<Layer> m, v;
  void init(const Model& model);
  void apply(Model& model, const Gradients& g);
};
REGAIN_API Gradients make_gradients(const Model& m);
// Backpropagates the given d(loss)/d(output) of n rows into g (activations recomputed).
REGAIN_API void accumulate_gradients(const Model& m, const float* features, const float* dout, size_t n, Gradients& g);

}  // namespace regain::learned
