// A fixed pool of pipeline workers with a bounded queue. A request first reserves a place
// (before its upload is read), then submits its job into that place. Places = workers +
// queue capacity, counting running, queued and reserved ones; without a free place the caller
// answers 503 at once, so waiting work and the uploads it holds in memory can never pile up.
#pragma once
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
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

  // Holds one place until it is used by submit() or destroyed.
  class Reservation {
   public:
    Reservation() = default;
    explicit Reservation(JobPool* pool) : pool_(pool) {}
    Reservation(Reservation&& o) noexcept : pool_(std::exchange(o.pool_, nullptr)) {}
    Reservation& operator=(Reservation&& o) noexcept {
      if (this != &o) {
        release();
        pool_ = std::exchange(o.pool_, nullptr);
      }
      return *this;
    }
    ~Reservation() { release(); }
    explicit operator bool() const { return pool_ != nullptr; }

   private:
    friend class JobPool;
    void release();
    JobPool* pool_ = nullptr;
  };

  // An empty reservation when all places are taken (workers busy, queue full) or after shutdown.
  Reservation reserve();
  // Queues the task in the reserved place. False only after shutdown.
  bool submit(Reservation& place, std::shared_ptr<Task> task);
  // reserve() + submit().
  bool try_submit(std::shared_ptr<Task> task);
  // Takes a task back out of the queue if it has not started (its deadline passed): its
  // slot is free at once instead of when a worker reaches it.
  void withdraw(const Task* task);
  // Queued tasks are dropped, running ones cancelled; returns when the workers have exited.
  void shutdown();

  int workers() const { return workers_; }
  int queue_capacity() const { return capacity_; }
  int running() const;
  int queued() const;
  int reserved() const;

 private:
  void worker_loop(size_t slot);

  const int workers_;
  const int capacity_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Task>> queue_;
  std::vector<std::shared_ptr<Task>> active_;  // per worker: the running task or null
  int running_ = 0;
  int reserved_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace regain::service
