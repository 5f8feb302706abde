// httplib::Server with bounded connection handling.
//
// httplib's default pool queues accepted connections without limit. Here at most `threads`
// connections are served at once and at most `pending` accepted ones wait for a thread; past
// that the accepting thread itself writes a fixed 503 (no parsing, no thread) and closes, so
// a flood of connections costs nothing per extra connection and memory stays bounded.
//
// The per-connection loop is ours as well (httplib lets a subclass replace it): it lets a
// handler that left part of a request body unread close the connection after its response
// instead of parsing the leftover bytes as the next request, and it closes gracefully so
// the client reads the response before the socket goes away.
#pragma once
#include <httplib.h>

#include <atomic>
#include <cstdint>

namespace regain::service {

class HttpServer : public httplib::Server {
 public:
  HttpServer(int threads, int pending, int keep_alive_s);

  // From a handler, on its connection thread: close this connection after the response.
  static void close_after_response();
  // Raises the listen backlog (httplib's is 5) once bound.
  void widen_backlog(int backlog);

  uint64_t connections_shed() const { return shed_.load(); }

 private:
  bool process_and_close_socket(socket_t sock) override;
  void shed(socket_t sock);

  std::atomic<uint64_t> shed_{0};
};

}  // namespace regain::service
