#pragma once
// Transport: how the Herald protocol reaches one client, whichever way the client is connected
// (WebSocket, raw TCP lines; SSE and long-polling come next). The protocol handler writes replies
// and pushes through this interface only, so it and the hub never know the transport. Input flows
// the other way, through ProtocolEndpoint. Thread: the owning loop only.

#include <cstdint>
#include <string_view>

namespace herald::transport {

struct Publication;

enum class Kind : uint8_t { kWebSocket, kTcp, kSse, kPoll };
std::string_view to_string(Kind kind);

// Where a run of message pushes sits in its channel: one push per line, consecutive offsets from
// first_offset to last_offset, one epoch. Transports that label what they send with positions
// (SSE event ids) use it; the others ignore it. (The last offset comes with it so that no
// subscriber has to count the lines of a shared batch.)
struct PushPositions {
  std::string_view channel;
  std::string_view epoch;
  uint64_t first_offset = 0;
  uint64_t last_offset = 0;
};

class Transport {
 public:
  virtual Kind kind() const = 0;
  // The connection (or session) id: unique per server run, never 0.
  virtual uint64_t id() const = 0;
  // Protocol lines for this client only (replies, join/leave, disconnect): one or more JSON
  // objects separated by '\n', without a trailing one. Dropped once the transport is closing.
  virtual void send_text(std::string_view lines) = 0;
  // Message pushes shared by every subscriber of the loop, encoded once (pushes.payload() is the
  // lines); each transport kind frames them once too (Publication caches its framings).
  virtual void send_shared(const Publication& pushes, const PushPositions& at) = 0;
  // Message pushes for this client only (recovered publications), where the transport labels
  // pushes with positions (unidirectional SSE); the others are asked for send_text instead.
  virtual bool labels_positions() const { return false; }
  virtual void send_positioned(std::string_view pushes, const PushPositions& at) {
    (void)at;
    send_text(pushes);
  }
  // The channel is at.first_offset now (its position when a subscription began), for
  // transports that label positions.
  virtual void set_position(const PushPositions& at) { (void)at; }
  // For transports whose later requests name their session (SSE, long-polling): its id, told to
  // the client in the connect result. Empty for the others.
  virtual std::string_view session_id() const { return {}; }
  // Ends the connection: what was sent goes out first, then the close carries code (a WebSocket
  // close code; a transport without one just closes).
  virtual void close(uint16_t code, std::string_view reason) = 0;

 protected:
  ~Transport() = default;
};

// The protocol side, as the transports see it: one per loop. Thread: the loop's own.
class ProtocolEndpoint {
 public:
  virtual ~ProtocolEndpoint() = default;
  // A client arrived; `t` stays valid until on_close(t) returns.
  virtual void on_open(Transport& t) = 0;
  // One text unit from the client: a WebSocket text frame, or one TCP line.
  virtual void on_text(Transport& t, std::string_view text) = 0;
  // Input the protocol cannot take (a binary WebSocket frame, a TCP line over the size limit or
  // not UTF-8): the endpoint ends the connection with a disconnect push saying `why`.
  virtual void on_bad_input(Transport& t, std::string_view why) = 0;
  // The server is stopping and the transport has no close handshake of its own to say so (a
  // WebSocket sends close 1001 itself): the endpoint tells the client and closes.
  virtual void on_going_away(Transport& t) = 0;
  virtual void on_close(Transport& t) = 0;
};

}  // namespace herald::transport
