// Restore-quality evaluation: simulated edits of real gain-map photos, Reference mode
// scored against ground truth and two baselines.
//
// Ground truth for an edit: the edited SDR lifted by the original's per-pixel gain carried
// through the same edit (geometric edits move the gain with the pixels; a patch copy copies
// the gain too; tonal edits keep it), i.e. what a perfect restore produces.
// Baselines: (a) the original gain map re-embedded unchanged; (b) Predictive mode.
// Scores: PU21-encoded PSNR (Mantiuk & Azimi 2021, banding+glare; 1.0 = 203 cd/m2, peak =
// PU21(100 cd/m2)) over unedited and edited pixels, and mean |log2| luminance error.
#pragma once
#include "regain/export.h"
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "regain/error.h"
#include "regain/image.h"
#include "regain/predict.h"

namespace regain {

struct EvalRow {
  std::string file, edit, method;
  double pu_psnr_unedited = 0, pu_psnr_edited = -1;  // -1: edit has no edited region
  double log_lum_unedited = 0;
};

// One gain-map JPEG through every edit and method.
// `predictor`: the one Reference mode's fill and baseline (b) use (null: the default).
REGAIN_API Result<std::vector<EvalRow>> evaluate_file(const std::string& name, std::span<const uint8_t> gain_map_jpeg,
                                           const Predictor* predictor = nullptr);
REGAIN_API nlohmann::json eval_rows_to_json(const std::vector<EvalRow>& rows);
// The combined edit `regain eval` scores as "removal+recolour+reframe" (a patch copied over
// the upper right, a recoloured central block, a 4:5 reframe), for the demo: 8-bit RGB in,
// the edited 8-bit RGB out.
REGAIN_API Image8 demo_edit(const Image8& sdr);
REGAIN_API double pu21_encode(double nits);

// Predictive mode against a real photo's own HDR (any gain-map file regain reads): its SDR
// base through each predictor (map quantised and applied as `regain process` writes it), in
// log2 luminance at 512 px wide over pixels above 0.5 % of SDR white. The first row of each
// file is "none" (no gain at all).
struct HdrError {
  double abs = 0, struc = 0, pu_psnr = 0;
  double level = 0;  // the median error itself (signed, stops: > 0 = brighter than the photo's HDR)
};
// pred, truth: linear RGB (1.0 = SDR white); sdr: the 8-bit sRGB-encoded SDR they were made
// from (the mask); all the same size and primaries. Scored as above.
REGAIN_API HdrError compare_hdr(const ImageF& pred, const ImageF& truth, const Image8& sdr, Primaries primaries);

struct PredictiveRow {
  std::string file, method;
  double abs = 0;     // mean |log2 Y error|, stops
  double struc = 0;   // the same after removing the median error
  double pu_psnr = 0; // PU21 PSNR (peak = PU21(10000 cd/m2))
  double boost = 0;   // headroom the predictor chose, stops
  double level = 0;   // signed median error (> 0: brighter than the photo's HDR), stops
};
// `renditions`, when given, receives the scored images at 512 px wide (linear, displayed):
// the SDR, the photo's own HDR, then one per predictor (for side-by-side pictures).
REGAIN_API Result<std::vector<PredictiveRow>> evaluate_predictive_file(const std::string& name, std::span<const uint8_t> file,
                                                            const std::vector<const Predictor*>& predictors,
                                                            std::vector<ImageF>* renditions = nullptr);

}  // namespace regain
