#include "service/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "service/http_errors.h"

namespace regain::service {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

thread_local bool t_shedding = false;        // set by the queue around a shed connection
thread_local bool t_close_after = false;     // set by a handler

// poll() for one event, restarting on EINTR with the time that is left.
bool wait_for(int fd, short events, milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  for (;;) {
    pollfd p{fd, events, 0};
    const auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now()).count();
    const int r = ::poll(&p, 1, int(std::max<long long>(0, left)));
    if (r > 0) return (p.revents & (events | POLLHUP | POLLERR)) != 0;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

// A buffered socket stream for httplib's request parser (which reads the request line and
// headers one byte at a time, so reads go through a small buffer). One per connection, so
// bytes read ahead belong to the next request and are not lost.
class SocketStream final : public httplib::Stream {
 public:
  SocketStream(int fd, milliseconds read_timeout, milliseconds write_timeout)
      : fd_(fd), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

  bool is_readable() const override { return begin_ < end_ || wait_for(fd_, POLLIN, read_timeout_); }
  bool is_writable() const override { return wait_for(fd_, POLLOUT, write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (begin_ < end_) {
      const size_t n = std::min(size, end_ - begin_);
      std::memcpy(ptr, buf_ + begin_, n);
      begin_ += n;
      return ssize_t(n);
    }
    if (!wait_for(fd_, POLLIN, read_timeout_)) return -1;
    if (size >= sizeof buf_) return recv_some(ptr, size);  // large body reads skip the copy
    const ssize_t got = recv_some(buf_, sizeof buf_);
    if (got <= 0) return got;
    begin_ = 0;
    end_ = size_t(got);
    return read(ptr, size);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!wait_for(fd_, POLLOUT, write_timeout_)) return -1;
    for (;;) {
      const ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address(true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address(false, ip, port); }
  socket_t socket() const override { return fd_; }

  // Between requests: true once the next request starts arriving (or the peer closed),
  // false after `idle` or when the server stops listening.
  bool wait_for_request(milliseconds idle, const std::atomic<socket_t>& listening) const {
    if (begin_ < end_) return true;
    const auto end = Clock::now() + idle;
    while (listening != INVALID_SOCKET) {
      const auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now());
      if (left.count() <= 0) return false;
      if (wait_for(fd_, POLLIN, std::min(left, milliseconds(100)))) return true;
    }
    return false;
  }

 private:
  ssize_t recv_some(char* p, size_t n) {
    for (;;) {
      const ssize_t r = ::recv(fd_, p, n, 0);
      if (r < 0 && errno == EINTR) continue;
      return r;
    }
  }
  void address(bool remote, std::string& ip, int& port) const {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int r = remote ? ::getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len)
                         : ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    if (r != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
      port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
      port = ntohs(a->sin6_port);
    }
    ip = text;
  }

  int fd_;
  milliseconds read_timeout_, write_timeout_;
  char buf_[4096];
  size_t begin_ = 0, end_ = 0;
};

// Discards what the peer already sent, without waiting longer than `max_wait`: a close()
// with unread bytes makes the kernel send RST, which can destroy the response in flight.
void drain(int fd, milliseconds max_wait) {
  const auto end = Clock::now() + max_wait;
  char junk[16384];
  size_t total = 0;
  for (;;) {
    const ssize_t n = ::recv(fd, junk, sizeof junk, MSG_DONTWAIT);
    if (n > 0) {
      if ((total += size_t(n)) > (1u << 20)) return;
      continue;
    }
    if (n == 0) return;  // peer closed
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return;
    const auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now());
    if (left.count() <= 0 || !wait_for(fd, POLLIN, left)) return;
  }
}

void close_gracefully(int fd, milliseconds linger) {
  ::shutdown(fd, SHUT_WR);  // our FIN follows the response
  drain(fd, linger);
  ::close(fd);
}

// Connection threads with a bounded wait list; see the header.
class ConnectionQueue final : public httplib::TaskQueue {
 public:
  ConnectionQueue(int threads, int pending) : max_pending_(size_t(std::max(0, pending))) {
    for (int i = 0; i < std::max(1, threads); ++i)
      threads_.emplace_back([this] { loop(); });
  }
  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard lock(m_);
      // Connections being served + waiting stay under threads + max_pending.
      if (queue_.size() + busy_ < threads_.size() + max_pending_ || stopping_) {
        queue_.push_back(std::move(fn));
        cv_.notify_one();
        return;
      }
    }
    // Over the limit: run the connection on this (accepting) thread in shed mode, which
    // only writes the fixed 503 and closes (process_and_close_socket below).
    t_shedding = true;
    fn();
    t_shedding = false;
  }
  void shutdown() override {
    {
      std::lock_guard lock(m_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and nothing left: every socket was closed
        fn = std::move(queue_.front());
        queue_.pop_front();
        ++busy_;
      }
      fn();
      std::lock_guard lock(m_);
      --busy_;
    }
  }
  const size_t max_pending_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  size_t busy_ = 0;  // threads serving a connection
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

HttpServer::HttpServer(int threads, int pending, int keep_alive_s) {
  new_task_queue = [threads, pending] { return new ConnectionQueue(threads, pending); };
  set_keep_alive_timeout(std::max(1, keep_alive_s));
  set_keep_alive_max_count(100);
  set_tcp_nodelay(true);  // headers and body are separate writes: no Nagle delay between them
  // SO_REUSEADDR only (httplib's default adds SO_REUSEPORT, which would let a second server
  // silently share the port).
  set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
}

void HttpServer::close_after_response() { t_close_after = true; }

void HttpServer::widen_backlog(int backlog) {
  const socket_t s = svr_sock_;
  if (s != INVALID_SOCKET) ::listen(s, backlog);
}

void HttpServer::shed(socket_t sock) {
  shed_.fetch_add(1);
  const std::string body = error_json("busy", "the server has too many connections; retry shortly");
  const std::string response = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                               "Retry-After: 1\r\nConnection: close\r\nCache-Control: no-store\r\n"
                               "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  drain(sock, milliseconds(0));
  (void)::send(sock, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(sock, SHUT_WR);
  drain(sock, milliseconds(0));  // never wait here: this is the accepting thread
  ::close(sock);
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  if (t_shedding) {
    shed(sock);
    return true;
  }
  if (svr_sock_ == INVALID_SOCKET) {  // stopping: connections still waiting are just closed
    ::close(sock);
    return false;
  }
  const milliseconds read_to(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000);
  const milliseconds write_to(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000);
  SocketStream strm(sock, read_to, write_to);
  size_t left = keep_alive_max_count_;
  bool ret = false;
  while (left > 0 && strm.wait_for_request(milliseconds(keep_alive_timeout_sec_ * 1000), svr_sock_)) {
    t_close_after = false;
    bool closed = false;
    ret = process_request(strm, left == 1 || svr_sock_ == INVALID_SOCKET, closed, nullptr);
    if (!ret || closed || t_close_after) break;
    --left;
  }
  t_close_after = false;
  close_gracefully(sock, milliseconds(200));
  return ret;
}

}  // namespace regain::service
