// Gain-map model (ISO 21496-1 semantics) and math: computing a map from two renditions and
// applying one at any display headroom. All gains and headrooms are log2 stops.
#pragma once
#include "regain/export.h"
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "regain/color.h"
#include "regain/error.h"
#include "regain/image.h"

namespace regain {

struct GainMapChannel {
  double min = 0.0;               // log2 gain at code 0
  double max = 1.0;               // log2 gain at code 1
  double gamma = 1.0;             // stored code = r^gamma, r = normalised log gain
  double base_offset = 1.0 / 64;  // added to the base rendition before the ratio
  double alternate_offset = 1.0 / 64;
  bool operator==(const GainMapChannel&) const = default;
};

// How stored codes turn into gain. Every ISO/XMP file uses Iso21496; Apple-only files
// (HDRGainMap XMP + MakerNote, no ISO/XMP hdrgm) encode linear gain with the BT.709 curve:
// hdr = sdr * (1 + (H - 1) * bt709_inverse(code)).
enum class GainCurve { Iso21496, AppleLinear };

struct GainMapMetadata {
  uint16_t minimum_version = 0;
  uint16_t writer_version = 0;
  bool multichannel = false;
  bool use_base_colour_space = true;
  double base_headroom = 0.0;       // log2; 0 for an SDR base
  double alternate_headroom = 1.0;  // log2
  std::array<GainMapChannel, 3> channel{};
  GainCurve curve = GainCurve::Iso21496;

  int channel_count() const { return multichannel ? 3 : 1; }
  bool base_is_hdr() const { return base_headroom > alternate_headroom; }
  // True when all three channels carry the same values (then one channel suffices).
  bool channels_equal() const { return channel[0] == channel[1] && channel[1] == channel[2]; }
  bool operator==(const GainMapMetadata&) const = default;
};

// The largest |offset| accepted: what ISO 21496-1's signed 32-bit fractions can carry.
inline constexpr double kMaxGainMapOffset = 2147483647.0;
// Checks everything a reader relies on; the message names the bad field.
REGAIN_API Result<void> validate(const GainMapMetadata& m);

// Metadata describing an Apple gain map of the given linear headroom (>= 1).
REGAIN_API GainMapMetadata apple_metadata(double headroom_linear);

// ISO 21496-1 weight for a display whose headroom is `display_headroom` log2 stops:
// in [0,1] for an SDR base, [-1,0] for an HDR base.
REGAIN_API double gain_map_weight(const GainMapMetadata& m, double display_headroom);

// ---- computing a map --------------------------------------------------------------------
struct ComputeOptions {
  int scale = 4;               // map is ceil(W/scale) x ceil(H/scale); 1, 2, 4 or 8
  bool multichannel = false;   // 3-channel map (per-channel gains) instead of luminance
  double gamma = 1.0;
  double base_offset = 1.0 / 64;
  double alternate_offset = 1.0 / 64;
  std::optional<double> min_log2, max_log2;   // given, else robust percentiles
  double low_percentile = 0.1, high_percentile = 99.9;  // percent of map pixels
  std::optional<double> alternate_headroom;   // default: max(max_log2, a small epsilon)
  Primaries primaries = Primaries::BT709;     // of both inputs (the math space)
  int threads = 0;                            // 0 = hardware concurrency
};

struct ComputedGainMap {
  Image8 map;  // 1 or 3 channels
  GainMapMetadata meta;
};

// sdr: 8-bit sRGB-encoded RGB; hdr: linear extended-SDR RGB (1.0 = SDR white), same size
// and primaries.
REGAIN_API Result<ComputedGainMap> compute_gain_map(const Image8& sdr, const ImageF& hdr,
                                         const ComputeOptions& opt = {});
// The same computation split into map-row ranges, so callers can schedule it (the JPEG_R
// encoder runs it beside the base JPEG encode). compute_rows may run concurrently on
// disjoint ranges; finish() quantises once all rows are done.
class REGAIN_API GainMapComputer {
 public:
  static Result<GainMapComputer> create(const Image8& sdr, const ImageF& hdr, const ComputeOptions& opt);
  int map_rows() const { return gains_.height(); }
  void compute_rows(int my0, int my1);
  Result<ComputedGainMap> finish() const;
  // The log2 gains computed so far (map resolution). Callers may edit them before
  // quantising, e.g. `regain master` forces "no gain" under a burned-in label.
  ImageF& log2_gain() { return gains_; }

