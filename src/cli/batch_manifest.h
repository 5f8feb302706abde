// Batch manifests for `regain process --manifest FILE.tsv --shard I/N` and the per-shard
// reports `regain batch-report` merges.
//
// Manifest: one job per line, tab-separated: INPUT [REFERENCE|-] [key=value ...] with keys
// boost (stops) and format (jpeg|heic|avif); blank lines and lines starting with '#' are
// skipped; relative paths are relative to the manifest's directory. Jobs are numbered 0.. in
// file order; shard I of N takes the jobs whose number is I modulo N, so N shards cover every
// job exactly once whatever N is, and a job always lands in the same shard.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "regain/error.h"
#include "regain/process.h"

namespace regain::cli {

struct ManifestJob {
  int index = 0;     // job number (0-based, comments and blank lines not counted)
  int line = 0;      // 1-based line in the file, for messages
  std::filesystem::path input;
  std::optional<std::filesystem::path> reference;
  std::optional<double> boost;
  OutputFormat format = OutputFormat::Jpeg;
  std::string output_name;  // <stem>_hdr.<ext>, unique within the manifest
};

Result<std::vector<ManifestJob>> read_manifest(const std::filesystem::path& file);

struct Shard {
  int index = 0, count = 1;
};
// "I/N" with 0 <= I < N <= 100000.
Result<Shard> parse_shard(const std::string& text);
inline bool in_shard(const ManifestJob& j, const Shard& s) { return j.index % s.count == s.index; }

// The report file shard I of N writes into the output directory.
std::string shard_report_name(const Shard& s);

}  // namespace regain::cli
