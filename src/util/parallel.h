// Splits [0, n) into contiguous bands processed on up to `threads` std::threads (0 = all
// cores). Bands are row ranges in practice; contiguous ranges keep each thread's memory
// traffic sequential.
#pragma once
#include <algorithm>
#include <thread>
#include <vector>

namespace regain {

inline int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

template <class F>
void parallel_for(int n, int threads, F&& fn) {
  int t = std::min(resolve_threads(threads), std::max(n, 1));
  if (t <= 1 || n < 16) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  for (int i = 1; i < t; ++i) {
    int b = int(int64_t(n) * i / t), e = int(int64_t(n) * (i + 1) / t);
    pool.emplace_back([&fn, b, e] { fn(b, e); });
  }
  fn(0, int(int64_t(n) / t));
  for (auto& th : pool) th.join();
}

}  // namespace regain
