#include "service/job_pool.h"

#include <algorithm>

namespace regain::service {

JobPool::JobPool(int workers, int queue_capacity)
    : workers_(std::max(1, workers)), capacity_(std::max(0, queue_capacity)) {
  active_.resize(size_t(workers_));
  threads_.reserve(size_t(workers_));
  for (int i = 0; i < workers_; ++i) threads_.emplace_back([this, i] { worker_loop(size_t(i)); });
}

JobPool::~JobPool() { shutdown(); }

void JobPool::Reservation::release() {
  if (!pool_) return;
  std::lock_guard lock(pool_->m_);
  --pool_->reserved_;
  pool_ = nullptr;
}

JobPool::Reservation JobPool::reserve() {
  std::lock_guard lock(m_);
  if (stopping_ || running_ + int(queue_.size()) + reserved_ >= workers_ + capacity_) return Reservation();
  ++reserved_;
  return Reservation(this);
}

bool JobPool::submit(Reservation& place, std::shared_ptr<Task> task) {
  if (place.pool_ != this) return false;
  {
    std::lock_guard lock(m_);
    --reserved_;  // the place passes from the reservation to the queued task
    place.pool_ = nullptr;
    if (stopping_) return false;
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

bool JobPool::try_submit(std::shared_ptr<Task> task) {
  Reservation r = reserve();
  return r && submit(r, std::move(task));
}

void JobPool::withdraw(const Task* task) {
  std::shared_ptr<Task> taken;  // destroyed outside the lock
  std::lock_guard lock(m_);
  auto it = std::find_if(queue_.begin(), queue_.end(), [&](const auto& t) { return t.get() == task; });
  if (it != queue_.end()) {
    taken = std::move(*it);
    queue_.erase(it);
  }
}

int JobPool::running() const {
  std::lock_guard lock(m_);
  return running_;
}

int JobPool::queued() const {
  std::lock_guard lock(m_);
  return int(queue_.size());
}

int JobPool::reserved() const {
  std::lock_guard lock(m_);
  return reserved_;
}

void JobPool::worker_loop(size_t slot) {
  for (;;) {
    std::shared_ptr<Task> task;
    {
      std::unique_lock lock(m_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      active_[slot] = task;
      ++running_;
    }
    task->run();  // never throws: ProcessJob turns exceptions into errors
    {
      std::lock_guard lock(m_);
      active_[slot].reset();
      --running_;
    }
    task.reset();  // the job's buffers go now, not when the next one arrives
  }
}

void JobPool::shutdown() {
  std::deque<std::shared_ptr<Task>> dropped;
  {
    std::lock_guard lock(m_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    dropped.swap(queue_);
    for (auto& t : active_)
      if (t) t->cancel();
  }
  cv_.notify_all();
  for (auto& t : dropped) t->drop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace regain::service
