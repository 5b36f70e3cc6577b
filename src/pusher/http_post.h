#pragma once
// HttpPost: one HTTP/1.1 POST to a webhook receiver, non-blocking on an event loop (the webhook
// thread's, webhooks.h): connect (and for https://, the TLS handshake, the receiver's certificate
// verified against the configured CA and the URL's host), write the request, read the answer's
// status line and head, close. The bytes travel through a net::ClientSocket. One request per
// connection ("Connection: close"): webhooks are batched, so they are few, and a fresh connection
// has no stale keep-alive state to get wrong. Everything an attempt can hit (no such host,
// refused, a certificate refused, reset, a receiver that never answers: the timeout) ends in the
// done callback with status 0 and a reason; it never throws and never blocks, except for the
// name lookup (getaddrinfo), which runs on the webhook thread where it delays only webhooks.
// Thread: owning loop only.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "herald/result.h"
#include "net/client_socket.h"
#include "net/event_loop.h"
#include "net/timer_wheel.h"
#include "net/tls_context.h"

namespace herald::pusher {

// An http:// or https:// URL split for a request.
struct HttpUrl {
  bool tls = false;       // https://
  std::string host;       // name or address (IPv6 without brackets)
  uint16_t port = 80;     // 443 for https:// without a port
  std::string path;       // "/..." with the query, "/" when the URL has none
  std::string authority;  // the Host header: host[:port] as written
  // scheme://authority, for log lines (the path and query may hold a receiver's secret).
  std::string origin() const { return (tls ? "https://" : "http://") + authority; }
};
Result<HttpUrl> parse_http_url(std::string_view url);

class HttpPost final : private net::ClientSocket::Listener, private net::Timer {
 public:
  // status: the answer's status code, or 0 when no answer came (why says what happened).
  using Done = std::function<void(int status, const std::string& why)>;

  // tls: the client context for https:// URLs (null: an https request fails at once).
  HttpPost(net::EventLoop& loop, std::shared_ptr<const net::TlsContext> tls)
      : loop_(loop), tls_(std::move(tls)), socket_(loop, *this) {}
  ~HttpPost() override;
  HttpPost(const HttpPost&) = delete;
  HttpPost& operator=(const HttpPost&) = delete;

  // Starts one request (the bytes are the whole request: head and body). done runs once, later,
  // on the loop (never inside this call). Only when not busy().
  void start(const HttpUrl& url, std::string request, uint32_t timeout_ms, Done done);
  bool busy() const { return static_cast<bool>(done_); }
  // Drops the request in progress without calling done.
  void cancel();
  // Replaces the client context of https:// requests (for the next start()).
  void set_tls(std::shared_ptr<const net::TlsContext> tls) { tls_ = std::move(tls); }

 private:
  // net::ClientSocket::Listener
  void on_open(net::ClientSocket& /*socket*/) override {}
  void on_data(net::ClientSocket& socket, const uint8_t* data, size_t size) override;
  void on_closed(net::ClientSocket& socket, net::ClientSocket::End end,
                 const std::string& why) override;
  void on_timer() override;
  // The answer's head is complete (or the peer closed): its status, or a failure.
  void answer_read(bool peer_closed);
  void finish(int status, const std::string& why);

  net::EventLoop& loop_;
  std::shared_ptr<const net::TlsContext> tls_;
  net::ClientSocket socket_;
  std::string in_;  // the answer so far (its head; at most kMaxHead bytes are kept)
  Done done_;
  uint64_t generation_ = 0;  // tells a deferred failure of an old request from the current one
};

}  // namespace herald::pusher
