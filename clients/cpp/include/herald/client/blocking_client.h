#pragma once
// A blocking client for the CLI (herald sub) and for tests: connect, send, receive with a
// timeout, close; over a WebSocket (ws://, wss://) or the raw TCP transport's lines (tcp://,
// tls://). Built on the same Connection and LineConnection as the benchmark.

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "herald/client/connection.h"
#include "herald/client/line_connection.h"
#include "herald/client/loop.h"

namespace herald::client {

struct Message {
  Opcode opcode = Opcode::kText;
  std::string payload;
};

// One connection with its own private loop. Not thread-safe: one thread uses it at a time.
class BlockingClient : private ConnectionHandler, private LineHandler {
 public:
  using Millis = std::chrono::milliseconds;

  // Connects (TLS: and verifies the certificate) and completes the upgrade within timeout; the
  // error says what failed. Over TLS, options.tls is used, or when it is null a context that
  // trusts the system's store. Over tcp:// and tls://, max_message_size bounds a line.
  static Result<std::unique_ptr<BlockingClient>> connect(std::string_view url, Millis timeout,
                                                         ConnectionOptions options = {});
  ~BlockingClient() override;

  // Queues the message (over TCP: the lines, '\n' added) and writes as much as the socket takes
  // within timeout. Binary messages only over a WebSocket.
  Result<Ok> send_text(std::string_view text, Millis timeout = Millis(5000));
  Result<Ok> send_binary(std::string_view data, Millis timeout = Millis(5000));
  // The next text/binary message (over TCP: the next line, as text); nullopt when none arrived
  // within timeout. An error once the connection is closed (the message says how) and no
  // messages are left.
  Result<std::optional<Message>> receive(Millis timeout);
  // Close handshake (over TCP: FIN, and the server's), bounded by timeout; the socket is gone
  // afterwards either way.
  void close(uint16_t code = 1000, std::string_view reason = {}, Millis timeout = Millis(2000));

  bool is_open() const {
    return conn_ != nullptr ? conn_->is_open() : lines_ != nullptr && lines_->is_open();
  }
  bool deflate_enabled() const { return conn_ != nullptr && conn_->deflate_enabled(); }
  // Empty lines the server sent as keepalives (tcp://, tls://), each answered.
  uint64_t keepalives() const { return lines_ != nullptr ? lines_->keepalives() : 0; }
  // How the connection ended (empty while open).
  const std::string& close_description() const { return closed_how_; }

 private:
  BlockingClient() = default;
  Result<Ok> send(Opcode opcode, std::string_view payload, Millis timeout);
  size_t buffered_bytes() const;
  void abort();
  void on_message(Connection& conn, Opcode opcode, std::string_view payload) override;
  void on_close(Connection& conn, const CloseInfo& info) override;
  void on_line(LineConnection& conn, std::string_view line) override;
  void on_close(LineConnection& conn, const CloseInfo& info) override;

  Loop loop_;
  std::unique_ptr<Connection> conn_;       // ws://, wss://
  std::unique_ptr<LineConnection> lines_;  // tcp://, tls://
  std::deque<Message> inbox_;
  bool closed_ = false;
  std::string closed_how_;
};

}  // namespace herald::client
