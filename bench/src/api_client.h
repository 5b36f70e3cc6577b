#pragma once
// The generator's client for the server API (POST /api/...): a few keep-alive HTTP/1.1
// connections on loopback, each with any number of requests pipelined, driven by an epoll of
// its own. Answers come back in request order per connection, each with the caller's tag.
// No timers: the caller bounds every wait by the timeouts it passes to poll().

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "herald/client/url.h"

namespace herald::bench {

// Receives the answers of an ApiClient, from inside ApiClient::poll.
class ApiHandler {
 public:
  virtual ~ApiHandler() = default;
  // One response: body is valid during the call only.
  virtual void on_api_response(uint64_t tag, int status, std::string_view body) = 0;
  // The request will never be answered: its connection failed (what says how).
  virtual void on_api_failure(uint64_t tag, std::string_view what) = 0;
};

// Owns its sockets and epoll descriptor. Thread: the one thread that calls its methods.
class ApiClient {
 public:
  ApiClient() = default;
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // Opens count connections to endpoint (blocking connect; loopback answers at once).
  // host_header is "host:port"; api_key, when not empty, is sent as X-API-Key.
  Result<Ok> open(const client::Endpoint& endpoint, int count, std::string host_header,
                  std::string api_key);

  int connections() const { return static_cast<int>(conns_.size()); }
  bool usable(int conn) const { return conns_[static_cast<size_t>(conn)].fd >= 0; }
  size_t in_flight(int conn) const { return conns_[static_cast<size_t>(conn)].tags.size(); }
  size_t total_in_flight() const;
  bool any_usable() const;

  // Queues POST path with a JSON body on connection conn; it is written by the next flush() or
  // poll(). False when the connection has failed.
  bool post(int conn, std::string_view path, std::string_view body, uint64_t tag);

  // Writes what was queued, waits up to timeout_ms for answers and hands them to handler.
  // Returns the number of responses delivered.
  int poll(int timeout_ms, ApiHandler& handler);
  void flush(ApiHandler& handler);

  // The first failure of any connection ("" when none).
  const std::string& first_error() const { return first_error_; }

 private:
  struct Conn {
    int fd = -1;
    std::string out;
    size_t out_pos = 0;
    std::string in;
    std::deque<uint64_t> tags;  // requests written or queued, oldest first
    bool want_write = false;
  };

  void fail(Conn& c, std::string_view what, ApiHandler& handler);
  void write_some(Conn& c, ApiHandler& handler);
  int read_some(Conn& c, ApiHandler& handler);
  void update_interest(size_t index);

  int epoll_fd_ = -1;
  std::vector<Conn> conns_;
  std::string read_buf_;      // one recv() at a time, appended to the connection's input
  std::string request_head_;  // "Host: ...\r\n" and the key, shared by every request
  std::string first_error_;
};

}  // namespace herald::bench
