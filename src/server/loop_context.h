#pragma once
// LoopContext: everything one event loop owns: its listeners, its instance of each application
// handler, its hub, and (through transport::LoopServices, which it implements for the transports)
// its connections, topic index and pools. Nothing here is shared with other loops; they reach it
// only through loop.post(). Thread: owning loop only, except the metrics (read by any thread)
// and `loop.post()`.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/jwt.h"
#include "auth/origin.h"
#include "herald/server.h"
#include "http/request_parser.h"
#include "hub/hub.h"
#include "broker/broker.h"
#include "broker/redis_broker.h"
#include "hub/namespaces.h"
#include "net/event_loop.h"
#include "net/listener.h"
#include "net/tls_context.h"
#include "protocol/api_decoder.h"
#include "pusher/apps.h"
#include "pusher/endpoint.h"
#include "pusher/hook_holds.h"
#include "pusher/webhooks.h"
#include "server/limits.h"
#include "server/liveness.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/sessions.h"
#include "server/static_files.h"
#include "server/stats.h"
#include "store/history_store.h"
#include "transport/loop_services.h"
#include "transport/topics.h"
#include "ws/deflate.h"

namespace herald::server {

struct ServerCore;
class Cluster;

class LoopContext final : public transport::LoopServices {
 public:
  LoopContext(int index, ServerCore& core);
  ~LoopContext() override;

  ServerCore& core;
  std::unique_ptr<net::Listener> listener;
  std::unique_ptr<net::Listener> tcp_listener;  // raw TCP protocol lines (--tcp-listen), if any
  // New connections speak TLS with this context (null: plain TCP). Replaced on a reload by a
  // task posted to this loop, so it is read and written by this loop's thread only.
  std::shared_ptr<const net::TlsContext> tls;
  // Tokens are verified with this (null: no key configured, every token refused). Replaced on
  // a key reload like `tls`: read and written by this loop's thread only.
  std::shared_ptr<const auth::TokenVerifier> tokens;
  // The protocol handlers of this loop (one per protocol route), for the server API. Declared
  // before `handlers`, which unregister themselves from it when destroyed.
  std::vector<ProtocolSessions*> protocol_sessions;
  // The first protocol handler, which also serves the raw TCP transport (null: no protocol).
  transport::ProtocolEndpoint* endpoint = nullptr;
  std::vector<std::unique_ptr<Handler>> handlers;  // index: route id from ServerCore::routes
  std::unique_ptr<hub::Hub> hub;  // channels of the Herald protocol (created by Server::start)
  // The Pusher protocol of this loop (null: no Pusher app). After `hub`: destroyed before it.
  std::unique_ptr<pusher::Endpoint> pusher;
  LoopMetrics metrics;               // the protocol's and the server API's counters
  LogLimiter log_limiter;            // connect/disconnect lines of this loop (log_rate)
  protocol::ApiDecoder api_decoder;  // bodies of the server API
  std::unique_ptr<net::Timer> drain_deadline;  // armed by Server::stop()
  Heartbeat heartbeat{loop};                   // started by Server::start on this loop

  // transport::LoopServices
  void route(transport::HttpSession& http, const http::Request& req,
             std::string_view body) override;
  void publish_topic(const std::shared_ptr<transport::Publication>& pub) override;
  transport::ProtocolEndpoint& protocol_endpoint() override { return *endpoint; }
  int loop_count() const override;
  transport::LoopServices& loop_at(int index) override;
  uint64_t new_client_id() override;
  std::string_view node_id() const override;
  void relay_session(std::string_view node, transport::SessionRequest req, uint32_t timeout_ms,
                     std::function<void(int status, std::string body)> reply) override;

  // Delivers a topic publication to this loop's subscribers. Thread: owning loop only.
  void deliver(const transport::Publication& pub);
  // Starts the drain: stop accepting, close every connection (WebSockets with 1001).
  void begin_drain();

 private:
  void on_connection_removed(transport::Connection& c) override;
  // The connect and disconnect log lines.
  void on_client_opened(transport::Kind kind, uint64_t id, std::string_view remote,
                        std::string_view path) override;
  void on_client_closed(transport::Kind kind, uint64_t id, transport::EndReason reason,
                        uint16_t code, uint64_t duration_ms) override;
  // GET /metrics: asks every loop for its lag, channels and subscriptions, then answers.
  void serve_metrics(transport::HttpSession& http, const http::Request& req);
  // The Origin allow-list for browser transports: false after answering 403.
  bool origin_allowed(transport::HttpSession& http, const http::Request& req);
};

// What every loop shares, read-only once the loops run.
struct ServerCore {
  ServerOptions options;
  http::Limits http_limits;
  ws::DeflateConfig deflate;
  struct Route {
    std::string path;
    Server::HandlerFactory factory;
    // Built-in handlers that need their loop (the Herald protocol) use this one instead.
    std::function<std::unique_ptr<Handler>(LoopContext&)> loop_factory;
    // Sec-WebSocket-Protocol values the route speaks, in order of preference.
    std::vector<std::string_view> subprotocols;
  };
  std::vector<Route> routes;
  std::unique_ptr<StaticFiles> web;  // the embedded pages (Server::web_pages()); null: none
  hub::Namespaces namespaces;  // from options, set by Server::start
  pusher::Apps pusher_apps;    // from options.pusher_apps, set by Server::start
  auth::OriginPolicy origins;                    // from options.allowed_origins
  std::unique_ptr<SharedLimits> limits;          // per IP, per user, rates (Server::start)
  std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();
  // Declaration order is destruction order reversed: the store goes first (its last commit
  // callbacks post to loops that still exist), then the loops (with their hubs), then the broker.
  // With several nodes: questions to the other nodes (declared before the broker, whose node
  // messages it receives, so that it outlives the broker's thread).
  std::unique_ptr<Cluster> cluster;
  // Pusher webhooks (null: no app has one). Before the loops: they post events to it.
  std::unique_ptr<pusher::Webhooks> webhooks;
  // Reports the webhooks' holds that a dead node left (Redis broker); outlives the broker.
  std::unique_ptr<pusher::AbandonedHooks> abandoned_hooks;
  std::unique_ptr<broker::Broker> broker;
  broker::RedisBroker* redis = nullptr;  // the broker, when it is the Redis one
  std::vector<std::unique_ptr<LoopContext>> loops;
  std::unique_ptr<store::HistoryStore> store;
  std::atomic<uint64_t> next_connection_id{1};
  std::atomic<size_t> open_connections{0};  // over all loops, for max_connections
  SystemdNotifier systemd;  // READY, STOPPING and the watchdog (nothing outside systemd)

  // The loops whose heartbeat is older than options.stall_timeout_ms. Thread: any.
  std::vector<int> stalled_loops() const;
  // Sends pub to every loop (directly on the calling loop, posted to the others). Thread: any.
  void publish(const std::shared_ptr<transport::Publication>& pub);
  // The /metrics text; with samples (each loop's own figures, see gather_loop_stats) it also
  // has the loop lag, channels and subscriptions.
  std::string metrics_text(const std::vector<LoopStats>* samples = nullptr) const;
};

// The loop the calling thread runs, or nullptr for a thread that runs none.
LoopContext* current_loop();
void set_current_loop(LoopContext* ctx);

}  // namespace herald::server
