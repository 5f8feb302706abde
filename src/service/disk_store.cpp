#include "service/disk_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace regain::service {

namespace fs = std::filesystem;

namespace {

// Plain write into the private directory: no fsync, because results are throw-away copies
// that live minutes and the id is published only after every file is complete (so nobody
// sees a partial file). O_EXCL|O_NOFOLLOW: never write through a planted name.
Result<void> write_new_file(const fs::path& path, std::span<const uint8_t> data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return fail(ErrorCode::Io, "cannot create " + path.string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return fail(ErrorCode::Io, "cannot write " + path.string() + ": " + std::strerror(err));
    }
    done += size_t(n);
  }
  if (::close(fd) != 0) return fail(ErrorCode::Io, "cannot write " + path.string());
  return {};
}

}  // namespace

Result<std::unique_ptr<DiskStore>> DiskStore::create(const fs::path& parent, std::chrono::milliseconds ttl,
                                                         uint64_t max_bytes) {
  std::error_code ec;
  fs::path base = parent.empty() ? fs::temp_directory_path(ec) : parent;
  if (ec) base = "/tmp";
  std::string tmpl = (base / "regain-serve-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))  // mkdtemp makes it 0700
    return fail(ErrorCode::Io, "cannot create a private directory in " + base.string() + ": " + std::strerror(errno));
  return std::unique_ptr<DiskStore>(new DiskStore(fs::path(tmpl), ttl, max_bytes));
}

DiskStore::DiskStore(fs::path dir, std::chrono::milliseconds ttl, uint64_t max_bytes)
    : dir_(std::move(dir)), ttl_(ttl), max_bytes_(max_bytes) {
  reaper_ = std::thread([this] { reaper_loop(); });
}

DiskStore::~DiskStore() { shutdown(); }

Result<std::string> DiskStore::put(std::span<const File> files) {
  std::string id;
  fs::path sub;
  for (int attempt = 0;; ++attempt) {  // a collision of 128 random bits will not happen; still checked
    id = random_id();
    sub = dir_ / id;
    if (::mkdir(sub.c_str(), 0700) == 0) break;
    if (errno != EEXIST || attempt > 3)
      return fail(ErrorCode::Io, "cannot create " + sub.string() + ": " + std::strerror(errno));
  }
  std::vector<std::string> names;
  uint64_t size = 0;
  for (const auto& f : files) {
    size += f.data.size();
    if (auto w = write_new_file(sub / f.name, f.data); !w) {
      std::error_code ec;
      fs::remove_all(sub, ec);
      return tl::unexpected(w.error());
    }
    names.push_back(f.name);
  }
  std::vector<std::string> evict;
  {
    std::lock_guard lock(m_);
    if (stopping_) {
      std::error_code ec;
      fs::remove_all(sub, ec);
      return fail(ErrorCode::Io, "the server is stopping");
    }
    // Over the disk budget: the oldest sets go (the new one always stays).
    while (bytes_ + size > max_bytes_ && !entries_.empty()) {
      auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
        return a.second.expires < b.second.expires;
      });
      bytes_ -= oldest->second.bytes;
      evict.push_back(oldest->first);
      entries_.erase(oldest);
      ++evicted_;
    }
    entries_[id] = Entry{Clock::now() + ttl_, std::move(names), size};
    bytes_ += size;
  }
  for (const auto& old : evict) {
    std::error_code ec;
    fs::remove_all(dir_ / old, ec);
  }
  cv_.notify_all();  // the reaper may need to wake earlier than planned
  return id;
}

namespace {
// A stored file as an open descriptor: streamed with pread, so memory stays flat however
// large the file; the reaper may delete the name meanwhile without harm.
class OpenFile final : public StoredFile {
 public:
  OpenFile(int fd, size_t size) : fd_(fd), size_(size) {}
  ~OpenFile() override { ::close(fd_); }
  size_t size() const override { return size_; }
  ssize_t read(size_t offset, size_t n, char* out) const override { return ::pread(fd_, out, n, off_t(offset)); }

 private:
  int fd_;
  size_t size_;
};
}  // namespace

Result<std::shared_ptr<const StoredFile>> DiskStore::open(std::string_view id, std::string_view name) const {
  auto none = [] { return fail(ErrorCode::NotFound, "no such result"); };
  if (!is_valid_id(id)) return none();
  int fd = -1;
  {
    std::lock_guard lock(m_);
    auto it = entries_.find(id);
    if (it == entries_.end() || Clock::now() >= it->second.expires) return none();
    const auto& names = it->second.names;
    auto n = std::find(names.begin(), names.end(), name);
    if (n == names.end()) return none();
    // Opened under the lock so the reaper cannot delete between the check and the open.
    fd = ::open((dir_ / it->first / *n).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  }
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    if (fd >= 0) ::close(fd);
    return fail(ErrorCode::Io, "cannot read the stored result");
  }
  return std::shared_ptr<const StoredFile>(std::make_shared<OpenFile>(fd, size_t(st.st_size)));
}

StoreStatus DiskStore::status() const {
  std::lock_guard lock(m_);
  StoreStatus s;
  s.kind = "disk";
  s.location = dir_.string();
  s.reachable = !stopping_;
  s.results = entries_.size();
  s.bytes = bytes_;
  s.evicted = evicted_;
  return s;
}

void DiskStore::reaper_loop() {
  std::unique_lock lock(m_);
  while (!stopping_) {
    const auto now = Clock::now();
    std::vector<std::string> expired;
    Clock::time_point next = now + std::chrono::hours(1);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.expires <= now) {
        expired.push_back(it->first);
        bytes_ -= it->second.bytes;
        it = entries_.erase(it);
      } else {
        next = std::min(next, it->second.expires);
        ++it;
      }
    }
    if (!expired.empty()) {
      lock.unlock();
      for (const auto& id : expired) {
        std::error_code ec;
        fs::remove_all(dir_ / id, ec);
      }
      lock.lock();
      continue;  // entries may have been added meanwhile
    }
    cv_.wait_until(lock, next);
  }
}

void DiskStore::shutdown() {
  {
    std::lock_guard lock(m_);
    if (stopping_) return;
    stopping_ = true;
    entries_.clear();
    bytes_ = 0;
  }
  cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

}  // namespace regain::service
