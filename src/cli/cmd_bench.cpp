// `regain bench [--json]`: 12-MP JPEG_R encode and decode-to-linear-HDR, each as a ratio
// against libjpeg-turbo alone doing the same JPEG encodes/decodes in the same run.
#include <sys/resource.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "cli/io.h"
#include "container/heif_decode.h"
#include "regain/heif.h"
#include "regain/pipeline.h"
#include "regain/synthetic.h"
#include "util/parallel.h"
#include "util/json_text.h"

namespace regain::cli {

namespace {

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

double median(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

template <class F>
double time_ms(F&& f) {
  auto a = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
}

// The machine is shared and noisy: ours and the floor alternate within each iteration so
// both see the same conditions; medians are compared. One untimed warm-up of each.
template <class A, class B>
std::pair<double, double> paired_medians(int iterations, A&& ours, B&& floor) {
  ours();
  floor();
  std::vector<double> ta, tb;
  for (int i = 0; i < iterations; ++i) {
    ta.push_back(time_ms(ours));
    tb.push_back(time_ms(floor));
  }
  return {median(ta), median(tb)};
}

double psnr8(const Image8& a, const Image8& b) {
  if (a.size() != b.size() || a.empty()) return 0;
  double se = 0;
  for (size_t i = 0; i < a.size(); ++i) se += double(a.data()[i] - b.data()[i]) * (a.data()[i] - b.data()[i]);
  return se == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 * double(a.size()) / se);
}

double primary_psnr(const std::vector<uint8_t>& heic, const Image8& ref) {
  auto hf = read_heif(heic);
  if (!hf) return 0;
  auto pic = decode_heif_item(*hf, heic, hf->primary);
  return pic ? psnr8(heif_to_8bit(*pic), ref) : 0;
}

// HEIC with gain map (base + map coded, container written) against Debian's heif-enc
// (libheif + x265) coding the same base alone at the same nominal quality, as a process:
// the floor a user would otherwise run. Quality is checked too: PSNR of each primary.
int bench_heif(const Image8& sdr, const ComputedGainMap& cg, int iterations, int quality, bool json) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("regain-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto png = encode_png8(sdr);
  if (!png) return report(png.error());
  if (auto r = write_output(dir / "base.png", *png); !r) return report(r.error());
  const std::string cmd = "heif-enc -q " + std::to_string(quality) + " -o '" + (dir / "floor.heic").string() + "' '" +
                          (dir / "base.png").string() + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    fs::remove_all(dir);
    return report(Error{ErrorCode::NotFound, "heif-enc (Debian libheif-examples) is needed for the HEIF floor"});
  }
  HeifEncodeOptions ho;
  ho.quality = quality;
  std::vector<uint8_t> file;
  auto [ours, floor] = paired_medians(
      iterations, [&] { file = *encode_heif_gainmap(sdr, Primaries::BT709, {}, cg.map, cg.meta, ho); },
      [&] { (void)!std::system(cmd.c_str()); });
  auto floor_bytes = read_input((dir / "floor.heic").string());
  const double rss = peak_rss_mb();
  const double p_ours = primary_psnr(file, sdr), p_floor = floor_bytes ? primary_psnr(*floor_bytes, sdr) : 0;
  nlohmann::json j = {{"heic_gainmap_encode_ms", ours}, {"heif_enc_ms", floor}, {"ratio", ours / floor},
                      {"quality", quality}, {"ours_bytes", file.size()},
                      {"heif_enc_bytes", floor_bytes ? floor_bytes->size() : 0},
                      {"ours_primary_psnr", p_ours}, {"heif_enc_primary_psnr", p_floor}, {"peak_rss_mb", rss}};
  fs::remove_all(dir);
  if (json) {
    std::cout << json_text(j, 2) << "\n";
  } else {
    std::printf("HEIC+gain map %7.1f ms | heif-enc (base only) %7.1f ms | ratio %.2fx\n", ours, floor, ours / floor);
    std::printf("primary PSNR ours %.2f dB (%zu B with map) | heif-enc %.2f dB (%zu B); peak RSS %.0f MB\n", p_ours,
                file.size(), p_floor, size_t(j["heif_enc_bytes"]), rss);
  }
  return kOk;
}

}  // namespace

