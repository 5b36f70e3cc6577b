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
#include <vector>

#include "herald/namespace_options.h"
#include "herald/pusher_app.h"
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
  uint32_t stall_timeout_ms = 10'000;     // a loop unresponsive this long fails /health
  uint32_t poll_timeout_ms = 25'000;      // a long-poll is held this long, then answered empty
  uint32_t session_timeout_ms = 30'000;   // a long-poll session nobody polls is collected after
  size_t max_connections = 100'000;       // per server; more are refused with 503
  // Abuse limits (0 = off; docs/herald.example.yaml says what each protects against).
  size_t max_connections_per_ip = 0;       // more from one address get 429 (TCP: 1013)
  double connection_rate_per_ip = 0;       // new connections a second from one address
  size_t max_connections_per_user = 0;     // a connect beyond it: error 110, disconnect 4504
  double command_rate = 0;                 // commands a second per connection (burst: 2x): 113
  double publish_rate_per_user = 0;        // client publishes a second per user (burst: 2x): 113
  double api_rate = 0;                     // server API requests a second (burst: 2x): 429/113
  bool permessage_deflate = true;         // negotiate RFC 7692 when a client offers it
  size_t deflate_min_size = 64;           // smaller messages are sent uncompressed

  // TLS on the listener (https, wss), both PEM files or neither. tls_cert: the certificate
  // chain, leaf first; tls_key: its private key, unencrypted. Checked by start(), which fails
  // with one line when a file is missing, unreadable or the key does not match.
  std::string tls_cert;
  std::string tls_key;

  // Channels of the Herald protocol (docs/PROTOCOL.md).
  // The protocol over raw TCP, one JSON object per line, on this HOST:PORT ("" = off). Needs a
  // protocol() route (whose handler serves it too). Same limits and keepalive as WebSocket.
  std::string tcp_listen;
  std::string data_dir;                   // durable history here (SQLite); "" = in memory only
  // Where channels live: "memory" (this process: one node) or "redis" (several nodes share one
  // Redis: redis_url). With "redis", history, presence and idempotency keys are in Redis and
  // data_dir is not used for history.
  std::string broker = "memory";
  std::string redis_url;                  // redis://[user:pass@]host:port/db
  std::string redis_prefix = "herald";    // every Redis key starts with it: clusters can share one
  // A node renews its presence members in Redis every third of this; the members of a node that
  // died are gone (and their leaves pushed) within lease + lease/3.
  uint32_t redis_presence_lease_ms = 60'000;
  // redis_url names seeds of a Redis Cluster: its masters and slots are read from them at start
  // (CLUSTER SLOTS), each channel goes to the master of its slot, fan-out uses SSUBSCRIBE.
  bool redis_cluster = false;
  // TLS to Redis, for rediss:// URLs: the server's certificate must chain to redis_tls_ca (PEM
  // CA certificates; "" = the system's store) and name the URL's host (an IP address as an IP
  // SAN). redis_tls_cert and redis_tls_key (PEM, both or neither): the client certificate a
  // Redis with `tls-auth-clients yes` asks for. Loaded by start(), which fails with one line.
  std::string redis_tls_ca;
  std::string redis_tls_cert;
  std::string redis_tls_key;
  size_t max_subscriptions = 128;         // per connection; more get error 110
  NamespaceOptions default_namespace;     // channels without a "ns:" prefix
  // Named namespaces. Empty: every namespace gets default_namespace's options (the embedded
  // default serves any channel). Not empty: a channel of a namespace not listed gets error 118.
  std::map<std::string, NamespaceOptions, std::less<>> namespaces;

  // Pages allowed to open a browser transport (WebSocket, SSE, long-poll), e.g.
  // "https://app.example.com", "https://*.example.com", "http://localhost:*"; others get 403.
  // Empty: any origin. The server's own pages are always allowed (see auth/origin.h).
  std::vector<std::string> allowed_origins;

  // Server API (POST /api/<method>) for backends. With no key, only loopback peers may call it.
  std::string api_key;

  // Connection and channel tokens (JWTs signed by the backend; docs/PROTOCOL.md). Each key is
  // bound to one algorithm: the secret verifies HS256 only, an RSA public key RS256 only, an EC
  // P-256 public key ES256 only. With no key at all, no token is accepted (a connect with one is
  // refused). The key files are read by start() (a bad file stops it with one line) and again
  // by reload_tokens().
  std::string token_hmac_secret;  // HS256; at least 32 bytes
  std::string token_public_key;   // a PEM file of public keys (RSA: RS256, EC P-256: ES256)
  std::string token_jwks_file;    // a JWKS file (RFC 7517), keys chosen by the token's "kid"
  std::string token_audience;     // non-empty: a token's "aud" must hold it
  std::string token_issuer;       // non-empty: a token's "iss" must be it
  bool allow_anonymous = true;  // a connect without a token is an anonymous client ("" user)

  // Pusher-compatible apps (docs/PUSHER.md): WebSocket on /app/{key}, REST on /apps/{id}/.
  // Empty: those paths answer 404.
  std::vector<PusherAppOptions> pusher_apps;
  // https:// webhook receivers (config pusher.webhook_tls_ca): their certificate must chain to
  // these PEM CA certificates ("" = the system's store) and name the URL's host (an IP address
  // as an IP SAN). Loaded by start(), which fails with one line naming the setting and file.
  std::string pusher_webhook_tls_ca;
  // Observability (docs/OPERATIONS.md). The latency histograms read the clock once per command
  // and once per delivered batch; false leaves them empty (only to measure what they cost: the
  // counters stay on). Connect and disconnect log lines: at most log_rate a second per loop and
  // per kind (bursts of twice that), the rest counted; 0 = no limit.
  bool latency_metrics = true;
  double log_rate = 100;
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
  // Loads tls_cert and tls_key again (after a certificate renewal): new connections use the new
  // pair, open connections keep theirs. On failure the old pair stays in use. Returns a one-line
  // description of the new certificate. Blocking file I/O. Thread: any but a loop's (not a
  // signal handler).
  Result<std::string> reload_tls();
  // Reads token_public_key and token_jwks_file again (after a key rotation): every connect,
  // refresh and subscribe from then on is verified with the new keys; open connections are not
  // checked again. On failure the old keys stay in use. Returns a one-line description of the
  // keys. Blocking file I/O. Thread: any but a loop's (not a signal handler).
  Result<std::string> reload_tokens();
  // The keys tokens are verified with, in one line ("HS256 secret, RS256 (2048-bit RSA) kid=a;
  // aud herald"), "" when none is configured. Never a secret. Thread: any.
  std::string token_keys() const;
  // The certificate new connections get, in one line (subject, serial, expiry); empty without
  // TLS. Thread: any.
  std::string tls_certificate() const;

  // Publishes to every subscriber of topic on every loop. Thread: any.
  void publish(std::string_view topic, std::string_view data, MessageType type = MessageType::kText);

  // Prometheus text exposition of the server's metrics. Thread: any.
  std::string metrics_text() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald
