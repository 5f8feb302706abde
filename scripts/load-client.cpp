// Tiny load client for scripts/load-test.sh: C keep-alive connections POST one image to
// /process until exactly N requests have been answered. wrk cannot stop after a fixed number
// of requests (its Lua thread:stop() still waits for the whole -d), hence this.
//   load-client HOST PORT IMAGE CONCURRENCY REQUESTS [BACKOFF]
// BACKOFF 1 (default): after a 503 a connection waits what Retry-After says (as the page and
// well-behaved clients do) before its next request; 0: it retries at once (a hammering client).
// Prints one line: requests, seconds, responses/s, ok/s, p50/p99/max latency (all and 200
// only), counts per status (0 = transport error).
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 6 && argc != 7) {
    std::fprintf(stderr, "usage: load-client HOST PORT IMAGE CONCURRENCY REQUESTS [BACKOFF]\n");
    return 64;
  }
  const bool backoff = argc < 7 || std::atoi(argv[6]) != 0;
  const std::string host = argv[1];
  const int port = std::atoi(argv[2]), conc = std::atoi(argv[4]), total = std::atoi(argv[5]);
  std::ifstream in(argv[3], std::ios::binary);
  const std::string img((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (img.empty() || conc < 1 || total < 1) return 64;
  const std::string boundary = "regainloadboundary7d3f";
  const std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"img\"; filename=\"x.jpg\"\r\n"
                           "Content-Type: image/jpeg\r\n\r\n" + img + "\r\n--" + boundary + "--\r\n";
  const std::string type = "multipart/form-data; boundary=" + boundary;

  struct Sample {
    int status;  // 0 = transport error
    double ms;
  };
  std::vector<Sample> samples;
  std::mutex m;
  std::atomic<int> next{0};
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < conc; ++c) {
    threads.emplace_back([&] {
      httplib::Client cli(host, port);
      cli.set_keep_alive(true);
      cli.set_read_timeout(60, 0);
      cli.set_write_timeout(60, 0);
      std::vector<Sample> mine;
      while (next.fetch_add(1) < total) {
        const auto s = Clock::now();
        auto r = cli.Post("/process", body, type);
        mine.push_back({r ? r->status : 0, std::chrono::duration<double, std::milli>(Clock::now() - s).count()});
        if (backoff && r && r->status == 503) {
          const int wait_s = std::clamp(std::atoi(r->get_header_value("Retry-After").c_str()), 1, 5);
          std::this_thread::sleep_for(std::chrono::seconds(wait_s));
        }
      }
      std::lock_guard lock(m);
      samples.insert(samples.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();

  auto pct = [](std::vector<double> v, double p) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p / 100.0 * double(v.size() - 1) + 0.5))];
  };
  std::vector<double> all, ok;
  std::map<int, int> counts;
  for (const auto& s : samples) {
    ++counts[s.status];
    all.push_back(s.ms);
    if (s.status == 200) ok.push_back(s.ms);
  }
  std::string st;
  for (auto& [k, v] : counts) st += (st.empty() ? "" : ",") + std::to_string(k) + "=" + std::to_string(v);
  std::printf("RESULT requests=%zu seconds=%.3f resp_per_s=%.1f ok_per_s=%.1f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f "
              "ok_p50_ms=%.1f ok_p99_ms=%.1f statuses=%s\n",
              samples.size(), secs, double(samples.size()) / secs, double(ok.size()) / secs, pct(all, 50), pct(all, 99), pct(all, 100), pct(ok, 50),
              pct(ok, 99), st.c_str());
  return 0;
}
