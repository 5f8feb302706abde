#include "service/process_job.h"

#include <exception>
#include <new>

namespace regain::service {

void Counters::record_duration(double seconds) {
  // Exponential smoothing; concurrent updates may lose one sample, which is harmless here.
  const double old_us = double(recent_job_us.load(std::memory_order_relaxed));
  const double now_us = seconds * 1e6;
  recent_job_us.store(uint64_t(old_us == 0 ? now_us : 0.8 * old_us + 0.2 * now_us), std::memory_order_relaxed);
}

ProcessJob::ProcessJob(std::vector<uint8_t> edited, std::optional<std::vector<uint8_t>> reference,
                       ProcessOptions options, Counters& counters)
    : edited_(std::move(edited)), reference_(std::move(reference)), options_(std::move(options)),
      counters_(counters) {
  options_.cancel = &cancel_;
}

void ProcessJob::release_inputs() {
  std::vector<uint8_t>().swap(edited_);
  reference_.reset();
}

void ProcessJob::run() {
  {
    std::lock_guard lock(m_);
    if (state_ != State::Queued) {  // abandoned while it waited (counted there): never starts
      release_inputs();
      return;
    }
    state_ = State::Running;
  }
  // From here until the state changes again only this thread touches the inputs.
  const auto t0 = Clock::now();
  Result<ProcessResult> r = fail(ErrorCode::Internal, "not run");
  try {
    std::optional<std::span<const uint8_t>> ref;
    if (reference_) ref = std::span<const uint8_t>(*reference_);
    r = process_image(edited_, ref, options_);
  } catch (const std::bad_alloc&) {
    r = fail(ErrorCode::TooLarge, "not enough memory to process this image");
  } catch (const std::exception& e) {
    r = fail(ErrorCode::Internal, e.what());
  }
  counters_.record_duration(std::chrono::duration<double>(Clock::now() - t0).count());
  std::optional<Result<ProcessResult>> discarded;  // freed outside the lock
  {
    std::lock_guard lock(m_);
    release_inputs();  // uploads leave memory right after processing
    if (state_ == State::Abandoned || cancel_.load()) {
      counters_.jobs_cancelled.fetch_add(1, std::memory_order_relaxed);
      if (state_ == State::Abandoned) {
        discarded = std::move(r);
        return;
      }
    } else {
      counters_.jobs_done.fetch_add(1, std::memory_order_relaxed);
    }
    result_ = std::move(r);
    state_ = State::Done;
  }
  cv_.notify_all();
}

void ProcessJob::cancel() { cancel_.store(true); }

void ProcessJob::drop() {
  {
    std::lock_guard lock(m_);
    if (state_ != State::Queued) return;
    state_ = State::Dropped;
    release_inputs();
  }
  cv_.notify_all();
}

ProcessJob::Outcome ProcessJob::wait_until(Clock::time_point deadline) {
  std::unique_lock lock(m_);
  cv_.wait_until(lock, deadline, [&] { return state_ == State::Done || state_ == State::Dropped; });
  if (state_ == State::Done) return Outcome::Done;
  if (state_ == State::Dropped) return Outcome::Dropped;
  // Deadline passed: the work is really abandoned. A queued job never starts; a running one
  // stops at process_image's next check and frees its buffers there.
  const bool never_started = state_ == State::Queued;
  state_ = State::Abandoned;
  cancel_.store(true);
  if (never_started) {
    release_inputs();
    counters_.jobs_cancelled.fetch_add(1, std::memory_order_relaxed);
  }
  return Outcome::TimedOut;
}

Result<ProcessResult> ProcessJob::take_result() {
  std::lock_guard lock(m_);
  if (!result_) return fail(ErrorCode::Internal, "job has no result");
  Result<ProcessResult> r = std::move(*result_);
  result_.reset();
  return r;
}

}  // namespace regain::service
