#pragma once
// EndReason: why a client connection (WebSocket, SSE stream, long-poll session, raw TCP) ended,
// as the `reason` label of herald_client_connections_closed_total and of the disconnect log
// line; EndNote: the one byte a transport keeps to remember it. Thread: the connection's loop.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/stream.h"

namespace herald::transport {

enum class EndReason : uint8_t {
  kClientClosed,   // the client closed (EOF, a close frame, a poll session's `leave`)
  kNetworkError,   // a read or write failed (connection reset, broken pipe)
  kSlowConsumer,   // its output passed max_output_bytes: it did not read fast enough
  kTimeout,        // silent past the ping timeout, a long-poll session nobody polled
  kProtocolError,  // broke RFC 6455, sent a bad line, a TLS error
  kServerClosed,   // the server ended it (a protocol disconnect, POST /api/disconnect)
  kShutdown,       // the server is draining
};
inline constexpr size_t kEndReasons = 7;
std::string_view to_string(EndReason reason);

// What the socket's end means for a client connection that did not record a reason of its own.
EndReason end_reason_of(net::CloseReason reason);

// Why a client connection is ending, as far as it knows before the socket closes (one byte):
// the first reason noted wins; without one, the socket's close reason decides.
class EndNote {
 public:
  void note(EndReason reason) {
    if (v_ == kNone) {
      v_ = static_cast<uint8_t>(reason);
    }
  }
  bool noted() const { return v_ != kNone; }
  EndReason reason(net::CloseReason socket) const {
    return v_ == kNone ? end_reason_of(socket) : static_cast<EndReason>(v_);
  }

 private:
  static constexpr uint8_t kNone = 0xff;
  uint8_t v_ = kNone;
};

}  // namespace herald::transport