 private:
  const Image8* sdr_ = nullptr;
  const ImageF* hdr_ = nullptr;
  ComputeOptions opt_;
  ImageF gains_;  // log2 gain per map pixel
};

// Same from log2 gains already computed at map resolution (channels 1 or 3); used by
// pipelines that derive gains in other ways (predictors, reference transfer).
REGAIN_API Result<ComputedGainMap> quantize_gain_map(const ImageF& log2_gain, const ComputeOptions& opt);
// The same with the metadata taken from the gains themselves: min = min(0, smallest gain),
// max = the largest (at least min + 1/64): what process and the predictive eval write.
REGAIN_API Result<ComputedGainMap> quantize_gain_map_exact(const ImageF& log2_gain, Primaries primaries);

// ---- applying a map ---------------------------------------------------------------------
struct ApplyOptions {
  double display_headroom = 1e9;  // log2; default = the file's full alternate headroom
  int threads = 0;
};
// base: 8-bit RGB with an SDR transfer (sRGB by default); map: any size, 1 or 3 channels.
// Output: linear RGB float in the base's primaries, 1.0 = SDR white, clamped at 0.
REGAIN_API Result<ImageF> apply_gain_map(const Image8& base, const Image8& map, const GainMapMetadata& m,
                              const ApplyOptions& opt = {}, Transfer base_transfer = Transfer::SRGB);
// Same for a base already linear (e.g. a 10-bit HDR base decoded to float).
REGAIN_API Result<ImageF> apply_gain_map(const ImageF& base_linear, const Image8& map,
                              const GainMapMetadata& m, const ApplyOptions& opt = {});

// Applies one map to rows of a base image. Built once per image (tables, sampling taps),
// then used from several threads on disjoint row ranges; the decoder streams rows through
// it while the base JPEG is still being decoded.
class REGAIN_API GainMapApplier {
 public:
  static Result<GainMapApplier> create(int width, int height, const Image8& map, const GainMapMetadata& m,
                                       double display_headroom, Transfer base_transfer = Transfer::SRGB);
  // base: 8-bit RGB (the transfer given to create) or linear float RGB; out: W x H x 3.
  void apply_rows(const Image8& base, int y0, int y1, ImageF& out) const;
  void apply_rows(const ImageF& base, int y0, int y1, ImageF& out) const;
  // One row y of an 8-bit base into `out` (width x 3 floats): HDR a row at a time.
  void apply_row(const Image8& base, int y, std::span<float> out) const;
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  struct Taps {
    std::vector<int> i0, i1;
    std::vector<float> w1;
  };
  template <class Out, class Pixel>
  void run(int y0, int y1, Out&& out_row, Pixel&& linear_plus_offset) const;
  void blend_map_rows(int y, float* vrow) const;

  int width_ = 0, height_ = 0;
  Image8 map_;
  bool mono_ = true;  // one factor for all three channels
  Taps tx_, ty_;
  std::array<std::vector<float>, 3> factor_;       // per quarter code
  std::array<std::array<float, 256>, 3> linb_{};   // 8-bit code -> linear + base offset
  std::array<float, 3> base_offset_{}, alt_offset_{};
};

// Bilinear, centre-aligned resampling of an 8-bit map to any size (up or down, any factor),
// rows on `threads` cores (0 = all).
REGAIN_API Image8 resample_map(const Image8& map, int width, int height, int threads = 0);

}  // namespace regain
