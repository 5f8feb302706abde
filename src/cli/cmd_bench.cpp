// `regain bench [--json]`: 12-MP JPEG_R encode and decode-to-linear-HDR, each as a ratio
// against libjpeg-turbo alone doing the same JPEG encodes/decodes in the same run.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "regain/pipeline.h"
#include "regain/synthetic.h"
#include "util/parallel.h"

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

}  // namespace

Runner add_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Measure JPEG_R encode/decode against libjpeg-turbo alone");
  struct Opts {
    bool json = false;
    int iterations = 15, width = 4000, height = 3000;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->add_option("--iterations", o->iterations, "Timed runs per case (median reported)")->check(CLI::Range(1, 100));
  cmd->add_option("--width", o->width, "Image width")->check(CLI::Range(64, 16000));
  cmd->add_option("--height", o->height, "Image height")->check(CLI::Range(64, 16000));
  return [=]() -> int {
    const int W = o->width, H = o->height;
    ImageF hdr = synthetic_hdr_scene(W, H, SceneKind::Sunset);
    Image8 sdr = tone_map_to_sdr(hdr);
    EncodeOptions eo;  // defaults: 1/4-size single-channel map, base q95 4:2:0, map q90
    // Floor inputs: the same two JPEG encodes libjpeg-turbo would do for this file.
    auto cg = compute_gain_map(sdr, hdr, eo.gain);
    if (!cg) return report(cg.error());
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
      std::cout << j.dump(2) << "\n";
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
