// Shared CLI plumbing: exit codes, error reporting, file I/O with limits.
#pragma once
#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "regain/error.h"
#include "regain/predict.h"

namespace regain::cli {

// Documented in README "Exit codes".
enum Exit : int {
  kOk = 0,
  kFailure = 1,       // generic
  kUsage = 2,         // bad arguments
  kInvalidInput = 3,  // unreadable / malformed input
  kUnsupported = 4,
  kTooLarge = 5,
  kNotFound = 6,      // e.g. no gain map in the input
  kIo = 7,
  kInternal = 8,
};

int exit_code_for(const Error& e);
// Prints "regain: <context>: <message>" to stderr and returns the exit code.
int report(const Error& e, const std::string& context = "");
// extract / repair read gain-map containers only: a PNG, TIFF, EXR or WebP is refused by
// name (exit 4) instead of with a JPEG parser's "no SOI". nullopt: go on.
std::optional<int> refuse_non_container(std::span<const uint8_t> bytes, const std::string& file, const char* command);

using Runner = std::function<int()>;
// Each command adds its subcommand and returns the function that runs it.
Runner add_inspect(CLI::App& app);
Runner add_extract(CLI::App& app);
Runner add_decode(CLI::App& app);
Runner add_encode(CLI::App& app);
Runner add_repair(CLI::App& app);
Runner add_bench(CLI::App& app);
Runner add_samples(CLI::App& app);
Runner add_process(CLI::App& app);
Runner add_eval(CLI::App& app);
Runner add_master(CLI::App& app);
Runner add_serve(CLI::App& app);
Runner add_model(CLI::App& app);
Runner add_train(CLI::App& app);
Runner add_batch_report(CLI::App& app);
// --model FILE, --model-scale N, --precision auto|fp32|bf16 (learned predictor), and loading it.
// --predictor default|learned|heuristic picks the predictor when no --model is given.
void add_model_options(CLI::App& cmd, std::string& model, int& scale, std::string& precision);
void add_predictor_option(CLI::App& cmd, std::string& predictor);
// A learned model (.rglm) or GMNet weights (.pth/.rgm), sniffed from the file.
Result<std::unique_ptr<Predictor>> load_model_predictor(const std::string& path, int scale, const std::string& precision);
// The predictor named by --predictor (and --model when given); null means the default.
Result<std::unique_ptr<Predictor>> choose_predictor(const std::string& predictor, const std::string& model, int scale,
                                                    const std::string& precision);
// `regain bench --model`: GMNet on oneDNN against onnxruntime-node (bench_gmnet.cpp).
int run_gmnet_bench(const std::string& model, const std::string& onnx, const std::string& ort_dir, int reps, bool json);
// Threads for each job's kernels when `jobs` files run at once.
int resolve_jobs_threads(int jobs);

}  // namespace regain::cli
