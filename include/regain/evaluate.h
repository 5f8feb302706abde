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
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "regain/error.h"

namespace regain {

struct EvalRow {
  std::string file, edit, method;
  double pu_psnr_unedited = 0, pu_psnr_edited = -1;  // -1: edit has no edited region
  double log_lum_unedited = 0;
};

// One gain-map JPEG through every edit and method.
Result<std::vector<EvalRow>> evaluate_file(const std::string& name, std::span<const uint8_t> gain_map_jpeg);
nlohmann::json eval_rows_to_json(const std::vector<EvalRow>& rows);
double pu21_encode(double nits);

}  // namespace regain
