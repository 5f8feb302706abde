// A fixed pool of pipeline workers with a bounded queue. A job is admitted only while
// running + waiting jobs stay under workers + queue capacity; otherwise the caller answers
// 503 at once, so waiting work (and the uploads it holds in memory) can never pile up.
#pragma once
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace regain::service {

class Task {
 public:
  virtual ~Task() = default;
  virtual void run() = 0;     // on a worker thread
  virtual void cancel() = 0;  // shutdown: a running task should stop at its next check
  virtual void drop() = 0;    // shutdown: a queued task will never run; wake its waiter
};

class JobPool {
 public:
  JobPool(int workers, int queue_capacity);
  ~JobPool();  // shutdown()
  JobPool(const JobPool&) = delete;
  JobPool& operator=(const JobPool&) = delete;

  // False when all workers are busy and the queue is full, or after shutdown.
  bool try_submit(std::shared_ptr<Task> task);
  // Whether try_submit would accept now (a hint: another request may take the slot).
  bool has_room() const;
  // Takes a task back out of the queue if it has not started (its deadline passed): its
  // slot is free at once instead of when a worker reaches it.
  void withdraw(const Task* task);
  // Queued tasks are dropped, running ones cancelled; returns when the workers have exited.
  void shutdown();

  int workers() const { return workers_; }
  int queue_capacity() const { return capacity_; }
  int running() const;
  int queued() const;

 private:
  void worker_loop(size_t slot);

  const int workers_;
  const int capacity_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Task>> queue_;
  std::vector<std::shared_ptr<Task>> active_;  // per worker: the running task or null
  int running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace regain::service
