#include "cli/batch_manifest.h"

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace regain::cli {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == '\t') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

const char* extension_for(OutputFormat f) {
  return f == OutputFormat::Heic ? ".heic" : f == OutputFormat::Avif ? ".avif" : ".jpg";
}

}  // namespace

Result<std::vector<ManifestJob>> read_manifest(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return fail(ErrorCode::Io, "cannot read the manifest " + file.string());
  const fs::path base = file.has_parent_path() ? file.parent_path() : fs::path(".");
  auto resolve = [&](const std::string& p) { return fs::path(p).is_absolute() ? fs::path(p) : base / p; };
  std::vector<ManifestJob> jobs;
  std::set<std::string> outputs;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.size() > 65536) return fail(ErrorCode::InvalidInput, "manifest line " + std::to_string(n) + " is too long");
    if (line.empty() || line[0] == '#' || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto bad = [&](const std::string& why) {
      return fail(ErrorCode::InvalidInput, "manifest line " + std::to_string(n) + ": " + why);
    };
    const auto f = split_tabs(line);
    if (f[0].empty()) return bad("no input file");
    ManifestJob j;
    j.index = int(jobs.size());
    j.line = n;
    j.input = resolve(f[0]);
    if (f.size() > 1 && !f[1].empty() && f[1] != "-") j.reference = resolve(f[1]);
    for (size_t k = 2; k < f.size(); ++k) {
      if (f[k].empty()) continue;
      const auto eq = f[k].find('=');
      if (eq == std::string::npos) return bad("option '" + f[k] + "' is not key=value");
      const std::string key = f[k].substr(0, eq), value = f[k].substr(eq + 1);
      if (key == "boost") {
        double v = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc() || p != value.data() + value.size() || !(v > 0 && v <= 8))
          return bad("boost must be a number in (0, 8]");
        j.boost = v;
      } else if (key == "format") {
        auto fmt = parse_output_format(value);
        if (!fmt) return bad("format must be jpeg, heic or avif");
        j.format = *fmt;
      } else {
        return bad("unknown option '" + key + "' (boost, format)");
      }
    }
    j.output_name = j.input.stem().string() + "_hdr" + extension_for(j.format);
    // Side files (<stem>_hdr_meta.json, previews) do not carry the extension: the stem must
    // be unique, not just the output name.
    if (!outputs.insert(j.input.stem().string()).second)
      return bad("two jobs would write " + j.input.stem().string() + "_hdr.* (rename an input)");
    jobs.push_back(std::move(j));
  }
  if (jobs.empty()) return fail(ErrorCode::InvalidInput, "the manifest lists no jobs");
  return jobs;
}

Result<Shard> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  Shard s;
  auto num = [](const std::string& t, int& v) {
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    return ec == std::errc() && p == t.data() + t.size();
  };
  if (slash == std::string::npos || !num(text.substr(0, slash), s.index) || !num(text.substr(slash + 1), s.count) ||
      s.count < 1 || s.count > 100000 || s.index < 0 || s.index >= s.count)
    return fail(ErrorCode::InvalidInput, "--shard must be I/N with 0 <= I < N (got '" + text + "')");
  return s;
}

std::string shard_report_name(const Shard& s) {
  return "report-shard-" + std::to_string(s.index) + "-of-" + std::to_string(s.count) + ".json";
}

}  // namespace regain::cli
