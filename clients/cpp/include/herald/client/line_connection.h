#pragma once
// LineConnection: the Herald protocol over the server's raw TCP transport (`herald serve
// --tcp-listen`, docs/PROTOCOL.md "Raw TCP"), plain (tcp://) or TLS (tls://), driven by a Loop
// without blocking: commands go out as lines, every line from the server comes back alone. The
// server's keepalive, an empty line, is answered with an empty line (the pong the transport
// asks for) and never reaches the handler. Thousands can share one Loop. No timers: the owner
// enforces time limits and calls abort().

#include <cstdint>
#include <memory>
#include <string_view>

#include "herald/client/connection.h"
#include "herald/client/line_splitter.h"
#include "herald/client/socket.h"

namespace herald::client {

class LineConnection;

struct LineOptions {
  size_t max_line = 16u << 20;                  // the server's max_message_size default
  size_t max_output_bytes = 64u << 20;          // send_lines() refuses beyond this much unsent data
  std::shared_ptr<const TlsClientContext> tls;  // needed for tls://
};

// Callbacks of a LineConnection, on its loop's thread from inside Loop::run_once. A handler
// may send on, close or abort any connection of its loop inside them, but not destroy one.
class LineHandler {
 public:
  virtual ~LineHandler() = default;
  virtual void on_open(LineConnection& conn) { (void)conn; }
  // One line from the server, without its "\n" or "\r\n"; never empty. Valid during the call.
  virtual void on_line(LineConnection& conn, std::string_view line) = 0;
  // Exactly once per started connection; the socket is already closed. Causes: kConnectFailed,
  // kTlsFailed, kClosed (the server closed after close(); code 1000), kConnectionLost (it
  // closed unasked: after a disconnect push, or a crash), kProtocolError (a line over
  // max_line: frame_error kMessageTooLarge), kAborted.
  virtual void on_close(LineConnection& conn, const CloseInfo& info) = 0;
};

// Owned by the caller, who keeps it alive while it is started (until on_close, or until
// destroyed outside run_once). Thread: its loop's thread only.
class LineConnection final : private Socket::Owner {
 public:
  enum class State : uint8_t { kIdle, kConnecting, kOpen, kClosing, kClosed };

  LineConnection(Loop& loop, LineHandler& handler, LineOptions options = {});
  ~LineConnection() override;
  LineConnection(const LineConnection&) = delete;
  LineConnection& operator=(const LineConnection&) = delete;

  // Connects to endpoint; url says tcp:// or tls:// (and the host the certificate must name).
  // False (no callback) when it cannot start: last_errno() says why (EINVAL: tls:// without
  // options.tls, or another scheme).
  bool start(const Endpoint& endpoint, const ServerUrl& url);
  // Queues one or more '\n'-separated lines (a "\n" is added after the last); they go out on the
  // next Loop flush, or once connected. False when closing or closed, or when more than
  // max_output_bytes are waiting (backpressure: the caller decides).
  bool send_lines(std::string_view lines);
  // Sends what is queued, then FIN (close_notify first over TLS); on_close follows when the
  // server closes its side.
  void close();
  // Closes the socket now; on_close is called (cause kAborted) unless already closed.
  void abort();

  State state() const { return state_; }
  bool is_open() const { return state_ == State::kOpen; }
  size_t buffered_bytes() const { return socket_.buffered(); }
  int last_errno() const { return last_errno_; }
  uint64_t keepalives() const { return keepalives_; }  // empty lines received
  // A slot for the owner (an index, a pointer); the connection never reads it.
  uint64_t user_data = 0;

 private:
  void on_socket_open(Socket& socket) override;
  void on_socket_data(Socket& socket, std::string_view data) override;
  void on_socket_end(Socket& socket, const SocketEnd& end) override;
  void finish(CloseInfo info);

  LineHandler& handler_;
  LineOptions options_;
  Socket socket_;
  LineSplitter lines_;
  State state_ = State::kIdle;
  int last_errno_ = 0;
  uint64_t keepalives_ = 0;
};

}  // namespace herald::client
