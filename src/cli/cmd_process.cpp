// `regain process`: restore HDR to edited photos, one file or a batch.
//   regain process --img EDITED [--ref ORIGINAL] [--boost STOPS] [--out OUT] [--hdr-out F.exr] [--previews] [--json]
//   regain process FILES_OR_DIRS... --out-dir D [--jobs N] [--boost STOPS] [--previews] [--json]
//   regain process --manifest JOBS.tsv --shard I/N --out-dir D [--jobs N] [--json]  (see batch_manifest.h)
// Side outputs beside OUT: <stem>_meta.json; with --previews also <stem>_sdr_preview.jpg,
// <stem>_gainmap.png and <stem>_where_hdr.jpg (built only when asked: at 12 MP they cost more
// than the HDR file).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "cli/batch_manifest.h"
#include "cli/common.h"
#include "cli/io.h"
#include "container/heif_gainmap.h"
#include "regain/jpegr.h"
#include "regain/pipeline.h"
#include "regain/process.h"
#include "util/json_text.h"

namespace regain::cli {

namespace {

struct Opts {
  std::string img, ref, out, out_dir, hdr_out, format = "jpeg", manifest, shard = "0/1";
  std::vector<std::string> inputs;
  std::optional<double> boost;
  bool json = false, previews = false;
  int jobs = 1;
  std::string model, precision = "auto";  // predictor model (.rglm or GMNet weights)
  std::string predictor = "default";
  std::string background = "white";
  int model_scale = 2;
};

namespace fs = std::filesystem;

const char* output_extension(OutputFormat f) {
  return f == OutputFormat::Heic ? ".heic" : f == OutputFormat::Avif ? ".avif" : ".jpg";
}

// Runs one file and writes all outputs; returns the meta JSON (with "file"/"output").
Result<nlohmann::json> run_one(const fs::path& img, const std::optional<fs::path>& ref, const fs::path& out,
                               const std::string& hdr_out, const ProcessOptions& po) {
  REGAIN_TRY(bytes, read_input(img));
  std::vector<uint8_t> ref_bytes;
  if (ref) {
    REGAIN_TRY(rb, read_input(*ref));
    ref_bytes = std::move(rb);
  }
  ProcessOptions p = po;
  p.want_hdr = !hdr_out.empty();
  REGAIN_TRY(r, process_image(bytes, ref ? std::optional<std::span<const uint8_t>>(ref_bytes) : std::nullopt, p));
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  const std::string stem = out.stem().string();
  REGAIN_CHECK(write_output(out, r.output));
  if (po.want_previews) {
    REGAIN_CHECK(write_output(dir / (stem + "_sdr_preview.jpg"), r.sdr_preview));
    REGAIN_CHECK(write_output(dir / (stem + "_gainmap.png"), r.gainmap_png));
    REGAIN_CHECK(write_output(dir / (stem + "_where_hdr.jpg"), r.where_hdr_jpeg));
  }
  if (r.hdr) {
    REGAIN_TRY(enc, encode_hdr_file(*r.hdr, r.hdr_primaries, extension_of(hdr_out)));
    REGAIN_CHECK(write_output(hdr_out, enc));
  }
  r.meta["file"] = img.string();
  r.meta["output"]["path"] = out.string();
  REGAIN_CHECK(write_output(dir / (stem + "_meta.json"), json_text(r.meta, 2) + "\n"));
  return r.meta;
}

// Batch output names: <stem>_hdr.<ext>. Inputs sharing a stem (IMG_0001.HEIC beside
// IMG_0001.JPG, as phone exports come) get their own extension in the name, and a name still
// shared (the same file name in two folders) is an error for each input concerned rather than
// one result silently overwriting the other. Side files hang off the stem, so stems must be
// unique, not just the output names.
std::vector<std::optional<fs::path>> batch_outputs(const std::vector<fs::path>& files, const fs::path& dir,
                                                   OutputFormat format) {
  std::map<std::string, int> stem_count, name_count;
  for (const auto& f : files) ++stem_count[f.stem().string()];
  std::vector<std::string> names;
  for (const auto& f : files) {
    std::string stem = f.stem().string();
    if (stem_count[stem] > 1) stem += "_" + extension_of(f);
    names.push_back(stem);
    ++name_count[stem];
  }
  std::vector<std::optional<fs::path>> out;
  for (const auto& n : names)
    out.push_back(name_count[n] > 1 ? std::nullopt : std::optional<fs::path>(dir / (n + "_hdr" + output_extension(format))));
  return out;
}

int run_batch(const Opts& o, const ProcessOptions& po) {
  set_pixel_pool_mb(512);  // file after file of the same sizes: reuse the buffers
  std::vector<std::string> errors;
  const auto files = expand_inputs(o.inputs, {"jpg", "jpeg", "png", "tif", "tiff", "heic", "heif", "hif", "avif", "webp"}, errors);
  for (const auto& e : errors) std::cerr << "regain: " << e << "\n";
  if (files.empty()) {
    std::cerr << "regain: no input images\n";
    return errors.empty() ? kUsage : kIo;
  }
  std::atomic<size_t> next{0}, done{0}, failed{0};
  std::mutex io;
  nlohmann::json results = nlohmann::json::array();
  const auto start = std::chrono::steady_clock::now();
  ProcessOptions p = po;
  p.threads = std::max(1, resolve_jobs_threads(o.jobs));
  const auto outputs = batch_outputs(files, o.out_dir, p.format);
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < files.size();) {
      const auto t = std::chrono::steady_clock::now();
      Result<nlohmann::json> r = fail(ErrorCode::InvalidInput,
                                      "another input has the same file name: its outputs would overwrite this one's (rename one)");
      try {
        if (outputs[i]) r = run_one(files[i], std::nullopt, *outputs[i], "", p);
      } catch (const std::exception& ex) {
        r = fail(ErrorCode::Internal, ex.what());
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
      std::lock_guard lock(io);
      const size_t n = ++done;
      if (r) {
        std::cerr << "[" << n << "/" << files.size() << "] " << files[i].string() << ": ok ("
                  << (*r)["mode"].get<std::string>() << ", " << std::fixed << std::setprecision(2) << s << " s)\n";
        results.push_back(*r);
      } else {
        ++failed;
        std::cerr << "[" << n << "/" << files.size() << "] " << files[i].string() << ": FAILED: " << r.error().message << "\n";
        results.push_back({{"file", files[i].string()},
                           {"error", {{"code", error_code_name(r.error().code)}, {"message", r.error().message}}}});
      }
    }
  };
  std::vector<std::thread> pool;
  for (int j = 1; j < o.jobs; ++j) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "processed " << files.size() << " file(s): " << files.size() - failed << " ok, " << failed
            << " failed in " << std::fixed << std::setprecision(1) << total << " s\n";
  if (o.json) std::cout << json_text(results, 2) << "\n";
  return (failed || !errors.empty()) ? kFailure : kOk;
}

// A finished output from an earlier run of the same shard: the file exists and its gain map
// and metadata read back (a half-written file never has the final name: temp + rename).
bool valid_output(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return false;
  auto bytes = read_input(p);
  if (!bytes) return false;
  const FileType t = sniff_file_type(*bytes);
  if (t == FileType::Jpeg) {
    auto jr = read_jpegr(*bytes);
    return jr && jr->gain_map && jr->metadata;
  }
  if (t == FileType::Heif || t == FileType::Avif) {
    auto hf = read_heif(*bytes);  // structure and reachable pixel data, no decode
    return hf && hf->gain_map && hf->metadata && !hf->damaged;
  }
  return false;
}

// One shard of a manifest: its jobs in order (file by file, --jobs at a time), outputs that
// are already valid skipped, a JSON report of every job written at the end (and after each
// job, so a killed shard leaves a report of what it finished).
int run_manifest(const Opts& o, const ProcessOptions& po) {
  if (o.out_dir.empty()) return report(Error{ErrorCode::InvalidInput, "--manifest needs --out-dir"});
  auto shard = parse_shard(o.shard);
  if (!shard) return report(shard.error());
  auto jobs = read_manifest(o.manifest);
  if (!jobs) return report(jobs.error(), o.manifest);
  std::vector<ManifestJob> mine;
  for (const auto& j : *jobs)
    if (in_shard(j, *shard)) mine.push_back(j);
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) return report(Error{ErrorCode::Io, "cannot create " + o.out_dir + ": " + ec.message()});
  set_pixel_pool_mb(512);
  const fs::path report_path = fs::path(o.out_dir) / shard_report_name(*shard);
  nlohmann::json rows = nlohmann::json::array();
  std::mutex io;
  size_t failed = 0, done = 0;
  auto write_report = [&] {
    nlohmann::json r = {{"manifest", o.manifest}, {"shard", shard->index}, {"shards", shard->count},
                        {"jobs_in_shard", mine.size()}, {"jobs_in_manifest", jobs->size()}, {"results", rows}};
    (void)write_output(report_path, json_text(r, 2) + "\n");
  };
  std::atomic<size_t> next{0};
  ProcessOptions p = po;
  p.threads = std::max(1, resolve_jobs_threads(o.jobs));
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < mine.size();) {
      const ManifestJob& j = mine[i];
      const fs::path out = fs::path(o.out_dir) / j.output_name;
      const auto t = std::chrono::steady_clock::now();
      nlohmann::json row = {{"job", j.index}, {"line", j.line}, {"input", j.input.string()}, {"output", out.string()}};
      // Done earlier: the output reads back and its meta JSON (written after it) exists.
      const fs::path meta = fs::path(o.out_dir) / (out.stem().string() + "_meta.json");
      bool done_before = false;
      try {
        done_before = valid_output(out) && fs::is_regular_file(meta);
      } catch (const std::exception&) {
        done_before = false;  // unreadable: run the job again
      }
      if (done_before) {
        row["status"] = "skipped";
      } else {
        ProcessOptions pj = p;
        pj.boost = j.boost ? j.boost : po.boost;
        pj.format = j.format;
        Result<nlohmann::json> r = fail(ErrorCode::Internal, "not run");
        try {
          r = run_one(j.input, j.reference, out, "", pj);
        } catch (const std::exception& ex) {
          r = fail(ErrorCode::Internal, ex.what());
        }
        if (r) {
          row["status"] = "ok";
          row["mode"] = (*r)["mode"];
        } else {
          row["status"] = "failed";
          row["error"] = {{"code", error_code_name(r.error().code)}, {"message", r.error().message}};
        }
      }
      row["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
      std::lock_guard lock(io);
      failed += row["status"] == "failed";
      rows.push_back(row);
      std::cerr << "[" << ++done << "/" << mine.size() << "] " << j.input.string() << ": "
                << row["status"].get<std::string>()
                << (row.contains("error") ? ": " + row["error"]["message"].get<std::string>() : std::string()) << "\n";
      write_report();
    }
  };
  std::vector<std::thread> pool;
  for (int k = 1; k < o.jobs; ++k) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a["job"] < b["job"]; });
  write_report();
  std::cerr << "shard " << shard->index << "/" << shard->count << ": " << mine.size() << " job(s), " << failed
            << " failed; report " << report_path.string() << "\n";
  if (o.json) std::cout << json_text(rows, 2) << "\n";
  return failed ? kFailure : kOk;
}

}  // namespace

