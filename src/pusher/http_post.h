#pragma once
// HttpPost: one HTTP/1.1 POST to a webhook receiver, non-blocking on an event loop (the webhook
// thread's, webhooks.h): connect, write the request, read the answer's status line and head,
// close. One request per connection ("Connection: close"): webhooks are batched, so they are few,
// and a fresh connection has no stale keep-alive state to get wrong. Everything an attempt can
// hit (no such host, refused, reset, a receiver that never answers: the timeout) ends in the
// done callback with status 0 and a reason; it never throws and never blocks, except for the
// name lookup (getaddrinfo), which runs on the webhook thread where it delays only webhooks.
// Thread: owning loop only.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "herald/result.h"
#include "net/event_loop.h"
#include "net/timer_wheel.h"

namespace herald::pusher {

// An http:// URL split for a request. https is refused (no TLS client here yet).
struct HttpUrl {
  std::string host;    // name or address (IPv6 without brackets)
  uint16_t port = 80;
  std::string path;    // "/..." with the query, "/" when the URL has none
  std::string authority;  // the Host header: host[:port] as written
};
Result<HttpUrl> parse_http_url(std::string_view url);

class HttpPost final : public net::IoHandler, private net::Timer {
 public:
  // status: the answer's status code, or 0 when no answer came (why says what happened).
  using Done = std::function<void(int status, const std::string& why)>;

  explicit HttpPost(net::EventLoop& loop) : loop_(loop) {}
  ~HttpPost() override;
  HttpPost(const HttpPost&) = delete;
  HttpPost& operator=(const HttpPost&) = delete;

  // Starts one request (the bytes are the whole request: head and body). done runs once, later,
  // on the loop (never inside this call). Only when not busy().
  void start(const HttpUrl& url, std::string request, uint32_t timeout_ms, Done done);
  bool busy() const { return static_cast<bool>(done_); }
  // Drops the request in progress without calling done.
  void cancel();

  void on_io(uint32_t events) override;

 private:
  void on_timer() override;
  void finish(int status, const std::string& why);
  void write_some();
  void read_some();
  void close_socket();

  net::EventLoop& loop_;
  int fd_ = -1;
  bool connecting_ = false;
  std::string out_;
  size_t sent_ = 0;
  std::string in_;  // the answer so far (its head; at most kMaxHead bytes are kept)
  Done done_;
  uint64_t generation_ = 0;  // tells a deferred failure of an old request from the current one
};

}  // namespace herald::pusher
