// `regain batch-report DIR [--json]`: merges the per-shard reports that
// `process --manifest ... --shard I/N` wrote into DIR: totals, every failure, and whether all
// N shards reported and together cover the manifest.
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "util/json_text.h"

namespace regain::cli {

Runner add_batch_report(CLI::App& app) {
  auto* cmd = app.add_subcommand("batch-report", "Merge the shard reports of `process --manifest --shard` in a directory");
  auto dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("dir", *dir, "The --out-dir the shards wrote into")->required();
  cmd->add_flag("--json", *json, "Print the merged report as JSON");
  return [=]() -> int {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(*dir, ec)) return report(Error{ErrorCode::NotFound, "no such directory: " + *dir});
    std::map<int, nlohmann::json> shards;  // shard index -> report
    int count = -1;
    size_t manifest_jobs = 0;
    std::vector<std::string> problems;
    for (const auto& e : fs::directory_iterator(*dir, ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("report-shard-", 0) != 0 || e.path().extension() != ".json") continue;
      std::ifstream in(e.path());
      nlohmann::json r = nlohmann::json::parse(in, nullptr, false);
      if (r.is_discarded() || !r.contains("shard") || !r.contains("shards") || !r.contains("results") ||
          !r["shard"].is_number_integer() || !r["shards"].is_number_integer() || !r["results"].is_array()) {
        problems.push_back(name + " is not a shard report");
        continue;
      }
      if (count >= 0 && r["shards"].get<int>() != count) problems.push_back(name + " is from a different shard count");
      count = r["shards"].get<int>();
      manifest_jobs = r.value("jobs_in_manifest", size_t(0));
      const int index = r["shard"].get<int>();  // before r is moved from
      shards[index] = std::move(r);
    }
    if (shards.empty()) return report(Error{ErrorCode::NotFound, "no shard reports in " + *dir});
    for (int i = 0; i < count; ++i)
      if (!shards.count(i)) problems.push_back("shard " + std::to_string(i) + "/" + std::to_string(count) + " has no report");
    std::map<std::string, size_t> by_status;
    std::set<int> seen;
    nlohmann::json failures = nlohmann::json::array();
    for (const auto& [i, r] : shards) {
      if (r.value("jobs_in_shard", size_t(0)) != r["results"].size())
        problems.push_back("shard " + std::to_string(i) + " finished " + std::to_string(r["results"].size()) + " of " +
                           std::to_string(r.value("jobs_in_shard", size_t(0))) + " jobs");
      for (const auto& row : r["results"]) {
        ++by_status[row.value("status", std::string("?"))];
        if (!seen.insert(row.value("job", -1)).second) problems.push_back("job " + std::to_string(row.value("job", -1)) + " reported twice");
        if (row.value("status", std::string()) == "failed") failures.push_back(row);
      }
    }
    if (manifest_jobs && seen.size() != manifest_jobs)
      problems.push_back(std::to_string(seen.size()) + " of " + std::to_string(manifest_jobs) + " manifest jobs reported");
    nlohmann::json merged = {{"shards", count},          {"shard_reports", shards.size()},
                             {"jobs_in_manifest", manifest_jobs}, {"jobs_reported", seen.size()},
                             {"ok", by_status["ok"]},     {"skipped", by_status["skipped"]},
                             {"failed", by_status["failed"]}, {"failures", failures},
                             {"problems", problems},      {"complete", problems.empty() && failures.empty()}};
    if (*json) {
      std::cout << json_text(merged, 2) << "\n";
    } else {
      std::cout << seen.size() << "/" << manifest_jobs << " jobs reported by " << shards.size() << "/" << count
                << " shards: " << by_status["ok"] << " ok, " << by_status["skipped"] << " skipped (already done), "
                << by_status["failed"] << " failed\n";
      for (const auto& f : failures)
        std::cout << "  FAILED " << f.value("input", std::string()) << ": "
                  << f.value("error", nlohmann::json::object()).value("message", std::string()) << "\n";
      for (const auto& p : problems) std::cout << "  problem: " << p << "\n";
    }
    return merged["complete"].get<bool>() ? kOk : kFailure;
  };
}

}  // namespace regain::cli