int resolve_jobs_threads(int jobs) {
  // Jobs share the cores: each job's own kernels get an equal slice.
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / std::max(1, jobs));
}

Runner add_process(CLI::App& app) {
  auto* cmd = app.add_subcommand("process", "Restore HDR to edited photos (Predictive mode; Reference mode with --ref)");
  auto o = std::make_shared<Opts>();
  cmd->add_option("inputs", o->inputs, "Batch: image files and/or directories (needs --out-dir)");
  cmd->add_option("--img", o->img, "The edited SDR image (JPEG, PNG, TIFF, HEIC, AVIF or WebP; 8/16-bit, RGB or gray)");
  cmd->add_option("--ref", o->ref, "The original HDR photo (Reference mode)");
  cmd->add_option("--boost", o->boost, "Maximum headroom in stops (default: chosen from the scene)")
      ->check(CLI::Range(0.01, 8.0));
  cmd->add_option("--out", o->out, "Output (default: <img stem>_hdr.jpg/.heic/.avif beside the input)");
  cmd->add_option("--out-dir", o->out_dir, "Batch output directory");
  cmd->add_option("--manifest", o->manifest, "Batch: a TSV of jobs (INPUT [REFERENCE|-] [boost=S] [format=F])");
  cmd->add_option("--shard", o->shard, "With --manifest: run shard I of N (jobs whose number is I mod N), e.g. 3/8");
  cmd->add_option("--format", o->format, "jpeg (default), heic, avif");
  cmd->add_option("--hdr-out", o->hdr_out, "Also write the HDR rendition (.exr, .png PQ, .tif PQ) for QA");
  cmd->add_option("--jobs", o->jobs, "Batch: files processed in parallel")->check(CLI::Range(1, 64));
  cmd->add_flag("--previews", o->previews, "Also write <stem>_sdr_preview.jpg (sRGB), <stem>_gainmap.png and <stem>_where_hdr.jpg (heat overlay)");
  cmd->add_flag("--json", o->json, "Print the metadata JSON (an array in batch mode)");
  cmd->add_option("--background", o->background,
                  "Colour a transparent edit (PNG, WebP, TIFF alpha) is flattened onto: white (default), black, #rrggbb");
  add_model_options(*cmd, o->model, o->model_scale, o->precision);
  add_predictor_option(*cmd, o->predictor);
  return [=]() -> int {
    ProcessOptions po;
    po.boost = o->boost;
    po.want_previews = o->previews;
    auto bg = parse_background(o->background);
    if (!bg) return report(bg.error());
    po.background = *bg;
    auto chosen = choose_predictor(o->predictor, o->model, o->model_scale, o->precision);
    if (!chosen) return report(chosen.error(), o->model);
    std::unique_ptr<Predictor> model = std::move(*chosen);
    po.predictor = model.get();
    auto fmt = parse_output_format(o->format);
    if (!fmt) return report(Error{ErrorCode::InvalidInput, "--format must be jpeg, heic or avif"});
    po.format = *fmt;
    if (!o->manifest.empty()) {
      if (!o->img.empty() || !o->ref.empty() || !o->out.empty() || !o->hdr_out.empty() || !o->inputs.empty())
        return report(Error{ErrorCode::InvalidInput, "--manifest takes --shard and --out-dir, not inputs or --img/--ref/--out"});
      return run_manifest(*o, po);
    }
    if (!o->inputs.empty() || !o->out_dir.empty()) {
      if (!o->img.empty() || !o->ref.empty() || !o->out.empty() || !o->hdr_out.empty())
        return report(Error{ErrorCode::InvalidInput, "batch mode takes inputs and --out-dir, not --img/--ref/--out/--hdr-out"});
      if (o->out_dir.empty()) return report(Error{ErrorCode::InvalidInput, "batch mode needs --out-dir"});
      if (o->inputs.empty()) return report(Error{ErrorCode::InvalidInput, "batch mode needs input files or directories"});
      return run_batch(*o, po);
    }
    if (o->img.empty()) return report(Error{ErrorCode::InvalidInput, "process needs --img (or inputs with --out-dir)"});
    fs::path out = o->out.empty() ? fs::path(o->img).parent_path() / (fs::path(o->img).stem().string() + "_hdr" + output_extension(po.format))
                                  : fs::path(o->out);
    auto r = run_one(o->img, o->ref.empty() ? std::nullopt : std::optional<fs::path>(o->ref), out, o->hdr_out, po);
    if (!r) return report(r.error(), o->img);
    if (o->json) std::cout << json_text(*r, 2) << "\n";
    else std::cerr << "wrote " << out.string() << " (" << (*r)["mode"].get<std::string>() << " mode, boost "
                   << (*r)["boost"].get<double>() << " stops)\n";
    return kOk;
  };
}

}  // namespace regain::cli
