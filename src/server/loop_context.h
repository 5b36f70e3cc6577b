#pragma once
// LoopContext: everything one event loop owns: its listener, its instance of each application
// handler, its topic index, its connections and its metrics. Nothing here is shared with other
// loops; they reach it only through loop.post(). Thread: owning loop only, except `metrics`
// (read by any thread) and `loop.post()`.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/jwt.h"
#include "herald/server.h"
#include "http/request_parser.h"
#include "hub/hub.h"
#include "hub/memory_broker.h"
#include "hub/namespaces.h"
#include "net/event_loop.h"
#include "net/listener.h"
#include "net/tls_context.h"
#include "protocol/api_decoder.h"
#include "server/metrics.h"
#include "server/sessions.h"
#include "store/history_store.h"
#include "server/topics.h"
#include "ws/deflate.h"

namespace herald::server {

class Connection;
struct ServerCore;

class LoopContext {
 public:
  LoopContext(int index, ServerCore& core);
  ~LoopContext();

  net::EventLoop loop;
  ServerCore& core;
  std::unique_ptr<net::Listener> listener;
  // New connections speak TLS with this context (null: plain TCP). Replaced on a reload by a
  // task posted to this loop, so it is read and written by this loop's thread only.
  std::shared_ptr<const net::TlsContext> tls;
  // The protocol handlers of this loop (one per protocol route), for the server API. Declared
  // before `handlers`, which unregister themselves from it when destroyed.
  std::vector<ProtocolSessions*> protocol_sessions;
  std::vector<std::unique_ptr<Handler>> handlers;  // index: route id from ServerCore::routes
  TopicIndex topics;
  std::unique_ptr<hub::Hub> hub;  // channels of the Herald protocol (created by Server::start)
  LoopMetrics metrics;
  http::Request request_scratch;  // the parsed head of the request being routed right now
  protocol::ApiDecoder api_decoder;  // bodies of the server API
  // Connections waiting for an asynchronous HTTP answer, by id: a late answer finds out here
  // whether its connection still exists.
  std::unordered_map<uint64_t, Connection*> async_waiting;

  // Intrusive list of open connections (for drain and max_connections).
  Connection* first_connection = nullptr;
  size_t connection_count = 0;
  bool draining = false;
  std::unique_ptr<net::Timer> drain_deadline;  // armed by Server::stop()

  // Shared by every connection of this loop: each message is compressed on its own, so one
  // compressor per window size serves all clients.
  ws::Deflater& deflater(int window_bits);
  // For clients that agreed to client_no_context_takeover (we always ask for it), one inflater per
  // window size serves them all, since it keeps nothing between messages.
  ws::Inflater& shared_inflater(const ws::DeflateParams& params);

  // HTTP parsers are 1.7 KiB and needed only until the upgrade. Recycling them through a
  // per-loop pool keeps them from leaving holes between long-lived connection objects in the
  // heap (which showed as ~100 extra bytes of RSS per idle WebSocket).
  std::unique_ptr<http::RequestParser> acquire_parser();
  void release_parser(std::unique_ptr<http::RequestParser> parser);

  // Delivers a publication to this loop's subscribers. Thread: owning loop only.
  void deliver(const Publication& pub);

  void add_connection(Connection* c);
  void remove_connection(Connection* c);
  // Starts the drain: stop accepting, close every connection (WebSockets with 1001).
  void begin_drain();

 private:
  std::vector<std::unique_ptr<http::RequestParser>> parser_pool_;
  std::unique_ptr<ws::Deflater> deflaters_[16];
  std::unique_ptr<ws::Inflater> inflaters_[16];
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
  };
  std::vector<Route> routes;
  hub::Namespaces namespaces;  // from options, set by Server::start
  std::unique_ptr<auth::TokenVerifier> tokens;  // null: no token_hmac_secret
  std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();
  // Declaration order is destruction order reversed: the store goes first (its last commit
  // callbacks post to loops that still exist), then the loops (with their hubs), then the broker.
  std::unique_ptr<hub::MemoryBroker> broker;
  std::vector<std::unique_ptr<LoopContext>> loops;
  std::unique_ptr<store::HistoryStore> store;
  std::atomic<uint64_t> next_connection_id{1};
  std::atomic<size_t> open_connections{0};  // over all loops, for max_connections

  // Sends pub to every loop (directly on the calling loop, posted to the others). Thread: any.
  void publish(const std::shared_ptr<Publication>& pub);
  std::string metrics_text() const;
};

// The loop the calling thread runs, or nullptr for a thread that runs none.
LoopContext* current_loop();
void set_current_loop(LoopContext* ctx);

}  // namespace herald::server
