// Splits [0, n) into contiguous bands processed on up to `threads` std::threads (0 = all
// cores). Bands are row ranges in practice; contiguous ranges keep each thread's memory
// traffic sequential. An exception in any band (e.g. bad_alloc) is rethrown in the caller
// after every thread has joined, never std::terminate.
#pragma once
#include <algorithm>
#include <exception>
#include <future>
#include <system_error>
#include <mutex>
#include <thread>
#include <vector>

namespace regain {

inline int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

// Runs fn, storing the first exception thrown into `error` (shared between threads).
class ErrorSlot {
 public:
  template <class F>
  void run(F&& fn) noexcept {
    try {
      fn();
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
  void rethrow() {
    if (error_) std::rethrow_exception(error_);
  }
  bool failed() {
    std::lock_guard lock(mutex_);
    return error_ != nullptr;
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
};

template <class F>
void parallel_for(int n, int threads, F&& fn) {
  int t = std::min(resolve_threads(threads), std::max(n, 1));
  if (t <= 1 || n < 16) {
    fn(0, n);
    return;
  }
  ErrorSlot errors;
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  try {
    for (int i = 1; i < t; ++i) {
      int b = int(int64_t(n) * i / t), e = int(int64_t(n) * (i + 1) / t);
      pool.emplace_back([&fn, &errors, b, e] { errors.run([&] { fn(b, e); }); });
    }
  } catch (...) {
    errors.run([] { throw; });
  }
  errors.run([&] { fn(0, int(int64_t(n) / t)); });
  for (auto& th : pool) th.join();
  errors.rethrow();
}

// `fn` on a thread of its own when `on_a_thread` (and the system grants one); otherwise, or
// when no thread can be had, it runs on the caller's thread at get(). Either way get() gives
// its result, so callers need no second code path.
template <class F>
auto start_job(F fn, bool on_a_thread = true) {
  if (on_a_thread) {
    try {
      return std::async(std::launch::async, fn);
    } catch (const std::system_error&) {
    }
  }
  return std::async(std::launch::deferred, std::move(fn));
}

}  // namespace regain
