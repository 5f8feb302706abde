// `regain master`: HDR masters (PQ/HLG/linear TIFF, 16-bit PNG with cICP, OpenEXR) to PQ
// HEICs, gain-map HEIC/JPEG_R/AVIF, labels and a preview gallery (regain/master.h).
//   regain master INPUT_OR_DIR... [--out-dir D] [--exports pq,pq-compat,gainmap[,jpeg,avif,tiff]]
//                 [--lut F.cube] [--label|--no-label] [--gallery] [--jobs N] [--json]
// Outputs of one input are written only when all of them were made (each atomically); a bad
// input is reported, skipped and counted in the summary.
#include <atomic>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "cli/common.h"
#include "cli/io.h"
#include "regain/master.h"
#include "util/json_text.h"

namespace regain::cli {

namespace {

namespace fs = std::filesystem;

struct Opts {
  std::vector<std::string> inputs;
  std::string out_dir, exports = "pq,pq-compat,gainmap", lut, lut_output = "srgb", input_space,
                       sdr_primaries = "p3";
  bool label = true, gallery = false, json = false;
  int jobs = 1, map_scale = 1, quality = 92, pq_quality = 100;
  double exposure = 0, sdr_exposure = 0;
};

struct Job {
  fs::path input, out_dir;
  std::string stem;
};

std::vector<Job> expand(const Opts& o, std::vector<std::string>& errors) {
  const auto files = expand_inputs(o.inputs, {"tif", "tiff", "png", "exr"}, errors);
  std::vector<Job> jobs;
  for (const auto& f : files) {
    fs::path dir = o.out_dir.empty() ? (f.has_parent_path() ? f.parent_path() : fs::path(".")) / "converted"
                                     : fs::path(o.out_dir);
    jobs.push_back({f, dir, f.stem().string()});
  }
  return jobs;
}

Result<MasterOptions> master_options(const Opts& o) {
  MasterOptions mo;
  mo.exports.clear();
  std::stringstream ss(o.exports);
  for (std::string item; std::getline(ss, item, ',');) {
    if (item.empty()) continue;
    auto e = parse_master_export(item);
    if (!e) return fail(ErrorCode::InvalidInput, "--exports: unknown export '" + item +
                                                     "' (pq, pq-compat, gainmap, jpeg, avif, tiff)");
    if (std::find(mo.exports.begin(), mo.exports.end(), *e) == mo.exports.end()) mo.exports.push_back(*e);
  }
  if (mo.exports.empty()) return fail(ErrorCode::InvalidInput, "--exports: nothing to export");
  if (!o.lut.empty()) {
    REGAIN_TRY(lut, load_cube_lut(o.lut));
    mo.lut = std::make_shared<const CubeLut>(std::move(lut));
  }
  auto prim = [](const std::string& s) -> std::optional<Primaries> {
    if (s == "srgb" || s == "bt709") return Primaries::BT709;
    if (s == "p3") return Primaries::DisplayP3;
    return std::nullopt;
  };
  auto lo = prim(o.lut_output);
  if (!lo) return fail(ErrorCode::InvalidInput, "--lut-output must be srgb or p3");
  mo.lut_output = *lo;
  auto sp = prim(o.sdr_primaries);
  if (!sp) return fail(ErrorCode::InvalidInput, "--sdr-primaries must be srgb or p3");
  mo.sdr_primaries = *sp;
  if (!o.input_space.empty()) {
    auto is = parse_input_space(o.input_space);
    if (!is) return fail(ErrorCode::InvalidInput, "--input-space must be PRIMARIES-TRANSFER: p3|bt2020|bt709 - pq|hlg|linear");
    mo.input_space = *is;
  }
  mo.exposure = o.exposure;
  mo.sdr_exposure = o.sdr_exposure;
  mo.label = o.label;
  mo.previews = o.gallery;
  mo.map_scale = o.map_scale;
  mo.quality = o.quality;
  mo.pq_quality = o.pq_quality;
  return mo;
}

// Everything for one input, or nothing: files already written are removed on a failure.
Result<GalleryRow> run_one(const Job& job, const MasterOptions& mo, nlohmann::json& meta) {
  REGAIN_TRY(bytes, read_input(job.input));
  REGAIN_TRY(r, master_image(bytes, job.stem, mo));
  GalleryRow row;
  row.stem = job.stem;
  row.source = job.input.filename().string();
  std::vector<std::pair<fs::path, std::vector<uint8_t>*>> writes;
  for (auto& f : r.files) {
    GalleryEntry e;
    e.profile = std::string(master_export_profile(f.kind));
    e.file = f.name;
    e.show_hdr = f.kind == MasterExport::GainMapJpeg || f.kind == MasterExport::GainMapAvif;
    writes.emplace_back(job.out_dir / f.name, &f.bytes);
    if (!f.preview_png.empty()) {
      e.preview = "previews/" + f.name + ".png";
      writes.emplace_back(job.out_dir / e.preview, &f.preview_png);
    }
    row.entries.push_back(std::move(e));
  }
  if (!r.gain_map_png.empty()) {
    row.gain_map_preview = "previews/" + job.stem + "_gain_map.png";
    writes.emplace_back(job.out_dir / row.gain_map_preview, &r.gain_map_png);
    if (!r.where_hdr_jpeg.empty()) {
      row.where_hdr_preview = "previews/" + job.stem + "_where_hdr.jpg";
      writes.emplace_back(job.out_dir / row.where_hdr_preview, &r.where_hdr_jpeg);
    }
  }
  for (size_t i = 0; i < writes.size(); ++i) {
    auto w = write_output(writes[i].first, *writes[i].second);
    if (!w) {
      std::error_code ec;
      for (size_t j = 0; j < i; ++j) fs::remove(writes[j].first, ec);
      return tl::unexpected(w.error());
    }
  }
  meta = std::move(r.meta);
  meta["file"] = job.input.string();
  meta["out_dir"] = job.out_dir.string();
  return row;
}

int run(const Opts& o) {
  auto mo_r = master_options(o);
  if (!mo_r) return report(mo_r.error());
  MasterOptions mo = std::move(*mo_r);
  std::vector<std::string> errors;
  const auto jobs = expand(o, errors);
  for (const auto& e : errors) std::cerr << "regain: " << e << "\n";
  if (jobs.empty()) {
    std::cerr << "regain: no master images (.tif, .tiff, .png, .exr)\n";
    return errors.empty() ? kUsage : kIo;
  }
  mo.threads = std::max(1, resolve_jobs_threads(o.jobs));

  // Two inputs with the same stem would overwrite each other's exports.
  std::vector<std::string> clash(jobs.size());
  std::map<std::pair<fs::path, std::string>, size_t> seen;
  for (size_t i = 0; i < jobs.size(); ++i) {
    std::error_code ec;
    fs::path dir = fs::weakly_canonical(jobs[i].out_dir, ec);
    if (ec) dir = jobs[i].out_dir;
    auto [it, fresh] = seen.emplace(std::pair{dir, jobs[i].stem}, i);
    if (!fresh) clash[i] = "output names clash with " + jobs[it->second].input.string() + " (same stem and --out-dir)";
  }

  std::vector<GalleryRow> rows(jobs.size());
  std::vector<nlohmann::json> metas(jobs.size());
  std::atomic<size_t> next{0}, done{0}, failed{0};
  std::mutex io;
  Result<void> last_error;
  const auto start = std::chrono::steady_clock::now();
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < jobs.size();) {
      const auto t = std::chrono::steady_clock::now();
      Result<GalleryRow> r = fail(ErrorCode::Internal, "not run");
      if (!clash[i].empty()) {
        r = fail(ErrorCode::InvalidInput, clash[i]);
      } else {
        try {
          r = run_one(jobs[i], mo, metas[i]);
        } catch (const std::bad_alloc&) {
          r = fail(ErrorCode::TooLarge, "out of memory");
        } catch (const std::exception& ex) {
          r = fail(ErrorCode::Internal, ex.what());
        }
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
      std::lock_guard lock(io);
      const size_t n = ++done;
      std::cerr << "[" << n << "/" << jobs.size() << "] " << jobs[i].input.string();
      if (r) {
        std::cerr << ": ok (" << r->entries.size() << " files in " << jobs[i].out_dir.string() << ", " << std::fixed
                  << std::setprecision(2) << s << " s)\n";
        for (const auto& w : metas[i]["warnings"]) std::cerr << "  warning: " << w.get<std::string>() << "\n";
        rows[i] = std::move(*r);
      } else {
        ++failed;
        std::cerr << ": FAILED: " << r.error().message << "\n";
        last_error = tl::unexpected(r.error());
        rows[i].stem = jobs[i].stem;
        rows[i].source = jobs[i].input.filename().string();
        rows[i].error = r.error().message;
        metas[i] = {{"file", jobs[i].input.string()},
                    {"error", {{"code", error_code_name(r.error().code)}, {"message", r.error().message}}}};
      }
    }
  };
  std::vector<std::thread> pool;
  for (int j = 1; j < o.jobs; ++j) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();

