#pragma once
// TcpLines: the Herald protocol over a raw TCP socket, one JSON object per line (the tutorials'
// PHP socket_create client, and services that want no WebSocket library). Lines in through a
// LineReader to the loop's ProtocolEndpoint; replies and pushes out as lines, shared pushes as
// the Publication's line framing (encoded once per loop). Limits as for a WebSocket: a line is at
// most max_message_size bytes, output is capped at max_output_bytes. Keepalive: after
// ping_interval of silence the server sends an empty line, and a client that stays silent for
// pong_timeout more is dropped (any line, a blank one too, is an answer). Owned by its Connection
// (as its Mode). Thread: owning loop only.

#include <cstdint>
#include <string_view>

#include "transport/connection.h"
#include "transport/end_reason.h"
#include "transport/line_reader.h"
#include "transport/transport.h"

namespace herald::transport {

class TcpLines final : public Mode, public Transport {
 public:
  explicit TcpLines(Connection& conn);
  ~TcpLines() override;

  // Called once the object is the connection's mode: tells the protocol endpoint.
  void open();

  // Transport
  Kind kind() const override { return Kind::kTcp; }
  uint64_t id() const override { return conn_.id(); }
  void send_text(std::string_view lines) override;
  void send_shared(const Publication& pushes, const PushPositions& at) override;
  void close(uint16_t code, std::string_view reason) override;

  // Mode
  size_t on_data(uint8_t* data, size_t size) override;
  void on_timeout() override;
  void on_closed(net::CloseReason reason) override;
  void drain() override;

 private:
  Connection& conn_;
  LoopServices& services_;
  ProtocolEndpoint& endpoint_;
  LineReader reader_;
  bool open_ = true;  // false once close() was called: nothing more is read or sent
  bool ping_outstanding_ = false;
  EndNote end_;              // why it is ending, when this side knows first
  uint16_t close_code_ = 0;  // the protocol's disconnect code, when it closed the connection
  uint64_t last_rx_ms_ = 0;
};

}  // namespace herald::transport
