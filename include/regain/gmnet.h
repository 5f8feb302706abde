// Learned predictor: a GMNet-compatible gain-map network ("Learning Gain Map for Inverse
// Tone Mapping", ICLR 2025) run on the CPU with oneDNN, fed by published PyTorch weights.
//
// Architecture (facts read from the authors' public reference code, qtlark/GMNet,
// codes/models/modules/GMNet.py, with its real-world config in_nc=3, out_nc=1, nf=64).
// Every conv is 3x3 pad 1 unless noted; "conv s2" has stride 2; ReLU after each conv of a
// Down block. Residual block = x + conv2(relu(conv1(x))).
//
//   Global branch (input: 256x256 RGB thumbnail)
//     down1.conv.{0,2,4}   3->16 s2, 16->16, 16->16         (ReLU after each)
//     down2.conv.{0,2,4}   16->64 s2, 64->64, 64->64        (ReLU after each)
//     res_y.{0..4}.conv{1,2}   five residual blocks, 64 ch
//     sq_ker  adaptive avg pool to 3x3, 1x1 convs .conv.{0,2,4}: 64->128 ReLU 128->64 ReLU 64->64
//             -> the per-image depthwise 3x3 kernel (64 x 1 x 3 x 3)
//     sq_chn  same with pool to 1x1, last conv 64->64 -> channel attention (sigmoid)
//     sq_qmax same with pool to 1x1, last conv 64->1  -> Qmax
//   Local branch (input: the SDR downscaled by 1/scale)
//     down_x.conv.{0,2,4}  3->64 s2, 64->64, 64->64         (ReLU after each)
//     res1.{0..4}          five residual blocks
//     mask = sigmoid(mask_est.2(relu(mask_est.0(depthwise(x, sq_ker kernel)))))
//            mask_est.0 64->64, mask_est.2 64->1;  x = x * mask (broadcast over channels)
//     res2.{0..4}, then x = x * sigmoid(sq_chn)
//     res3.{0..4}
//     upconv 64->256, PixelShuffle(2), ReLU; HRconv 64->64 ReLU; conv_last 64->1
//   Outputs: normalised map `out` (1 channel, 2*ceil(H/2) x 2*ceil(W/2)) and Qmax;
//   the reference model returns (out, Qmax*out).
//
// Pre/post-processing of the published weights (reference dataset + test code): sRGB RGB in
// [0,1]; model input = SDR resized by 1/scale with bicubic (OpenCV INTER_CUBIC), clipped to
// [0,1]; thumbnail = SDR resized to 256x256 bicubic; log2 gain = clip(Qmax*out, 0, 1) *
// log2(peak). Real-world weights: scale 2, peak 5.
#pragma once
#include "regain/export.h"
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "regain/error.h"
#include "regain/image.h"
#include "regain/predict.h"

namespace regain::gmnet {

// One named float32 tensor; `data` points into storage kept alive by `keep` (a loaded
// file, a memory mapping, or an owned buffer).
struct REGAIN_API Tensor {
  std::vector<int64_t> shape;
  std::span<const float> data;
  std::shared_ptr<const void> keep;
  int64_t numel() const;
};
using TensorMap = std::map<std::string, Tensor>;

// The state_dict keys and shapes GMNet needs, in network order.
struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};
REGAIN_API const std::vector<TensorSpec>& tensor_specs();

// Limits for untrusted weight files.
inline constexpr uint64_t kMaxModelBytes = 256ull << 20;

// torch.save archive (zip of data.pkl + raw storages) -> tensors. Only a safe subset of the
// pickle protocol is interpreted (no code is ever run); a "module." prefix is stripped.
REGAIN_API Result<TensorMap> load_torch_state_dict(std::vector<uint8_t> bytes);
// Every GMNet key present with the right shape; no unknown keys.
REGAIN_API Result<void> check_weights(const TensorMap& w);
// Native format (.rgm): memory-mapped, 64-byte aligned float32 tensors.
REGAIN_API Result<void> save_rgm(const TensorMap& w, const std::filesystem::path& path);
REGAIN_API Result<TensorMap> load_rgm(const std::filesystem::path& path);
// Either format, sniffed from the first bytes, then checked against the network.
REGAIN_API Result<TensorMap> load_weights(const std::filesystem::path& path);

enum class Precision { Auto, FP32, BF16 };
REGAIN_API Result<Precision> parse_precision(const std::string& s);
REGAIN_API const char* precision_name(Precision p);
// Whether this CPU runs bf16 convolutions natively (AVX-512 BF16 or AMX).
REGAIN_API bool cpu_has_bf16();
// AMX tiles (bf16 matrix units). `auto` precision picks bf16 only with AMX: with AVX-512 BF16
// alone, oneDNN 2.6's bf16 convolutions measured 0.6x the speed of its FP32 ones here.
REGAIN_API bool cpu_has_amx();

struct RunOptions {
  Precision precision = Precision::Auto;
  int tile = 1024;  // largest tile side in model-input pixels (even); 0 = never tile
  int halo = 80;    // overlap each side, >= the local branch's receptive radius (76)
};

struct RawOutput {
  ImageF out;   // normalised map, 1 channel, model-input size
  float qmax = 0;
};

// Weights reordered once; run() may be called many times (not concurrently).
class REGAIN_API Engine {
 public:
  virtual ~Engine() = default;
  static Result<std::unique_ptr<Engine>> create(const TensorMap& w, Precision precision);
  virtual Precision precision() const = 0;
  // input: RGB float HWC in [0,1] (model input size); thumb: 256x256 RGB float.
  virtual Result<RawOutput> run(const ImageF& input, const ImageF& thumb, const RunOptions& opt) = 0;
};

struct ModelOptions {
  int scale = 2;        // model input = SDR / scale
  double peak = 5.0;    // log2(peak) = the headroom of a full-scale map, stops
  RunOptions run;
};

// The Predictor for `regain process --model`. --boost (PredictOptions::boost) replaces
// log2(peak) as the headroom that a full-scale normalised map maps to.
REGAIN_API std::unique_ptr<Predictor> make_predictor(std::shared_ptr<Engine> engine, const ModelOptions& opt);

// Preprocessing as the weights were trained: bicubic resize (OpenCV INTER_CUBIC), clipped.
REGAIN_API ImageF resize_bicubic(const ImageF& src, int width, int height);
REGAIN_API ImageF to_float(const Image8& sdr);

}  // namespace regain::gmnet