Runner add_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Measure JPEG_R encode/decode against libjpeg-turbo alone");
  struct Opts {
    bool json = false;
    int iterations = 15, width = 4000, height = 3000, quality = 90;
    bool heif = false;
    std::string model, onnx, ort_dir = "tests/gmnet/ort";
  };
  auto o = std::make_shared<Opts>();
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->add_option("--iterations", o->iterations, "Timed runs per case (median reported)")->check(CLI::Range(1, 100));
  cmd->add_option("--width", o->width, "Image width")->check(CLI::Range(64, 16000));
  cmd->add_option("--height", o->height, "Image height")->check(CLI::Range(64, 16000));
  cmd->add_flag("--heif", o->heif, "HEIC with gain map against Debian's heif-enc instead");
  cmd->add_option("--quality", o->quality, "HEIC quality for --heif")->check(CLI::Range(1, 100));
  cmd->add_option("--model", o->model, "GMNet weights: time the learned predictor against onnxruntime instead");
  cmd->add_option("--onnx", o->onnx, "The same weights in ONNX (tests/gmnet/export_onnx.py) for onnxruntime-node");
  cmd->add_option("--ort-dir", o->ort_dir, "Where onnxruntime-node is installed (tests/gmnet/ort)");
  return [=]() -> int {
    if (!o->model.empty()) return run_gmnet_bench(o->model, o->onnx, o->ort_dir, std::min(o->iterations, 3), o->json);
    const int W = o->width, H = o->height;
    ImageF hdr = synthetic_hdr_scene(W, H, SceneKind::Sunset);
    Image8 sdr = tone_map_to_sdr(hdr);
    EncodeOptions eo;  // defaults: 1/4-size single-channel map, base q95 4:2:0, map q90
    // Floor inputs: the same two JPEG encodes libjpeg-turbo would do for this file.
    auto cg = compute_gain_map(sdr, hdr, eo.gain);
    if (!cg) return report(cg.error());
    if (o->heif) return bench_heif(sdr, *cg, std::min(o->iterations, 5), o->quality, o->json);
    JpegEncodeOptions base_opt{eo.base_quality, true}, map_opt{eo.map_quality, false};

    std::vector<uint8_t> file, base_jpeg, map_jpeg;
    auto [ours_enc, floor_enc] = paired_medians(
        o->iterations, [&] { file = *encode_jpegr(sdr, hdr, eo); },
        [&] {
          base_jpeg = *encode_jpeg(sdr, base_opt);
          map_jpeg = *encode_jpeg(cg->map, map_opt);
        });
    const double enc_rss = peak_rss_mb();
    hdr = ImageF();  // decode phase: free the encoder inputs
    auto [ours_dec, floor_dec] = paired_medians(
        o->iterations, [&] { auto d = decode_jpegr_hdr(file); },
        [&] {
          auto a = decode_jpeg(base_jpeg, {}, 3);
          auto b = decode_jpeg(map_jpeg, {}, 0);
        });
    const double total_rss = peak_rss_mb();

    nlohmann::json j = {
        {"width", W}, {"height", H}, {"megapixels", W * double(H) / 1e6},
        {"iterations", o->iterations}, {"threads", resolve_threads(0)},
        {"encode_ms", ours_enc}, {"encode_floor_ms", floor_enc}, {"encode_ratio", ours_enc / floor_enc},
        {"decode_ms", ours_dec}, {"decode_floor_ms", floor_dec}, {"decode_ratio", ours_dec / floor_dec},
        {"encode_peak_rss_mb", enc_rss}, {"peak_rss_mb", total_rss}, {"file_bytes", file.size()},
        {"gain_map", {{"width", cg->map.width()}, {"height", cg->map.height()}}}};
    if (o->json) {
      std::cout << json_text(j, 2) << "\n";
    } else {
      std::printf("%dx%d (%.1f MP), median of %d\n", W, H, W * double(H) / 1e6, o->iterations);
      std::printf("encode  JPEG_R %7.1f ms | libjpeg-turbo %7.1f ms | ratio %.2fx\n", ours_enc, floor_enc, ours_enc / floor_enc);
      std::printf("decode  HDR    %7.1f ms | libjpeg-turbo %7.1f ms | ratio %.2fx\n", ours_dec, floor_dec, ours_dec / floor_dec);
      std::printf("peak RSS after encode %.0f MB, overall %.0f MB; file %zu bytes\n", enc_rss, total_rss, file.size());
    }
    return kOk;
  };
}

}  // namespace regain::cli
