#pragma once
// LoopServices: what the transports of one event loop share and need from the server above them:
// the loop itself, the options, the transport counters, the per-loop pools (HTTP parsers,
// deflaters), the topic index, the list of open connections, and three hooks the server
// implements (route an HTTP request, publish a topic message to every loop, the protocol
// endpoint). server::LoopContext is the one implementation. Thread: owning loop only, except
// `transport_metrics` (read by any thread) and `loop.post()`.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "herald/server.h"
#include "http/request.h"
#include "http/request_parser.h"
#include "net/event_loop.h"
#include "net/stream.h"
#include "base/string_hash.h"
#include "transport/metrics.h"
#include "transport/sessions.h"
#include "transport/topics.h"
#include "transport/transport.h"
#include "ws/deflate.h"

namespace herald::transport {

class Connection;
class HttpSession;
class PollSession;

class LoopServices {
 public:
  LoopServices(int index, const ServerOptions& options, const http::Limits& http_limits,
               const ws::DeflateConfig& deflate);
  virtual ~LoopServices();
  LoopServices(const LoopServices&) = delete;
  LoopServices& operator=(const LoopServices&) = delete;

  // Routes one complete HTTP request (head and body) that arrived on `http`; the server answers
  // it through `http` (respond, begin_async, upgrade_websocket).
  virtual void route(HttpSession& http, const http::Request& req, std::string_view body) = 0;
  // Sends a topic publication to every loop (this one directly). Thread: this loop.
  virtual void publish_topic(const std::shared_ptr<Publication>& pub) = 0;
  // The Herald protocol of this loop (for transports without routes, such as raw TCP).
  virtual ProtocolEndpoint& protocol_endpoint() = 0;
  // Every loop of the server, for requests that name a session held by another loop.
  virtual int loop_count() const = 0;
  virtual LoopServices& loop_at(int index) = 0;
  // A new id from the server's space of connection ids, for a client that is not a connection
  // (a long-poll session: several may be created over one keep-alive connection, and the
  // protocol keys its clients by this id). Thread: any.
  virtual uint64_t new_client_id() = 0;
  // Several nodes on Redis: this node's id ("" when it is alone), and a request for a session
  // held by node `node`, relayed to it; reply(status, body) runs on this loop, with 404 when
  // the node is not alive and 503 when it did not answer within timeout_ms.
  virtual std::string_view node_id() const { return {}; }
  virtual void relay_session(std::string_view node, SessionRequest req, uint32_t timeout_ms,
                             std::function<void(int status, std::string body)> reply) {
    (void)node, (void)req, (void)timeout_ms;
    reply(404, R"({"error":"unknown session","status":404})");
  }

  net::EventLoop loop;
  const ServerOptions& options;
  const http::Limits& http_limits;
  const ws::DeflateConfig& deflate_config;
  TransportMetrics transport_metrics;
  TopicIndex topics;
  SessionRegistry sessions;  // this loop's SSE streams and long-poll sessions, by session id
  // The long-poll sessions of this loop (not tied to a connection, so owned here).
  std::unordered_map<std::string, std::unique_ptr<PollSession>, StringHash, std::equal_to<>>
      polls;
  http::Request request_scratch;  // the parsed head of the request being routed right now
  // HTTP sessions waiting for an asynchronous answer, by connection id: a late answer finds out
  // here whether its connection still exists.
  std::unordered_map<uint64_t, HttpSession*> async_waiting;

  // Intrusive list of open connections (for drain and max_connections).
  Connection* first_connection = nullptr;
  size_t connection_count = 0;
  bool draining = false;
  void add_connection(Connection* c);
  void remove_connection(Connection* c);
  // Starts the drain: stop accepting (the server closes its listeners), close every connection
  // (WebSockets with 1001) and tell every long-poll session. The loop stops once no connection
  // is left.
  void drain_connections();

  // Shared by every connection of this loop: each message is compressed on its own, so one
  // compressor per window size serves all clients.
  ws::Deflater& deflater(int window_bits);
  // For clients that agreed to client_no_context_takeover (we always ask for it), one inflater
  // per window size serves them all, since it keeps nothing between messages.
  ws::Inflater& shared_inflater(const ws::DeflateParams& params);

  // HTTP parsers are 1.7 KiB and needed only until an upgrade. Recycling them through a per-loop
  // pool keeps them from leaving holes between long-lived connection objects in the heap (which
  // showed as ~100 extra bytes of RSS per idle WebSocket).
  std::unique_ptr<http::RequestParser> acquire_parser();
  void release_parser(std::unique_ptr<http::RequestParser> parser);

  // A client connection began (a WebSocket upgrade, an SSE stream, a long-poll session, a raw
  // TCP connection) or ended: counted by transport (and by why it ended), then told to the
  // server, which logs it. `opened_ms`: the loop's now_ms() when it began. Never called per
  // message.
  void client_opened(Kind kind, uint64_t id, std::string_view remote, std::string_view path);
  void client_closed(Kind kind, uint64_t id, EndReason reason, uint16_t code, uint64_t opened_ms);

 protected:
  // A connection left the list (after remove_connection's own bookkeeping).
  virtual void on_connection_removed(Connection& c) { (void)c; }
  // The server's view of client_opened/client_closed (its connect and disconnect log lines).
  virtual void on_client_opened(Kind kind, uint64_t id, std::string_view remote,
                                std::string_view path) {
    (void)kind, (void)id, (void)remote, (void)path;
  }
  virtual void on_client_closed(Kind kind, uint64_t id, EndReason reason, uint16_t code,
                                uint64_t duration_ms) {
    (void)kind, (void)id, (void)reason, (void)code, (void)duration_ms;
  }

 private:
  std::vector<std::unique_ptr<http::RequestParser>> parser_pool_;
  std::unique_ptr<ws::Deflater> deflaters_[16];
  std::unique_ptr<ws::Inflater> inflaters_[16];
};

}  // namespace herald::transport
