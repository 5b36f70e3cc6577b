#pragma once
// WebSocketSession: a connection after a successful upgrade (RFC 6455 + RFC 7692): frames in
// through ws::Receiver, messages to the route's Handler; frames out, plain or deflated, with the
// shared frames of a Publication queued by reference. Keepalive pings, the close handshake and
// the output cap live here. It is at once the application's herald::WebSocket, a topic
// subscriber, and a protocol Transport. Owned by its Connection (as its Mode). Thread: owning
// loop only.

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "herald/websocket.h"
#include "transport/connection.h"
#include "transport/end_reason.h"
#include "transport/topics.h"
#include "transport/transport.h"
#include "ws/deflate.h"
#include "ws/frame.h"
#include "ws/receiver.h"

namespace herald::transport {

class WebSocketSession final : public Mode,
                               public WebSocket,
                               public TopicSubscriber,
                               public Transport,
                               private ws::Receiver::Events {
 public:
  WebSocketSession(Connection& conn, Handler& handler, std::string_view path,
                   std::optional<ws::DeflateParams> deflate);
  ~WebSocketSession() override;

  // Called once the session is the connection's mode: tells the handler.
  void open();

  // WebSocket (the application's view) and Transport (the protocol's).
  SendStatus send(std::string_view data, MessageType type) override;
  void close(uint16_t code, std::string_view reason) override;
  void subscribe(std::string_view topic) override;
  void unsubscribe(std::string_view topic) override;
  void publish(std::string_view topic, std::string_view data, MessageType type) override;
  size_t buffered_amount() const override { return conn_.buffered_bytes(); }
  uint64_t id() const override { return conn_.id(); }
  std::string_view path() const override { return path_; }
  std::string_view remote_address() const override { return conn_.remote_address(); }

  Kind kind() const override { return Kind::kWebSocket; }
  void send_text(std::string_view lines) override { send(lines, MessageType::kText); }
  void send_shared(const Publication& pushes, const PushPositions& /*at*/) override {
    deliver(pushes);
  }

  // TopicSubscriber: queues a topic publication (skipped for its publisher).
  void deliver(const Publication& pub) override;

  // Mode
  size_t on_data(uint8_t* data, size_t size) override;
  void on_timeout() override;
  void on_closed(net::CloseReason reason) override;
  void drain() override;

 private:
  enum class State : uint8_t { kOpen, kCloseSent, kDone };

  void fail(uint16_t code, std::string_view why);
  void send_control(ws::Opcode op, std::string_view payload);
  void send_close(uint16_t code, std::string_view reason);
  bool deflate_this(size_t size) const;

  // ws::Receiver::Events
  void on_message(ws::Opcode op, std::string_view payload) override;
  void on_ping(std::string_view payload) override;
  void on_pong(std::string_view payload) override;
  void on_close(uint16_t code, std::string_view reason) override;

  Connection& conn_;
  LoopServices& services_;
  Handler& handler_;
  std::string_view path_;  // the route's path: lives as long as the server
  State state_ = State::kOpen;
  bool ping_outstanding_ = false;
  EndNote end_;                 // why it is ending, when this side knows first
  uint16_t close_code_ = 1006;  // what on_close reports: the peer's code, ours, or 1006
  uint64_t last_rx_ms_ = 0;
  std::optional<ws::DeflateParams> deflate_;
  std::unique_ptr<ws::Inflater> own_inflater_;  // only for deflate clients that keep context
  ws::Receiver receiver_;
};

}  // namespace herald::transport