  int gallery_failures = 0;
  if (o.gallery) {
    std::map<fs::path, std::vector<GalleryRow>> by_dir;
    for (size_t i = 0; i < jobs.size(); ++i) by_dir[jobs[i].out_dir].push_back(rows[i]);
    for (const auto& [dir, dir_rows] : by_dir) {
      auto a = write_output(dir / "index.html", gallery_html(dir_rows));
      auto b = a ? write_output(dir / "README.md", gallery_readme(dir_rows)) : a;
      if (!b) {
        ++gallery_failures;
        report(b.error(), "gallery");
      } else {
        std::cerr << "gallery: " << (dir / "index.html").string() << "\n";
      }
    }
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "mastered " << jobs.size() << " file(s): " << jobs.size() - failed << " ok, " << failed << " failed in "
            << std::fixed << std::setprecision(1) << total << " s\n";
  if (o.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (auto& m : metas) arr.push_back(std::move(m));
    std::cout << json_text(arr, 2) << "\n";
  }
  if (jobs.size() == 1 && failed && errors.empty()) return exit_code_for(last_error.error());
  return (failed || gallery_failures || !errors.empty()) ? kFailure : kOk;
}

}  // namespace

Runner add_master(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "master", "HDR masters (PQ/HLG TIFF, PNG with cICP, EXR) to PQ HEICs, gain-map HEIC/JPEG_R/AVIF and a gallery");
  auto o = std::make_shared<Opts>();
  cmd->add_option("inputs", o->inputs, "Master files and/or directories of them")->required();
  cmd->add_option("--out-dir", o->out_dir, "Output directory (default: converted/ beside each input)");
  cmd->add_option("--exports", o->exports, "Comma list of pq, pq-compat, gainmap, jpeg, avif, tiff")
      ->capture_default_str();
  cmd->add_option("--lut", o->lut, "SDR base from this .cube 3D LUT (input: the master's PQ P3-D65 signal)");
  cmd->add_option("--lut-output", o->lut_output, "Primaries of the LUT's output signal: srgb or p3")
      ->capture_default_str();
  cmd->add_flag("--label,!--no-label", o->label, "Burn the profile name into every export (default on)");
  cmd->add_flag("--gallery", o->gallery, "Write index.html, README.md and previews/ in the output directory");
  cmd->add_option("--jobs", o->jobs, "Files processed in parallel")->check(CLI::Range(1, 64));
  cmd->add_flag("--json", o->json, "Print one JSON object per input (an array)");
  cmd->add_option("--input-space", o->input_space,
                  "Colour space of a master that does not say (TIFF: overrides its ICC): p3-pq, bt2020-pq, bt2020-hlg, "
                  "bt709-linear, ...");
  cmd->add_option("--exposure", o->exposure, "Stops applied to scene-linear (EXR) masters; 1.0 = 203 cd/m2")
      ->capture_default_str();
  cmd->add_option("--sdr-exposure", o->sdr_exposure,
                  "Brighten the built-in SDR base by up to this many stops (0 = BT.2446-1 Method A as published)")
      ->check(CLI::Range(0.0, 3.0))
      ->capture_default_str();
  cmd->add_option("--sdr-primaries", o->sdr_primaries, "Primaries of the built-in SDR base: p3 or srgb")
      ->capture_default_str();
  cmd->add_option("--map-scale", o->map_scale, "Gain map is 1/N of the image size (1, 2, 4, 8)")
      ->check(CLI::IsMember({1, 2, 4, 8}))
      ->capture_default_str();
  cmd->add_option("--quality", o->quality, "HEVC/AV1/JPEG-side quality of the SDR base (0..100)")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  cmd->add_option("--pq-quality", o->pq_quality, "HEVC quality of the PQ HEICs (100 = near lossless)")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  return [=]() -> int { return run(*o); };
}

}  // namespace regain::cli
