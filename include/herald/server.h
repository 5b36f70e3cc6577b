#pragma once
// The embeddable API, part 2: the server. An application registers handlers for paths, then
// runs the server; Herald owns the event loops (one per core) and the connections.
//
//   herald::Server server(options);
//   server.websocket("/chat", [] { return std::make_unique<ChatRoom>(); });
//   if (auto r = server.start(); !r) { ... r.error() ... }
//   server.run();   // until stop() (e.g. from a signal handler thread)

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "herald/namespace_options.h"
#include "herald/result.h"
#include "herald/websocket.h"

namespace herald {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // loopback by default: exposing is a decision
  int threads = 0;                        // event loops; 0 = one per core
  size_t max_message_size = 16 << 20;     // close 1009 above this (after decompression)
  size_t max_output_bytes = 64 << 20;     // per connection; a slower reader is disconnected
  uint32_t head_timeout_ms = 10'000;      // a request head must arrive within this (slowloris)
  uint32_t idle_timeout_ms = 120'000;     // HTTP keep-alive connections idle this long are closed
  uint32_t ping_interval_ms = 25'000;     // a WebSocket silent this long is pinged...
  uint32_t pong_timeout_ms = 20'000;      // ...and dropped if still silent after this
  uint32_t close_timeout_ms = 5'000;      // wait for the peer's close frame after ours
  uint32_t drain_timeout_ms = 5'000;      // stop(): how long clients get to finish closing
  uint32_t poll_timeout_ms = 25'000;      // a long-poll is held this long, then answered empty
  uint32_t session_timeout_ms = 30'000;   // a long-poll session nobody polls is collected after
  size_t max_connections = 100'000;       // per server; more are refused with 503
  bool permessage_deflate = true;         // negotiate RFC 7692 when a client offers it
  size_t deflate_min_size = 64;           // smaller messages are sent uncompressed

  // Channels of the Herald protocol (docs/PROTOCOL.md).
  // The protocol over raw TCP, one JSON object per line, on this HOST:PORT ("" = off). Needs a
  // protocol() route (whose handler serves it too). Same limits and keepalive as WebSocket.
  std::string tcp_listen;
  std::string data_dir;                   // durable history here (SQLite); "" = in memory only
  size_t max_subscriptions = 128;         // per connection; more get error 110
  NamespaceOptions default_namespace;     // channels without a "ns:" prefix
  // Named namespaces. Empty: every namespace gets default_namespace's options (the embedded
  // default serves any channel). Not empty: a channel of a namespace not listed gets error 118.
  std::map<std::string, NamespaceOptions, std::less<>> namespaces;

  // Server API (POST /api/<method>) for backends. With no key, only loopback peers may call it.
  std::string api_key;

  // Connection tokens (JWT, HS256, signed by the backend with this secret): a connect with a
  // token gets the token's user id. Empty: no token is accepted (a connect with one is refused).
  std::string token_hmac_secret;
  bool allow_anonymous = true;  // a connect without a token is an anonymous client ("" user)
};

class Server {
 public:
  using HandlerFactory = std::function<std::unique_ptr<Handler>()>;

  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves WebSocket connections on path; factory is called once per event loop. Before start().
  void websocket(std::string path, HandlerFactory factory);
  // Serves the Herald protocol (channels, history, presence: docs/PROTOCOL.md) on path.
  void protocol(std::string path = "/connection/websocket");
  // Serves the web pages embedded in the binary: a chat room at `/` (it speaks the protocol at
  // /connection/websocket, so mount protocol() too), a live dashboard at `/dashboard`, their
  // assets, and the JavaScript SDK under `/sdk/`. A WebSocket upgrade on `/` then joins the
  // `/chat` route, if there is one, so the tutorials' `new WebSocket('ws://host:port')` reaches
  // the classic chat room. Before start(). (/stats.json, the dashboard's figures, is always on,
  // like /metrics.)
  void web_pages();

  // Binds the listeners (one per loop, SO_REUSEPORT) and starts the loop threads.
  Result<Ok> start();
  // The port actually bound (useful with port 0).
  uint16_t port() const;
  // The raw TCP port actually bound (0 when tcp_listen is off).
  uint16_t tcp_port() const;
  // Blocks until stop() has drained the connections and every loop thread has ended.
  void run();
  // Graceful drain: stop accepting, close every WebSocket with 1001, wait up to
  // drain_timeout_ms, then end the loops. Thread: any (not a signal handler).
  void stop();

  // Publishes to every subscriber of topic on every loop. Thread: any.
  void publish(std::string_view topic, std::string_view data, MessageType type = MessageType::kText);

  // Prometheus text exposition of the server's metrics. Thread: any.
  std::string metrics_text() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald
