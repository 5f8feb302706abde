// `regain bench --model W.pth --onnx W.onnx`: GMNet on oneDNN (FP32, and bf16 where the CPU
// has it) against onnxruntime-node on the same weights, at 1024x768 and at the model input
// of a 12-MP photo (2016x1512, i.e. 4032x3024 at scale 2), measured in the same run. Each
// configuration runs in its own child process so that its peak RSS is its own; wall and CPU
// time are both reported because the machine may be shared.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "regain/gmnet.h"
#include "util/json_text.h"

namespace regain::cli {

namespace {

std::vector<nlohmann::json> run_lines(const std::string& cmd) {
  std::vector<nlohmann::json> out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char line[4096];
  while (std::fgets(line, sizeof line, p)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object()) out.push_back(j);
  }
  pclose(p);
  return out;
}

std::string quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

}  // namespace

int run_gmnet_bench(const std::string& model, const std::string& onnx, const std::string& ort_dir, int reps, bool json) {
  const std::vector<std::pair<int, int>> sizes = {{1024, 768}, {2016, 1512}};
  std::vector<std::string> precisions = {"fp32"};
  if (gmnet::cpu_has_bf16()) precisions.push_back("bf16");
  nlohmann::json rows = nlohmann::json::array();
  for (auto [w, h] : sizes) {
    nlohmann::json ort = nullptr;
    if (!onnx.empty()) {
      auto r = run_lines("node " + quote(ort_dir + "/bench.js") + " " + quote(onnx) + " 2 " + std::to_string(reps) + " " +
                         std::to_string(w) + "x" + std::to_string(h));
      if (!r.empty()) ort = r.back();
      else std::cerr << "regain: onnxruntime run failed (npm install in " << ort_dir << " with ONNXRUNTIME_NODE_INSTALL=skip?)\n";
      if (!ort.is_null()) rows.push_back({{"engine", "onnxruntime"}, {"precision", "fp32"}, {"width", w}, {"height", h},
                                          {"wall", ort["wall"]}, {"cpu", ort["cpu"]}, {"peak_rss_mib", ort["peak_rss_mib"]}});
    }
    for (const auto& p : precisions) {
      auto r = run_lines("OMP_NUM_THREADS=2 /proc/" + std::to_string(getpid()) + "/exe model bench " + quote(model) +
                         " --json --precision " + p + " --reps " + std::to_string(reps) + " --size " + std::to_string(w) +
                         " " + std::to_string(h));
      if (r.empty()) { std::cerr << "regain: model bench failed for " << p << "\n"; return kFailure; }
      nlohmann::json row = r.back();
      row["engine"] = "regain-onednn";
      if (!ort.is_null()) {
        row["speedup_wall"] = ort["wall"].get<double>() / row["wall"].get<double>();
        row["speedup_cpu"] = ort["cpu"].get<double>() / row["cpu"].get<double>();
      }
      rows.push_back(row);
    }
  }
  if (json) {
    std::cout << json_text(rows, 2) << "\n";
    return kOk;
  }
  std::printf("GMNet, 2 threads, median of %d (shared machine: compare CPU time too)\n", reps);
  std::printf("%-10s %-14s %-5s %9s %9s %9s %8s %8s\n", "input", "engine", "prec", "wall s", "cpu s", "RSS MiB", "x wall", "x cpu");
  for (auto& r : rows) {
    const std::string size = std::to_string(r["width"].get<int>()) + "x" + std::to_string(r["height"].get<int>());
    std::printf("%-10s %-14s %-5s %9.2f %9.2f %9.0f", size.c_str(), r["engine"].get<std::string>().c_str(),
                r["precision"].get<std::string>().c_str(), r["wall"].get<double>(), r["cpu"].get<double>(),
                r["peak_rss_mib"].get<double>());
    if (r.contains("speedup_wall")) std::printf(" %8.2f %8.2f", r["speedup_wall"].get<double>(), r["speedup_cpu"].get<double>());
    std::printf("\n");
  }
  return kOk;
}

}  // namespace regain::cli
