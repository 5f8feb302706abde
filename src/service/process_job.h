// One POST /process request's pipeline work, shared between the connection thread that waits
// for it (with a deadline) and the worker that runs it. The state machine under one mutex
// settles every race between "finished" and "deadline passed": whoever comes second sees
// the other's state. An abandoned job is cancelled (process_image stops at its next stage
// boundary) and its buffers are freed as soon as nobody reads them.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "regain/process.h"
#include "service/job_pool.h"

namespace regain::service {

// Shared counters (ServiceStats); also the recent job duration for Retry-After.
struct Counters {
  std::atomic<uint64_t> jobs_done{0}, jobs_cancelled{0}, rejected_busy{0}, timeouts{0};
  std::atomic<uint64_t> recent_job_us{0};  // smoothed duration of finished jobs
  void record_duration(double seconds);
};

class ProcessJob final : public Task {
 public:
  using Clock = std::chrono::steady_clock;
  ProcessJob(std::vector<uint8_t> edited, std::optional<std::vector<uint8_t>> reference,
             ProcessOptions options, Counters& counters);

  void run() override;
  void cancel() override;
  void drop() override;

  enum class Outcome { Done, TimedOut, Dropped };
  // Waits for the result until `deadline`. On expiry the job is abandoned and cancelled.
  Outcome wait_until(Clock::time_point deadline);
  // After Outcome::Done: the pipeline's result (moved out).
  Result<ProcessResult> take_result();

 private:
  enum class State { Queued, Running, Done, Abandoned, Dropped };
  void release_inputs();  // with m_ held or from the only thread touching the inputs

  std::vector<uint8_t> edited_;
  std::optional<std::vector<uint8_t>> reference_;
  ProcessOptions options_;
  Counters& counters_;
  std::atomic<bool> cancel_{false};

  std::mutex m_;
  std::condition_variable cv_;
  State state_ = State::Queued;
  std::optional<Result<ProcessResult>> result_;
};

}  // namespace regain::service
