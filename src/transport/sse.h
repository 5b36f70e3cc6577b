#pragma once
// SseStream: a connection that answered a GET on /connection/sse with a text/event-stream and
// now carries the protocol's server-to-client side (docs/PROTOCOL.md, "Server-Sent Events").
// Two modes:
//  * bidirectional (the SDK's): every send is one event whose data lines are the protocol lines
//    (the client splits on '\n', as for a WebSocket frame); the client's commands arrive as
//    POSTs naming the session. Shared pushes go out as the Publication's SSE framing, built once.
//  * unidirectional (a plain EventSource): the channels are in the URL; each publication is its
//    own event whose `id:` holds the position of every channel of the stream, so the browser's
//    own reconnect (Last-Event-ID) resumes exactly where it stopped. Other lines (the connect and
//    subscribe replies, a disconnect) are events named `herald`. A refused connect (a bad token)
//    is answered 403 with the error lines as the body, so that the browser stops retrying.
// Keepalive: a comment line after ping_interval of silence (proxies close idle streams).
// Owned by its Connection (as its Mode). Thread: owning loop only.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "transport/connection.h"
#include "transport/end_reason.h"
#include "transport/sessions.h"

namespace herald::transport {

class SseStream final : public Mode, public EmulatedSession {
 public:
  // A channel of a unidirectional stream and the last position sent for it (offset 0 with an
  // empty epoch: nothing known yet).
  struct Position {
    std::string channel;
    std::string epoch;
    uint64_t offset = 0;
  };

  // positions empty: bidirectional. Otherwise unidirectional over these channels, in order.
  SseStream(Connection& conn, std::string session_id, std::vector<Position> positions);
  ~SseStream() override;

  // Called once the stream is the connection's mode: writes the response head, registers the
  // session, and runs `commands` (the connect, and for a unidirectional stream its subscribes).
  void open(std::string_view commands, std::string_view extra_headers);

  // The Last-Event-ID format: "<offset>:<epoch>" per channel, '/'-separated, in channel order.
  static std::string format_event_id(const std::vector<Position>& positions);
  // Parses an id of that format over `positions` (their channels set); false, leaving
  // positions untouched, when it does not fit them.
  static bool parse_event_id(std::string_view id, std::vector<Position>& positions);

  // Transport
  Kind kind() const override { return Kind::kSse; }
  uint64_t id() const override { return conn_.id(); }
  void send_text(std::string_view lines) override;
  void send_shared(const Publication& pushes, const PushPositions& at) override;
  bool labels_positions() const override { return !positions_.empty(); }
  void send_positioned(std::string_view pushes, const PushPositions& at) override;
  void set_position(const PushPositions& at) override {
    advance(at.channel, at.epoch, at.first_offset);
  }
  void close(uint16_t code, std::string_view reason) override;

  // Mode
  size_t on_data(uint8_t* data, size_t size) override;
  void on_timeout() override;
  void on_closed(net::CloseReason reason) override;
  void drain() override;

 private:
  bool unidirectional() const { return !positions_.empty(); }
  // Records that the channel is at `offset` of `epoch` now (unidirectional); false for a channel
  // not ours.
  bool advance(std::string_view channel, std::string_view epoch, uint64_t offset);

  Connection& conn_;
  LoopServices& services_;
  ProtocolEndpoint& endpoint_;
  std::vector<Position> positions_;
  bool open_ = true;
  bool registered_ = false;
  // Unidirectional streams hold their first lines until the connect has run: a refused connect
  // is then answered 403 instead of 200, because a browser's EventSource retries a stream that
  // ends but gives up on an error status.
  bool head_pending_ = false;
  EndNote end_;              // why it is ending, when this side knows first
  uint16_t close_code_ = 0;  // the protocol's disconnect code, when it closed the stream
  std::vector<std::string> pending_;  // what send_text got meanwhile
};

}  // namespace herald::transport
