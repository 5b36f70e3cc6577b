#pragma once
// Connection: one client TCP connection, from its first request head to its last byte. It starts
// as HTTP/1.1 (keep-alive, pipelined requests answered in order) and becomes a WebSocket after a
// successful upgrade on a WebSocket route, when it hands each message to the route's Handler.
// Owned by its loop (LoopContext's list); deleted by net::Stream at the end of the iteration in
// which it closed. Thread: owning loop only.

#include <netinet/in.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "herald/websocket.h"
#include "http/request_parser.h"
#include "net/stream.h"
#include "server/topics.h"
#include "ws/deflate.h"
#include "ws/receiver.h"

namespace herald::server {

class LoopContext;

class Connection final : public net::Stream,
                         public WebSocket,
                         public TopicSubscriber,
                         private ws::Receiver::Events {
 public:
  Connection(LoopContext& ctx, int fd, const sockaddr_storage& peer, uint64_t id);
  ~Connection() override;

  // WebSocket (the application's view).
  SendStatus send(std::string_view data, MessageType type) override;
  void close(uint16_t code, std::string_view reason) override;
  void subscribe(std::string_view topic) override;
  void unsubscribe(std::string_view topic) override;
  void publish(std::string_view topic, std::string_view data, MessageType type) override;
  size_t buffered_amount() const override { return buffered_bytes(); }
  uint64_t id() const override { return id_; }
  std::string_view path() const override;
  // Formatted on demand into a per-thread buffer: valid until the next call on this thread.
  // (Keeping the text per connection would cost 32 bytes on every idle connection.)
  std::string_view remote_address() const override;

  // Queues a topic publication (skipped for its publisher).
  void deliver(const Publication& pub) override;
  // The server is stopping: WebSockets get close 1001, idle HTTP connections are closed.
  void drain();
  bool is_websocket() const { return phase_ == Phase::kWebSocket; }

  // HTTP answers, for the server API as well; they go out in request order. respond() answers
  // the request being routed. An answer that needs a broker round trip takes a ticket
  // (begin_async) and is given later (answer_async); meanwhile up to kMaxPipelined later
  // requests are parsed and answered, their answers held until those before them are out, so
  // a backend that pipelines publishes keeps many in flight (and the store commits them together).
  static constexpr size_t kMaxPipelined = 128;
  void respond(int status, std::string_view content_type, std::string_view body, bool keep_alive,
               std::string_view extra_headers = {});
  uint64_t begin_async();
  void answer_async(uint64_t ticket, int status, std::string_view content_type,
                    std::string_view body, bool keep_alive);
  bool peer_is_loopback() const;
  LoopContext& context() { return *ctx_; }  // the loop that owns this connection

  // LoopContext's intrusive list.
  Connection* prev = nullptr;
  Connection* next = nullptr;

 private:
  enum class Phase : uint8_t { kHttp, kWebSocket };
  enum class WsState : uint8_t { kOpen, kCloseSent, kDone };

  size_t on_data(uint8_t* data, size_t size) override;
  void on_closed(net::CloseReason reason) override;
  void on_timeout() override;
  void on_tls_handshake() override;

  size_t on_http(uint8_t* data, size_t size);
  // Answers one parsed request; returns false if the connection stops reading requests.
  bool route(const http::Request& req, std::string_view body);
  // Writes the answers at the front of held_ that are ready, in order.
  void flush_held();
  void upgrade(const http::Request& req, size_t route_id);

  size_t on_websocket(uint8_t* data, size_t size);
  void fail_websocket(uint16_t code, std::string_view why);
  void send_control(ws::Opcode op, std::string_view payload);
  void send_close(uint16_t code, std::string_view reason);
  bool deflate_this(size_t size) const;

  // ws::Receiver::Events
  void on_message(ws::Opcode op, std::string_view payload) override;
  void on_ping(std::string_view payload) override;
  void on_pong(std::string_view payload) override;
  void on_close(uint16_t code, std::string_view reason) override;

  LoopContext* ctx_;
  uint64_t id_;
  Phase phase_ = Phase::kHttp;
  WsState ws_state_ = WsState::kOpen;
  bool ping_outstanding_ = false;
  bool saw_request_bytes_ = false;
  bool last_request_ = false;   // a request without keep-alive was read: parse no more
  uint16_t close_code_ = 1006;  // what on_close reports: the peer's code, ours, or 1006
  uint64_t last_rx_ms_ = 0;
  sockaddr_in6 peer_{};  // IPv4 peers stored as sockaddr_in in the same bytes
  std::unique_ptr<http::RequestParser> parser_;  // only while speaking HTTP
  std::optional<ws::Receiver> receiver_;         // only once upgraded
  std::unique_ptr<ws::Inflater> own_inflater_;   // only for deflate clients that keep context
  std::optional<ws::DeflateParams> deflate_;
  Handler* handler_ = nullptr;
  uint16_t route_ = 0;  // index in ServerCore::routes once upgraded
  // Answers not written yet, in request order, while at least one is being prepared elsewhere
  // (null otherwise: idle connections pay 8 bytes for this).
  struct HeldAnswer {
    uint64_t ticket = 0;
    bool ready = false;
    bool keep_alive = true;
    std::string bytes;
  };
  std::unique_ptr<std::deque<HeldAnswer>> held_;
  uint64_t next_ticket_ = 0;
};

}  // namespace herald::server
