#pragma once
// One non-blocking client WebSocket over TCP or TLS (ws://, wss://), driven by a client::Loop:
// connect (and the TLS handshake), upgrade, masked frames out, server frames in (pings answered,
// close handshake). Thousands of them can share one Loop. It has no timers: its owner enforces
// time limits and calls abort().

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "herald/client/frame.h"
#include "herald/client/handshake.h"
#include "herald/client/loop.h"
#include "herald/client/socket.h"
#include "herald/client/url.h"

namespace herald::client {

class Connection;
class Inflater;
class Deflater;

struct ConnectionOptions {
  bool offer_deflate = false;             // costs ~300 KiB per connection when accepted
  uint64_t max_message_size = 16u << 20;  // the server's default; larger fails with 1009
  bool validate_utf8 = true;              // text messages; the bench turns it off
  size_t max_output_bytes = 64u << 20;    // send() refuses beyond this much unsent data
  std::string origin;                     // Origin header when not empty
  // Needed for wss://: one context for every connection of a process (TlsClientContext::create).
  std::shared_ptr<const TlsClientContext> tls;
};

// How a connection ended.
enum class CloseCause : uint8_t {
  kNone = 0,
  kConnectFailed,    // TCP connect failed (sys_errno)
  kTlsFailed,        // the TLS handshake or a record failed (tls_error): a certificate that
                     // does not verify, a server that does not speak TLS...
  kHandshakeFailed,  // the server's response was not a valid 101 (handshake_error, http_status)
  kProtocolError,    // the server broke RFC 6455 (frame_error); we sent a close frame
  kClosed,           // close frames were exchanged and the server closed TCP (code, reason)
  kConnectionLost,   // EOF or socket error without a close handshake (code 1006)
  kAborted,          // abort() was called
};
std::string_view to_string(CloseCause cause);

struct CloseInfo {
  CloseCause cause = CloseCause::kNone;
  uint16_t code = 1006;     // the server's close code; 1005 if its close frame had none
  std::string_view reason;  // valid during on_close only
  int sys_errno = 0;
  HandshakeError handshake_error = HandshakeError::kNone;
  int http_status = 0;
  FrameError frame_error = FrameError::kNone;
  std::string_view tls_error;  // valid during on_close only
  std::string describe() const;
};

// Callbacks from a Connection. Called on the loop's thread, from inside Loop::run_once.
// A handler may send on any connection of the same loop, and may close/abort them, but must
// not destroy a Connection inside a callback.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  virtual void on_open(Connection& conn) { (void)conn; }
  // A complete text/binary message, already inflated; payload is valid during the call only.
  virtual void on_message(Connection& conn, Opcode opcode, std::string_view payload) = 0;
  virtual void on_pong(Connection& conn, std::string_view payload) {
    (void)conn;
    (void)payload;
  }
  // Exactly once per started connection; the socket is already closed.
  virtual void on_close(Connection& conn, const CloseInfo& info) = 0;
};

// A client WebSocket. Owned by the caller, who keeps it alive while it is registered with the
// loop (until on_close, or until destroyed outside run_once). Thread: its loop's thread only.
class Connection final : private Socket::Owner {
 public:
  // kConnecting: TCP connect and, over TLS, the TLS handshake; kHandshaking: the HTTP upgrade.
  enum class State : uint8_t { kIdle, kConnecting, kHandshaking, kOpen, kClosing, kClosed };

  Connection(Loop& loop, ConnectionHandler& handler, ConnectionOptions options = {});
  ~Connection() override;  // closes the socket without a callback
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts a non-blocking connect (wss://: and the TLS handshake, the certificate checked for
  // url.host) and the upgrade to url.path. False (no callback) when the socket cannot even be
  // created or connect() fails at once; last_errno() says why (EINVAL: wss:// without
  // options.tls, or not a WebSocket URL).
  bool start(const Endpoint& endpoint, const ServerUrl& url);

  // Queues one message; it goes out on the next Loop flush. False when not open or when more
  // than max_output_bytes are already waiting (backpressure: the caller decides).
  bool send(Opcode opcode, std::string_view payload);
  bool send_text(std::string_view text) { return send(Opcode::kText, text); }
  bool send_binary(std::string_view data) { return send(Opcode::kBinary, data); }
  bool ping(std::string_view payload = {}) { return send(Opcode::kPing, payload); }

  // Starts the close handshake; on_close follows when the server closes TCP.
  void close(uint16_t code = 1000, std::string_view reason = {});
  // Closes the socket now; on_close is called (cause kAborted) unless already closed.
  void abort();

  State state() const { return state_; }
  bool is_open() const { return state_ == State::kOpen; }
  int fd() const { return socket_.fd(); }
  int last_errno() const { return last_errno_; }
  bool deflate_enabled() const { return inflater_ != nullptr; }
  size_t buffered_bytes() const { return socket_.buffered(); }
  // A slot for the owner (an index, a pointer); the connection never reads it.
  uint64_t user_data = 0;

 private:
  void on_socket_open(Socket& socket) override;
  void on_socket_data(Socket& socket, std::string_view data) override;
  void on_socket_end(Socket& socket, const SocketEnd& end) override;
  void consume(std::string_view data);
  void dispatch(const FrameEvent& ev);
  void queue_frame(Opcode opcode, std::string_view payload, bool rsv1 = false);
  void fail_protocol(FrameError error);
  void finish(CloseInfo info);

  Loop& loop_;
  ConnectionHandler& handler_;
  ConnectionOptions options_;
  Socket socket_;
  State state_ = State::kIdle;
  int last_errno_ = 0;
  bool close_sent_ = false;
  bool close_received_ = false;
  uint16_t close_code_ = 1005;
  std::string close_reason_;

  std::string request_;  // the upgrade request, until the socket opens
  std::unique_ptr<HandshakeResponseParser> handshake_;
  FrameParser parser_;
  std::unique_ptr<Inflater> inflater_;
  std::unique_ptr<Deflater> deflater_;
  // Separate buffers: a handler may send() the payload it was given (an inflated view).
  std::string inflated_;
  std::string deflated_;
};

}  // namespace herald::client
