#pragma once
// A blocking WebSocket client for the CLI (herald pub/sub) and for tests: connect, send,
// receive with a timeout, close. Built on the same Connection as the benchmark.

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "herald/client/connection.h"
#include "herald/client/loop.h"

namespace herald::client {

struct Message {
  Opcode opcode = Opcode::kText;
  std::string payload;
};

// One connection with its own private loop. Not thread-safe: one thread uses it at a time.
class BlockingClient : private ConnectionHandler {
 public:
  using Millis = std::chrono::milliseconds;

  // Connects and completes the upgrade within timeout; the error says what failed.
  static Result<std::unique_ptr<BlockingClient>> connect(std::string_view url, Millis timeout,
                                                         ConnectionOptions options = {});
  ~BlockingClient() override;

  // Queues the message and writes as much as the socket takes within timeout.
  Result<Ok> send_text(std::string_view text, Millis timeout = Millis(5000));
  Result<Ok> send_binary(std::string_view data, Millis timeout = Millis(5000));
  // The next text/binary message; nullopt when none arrived within timeout. An error once the
  // connection is closed (the message says how) and no messages are left.
  Result<std::optional<Message>> receive(Millis timeout);
  // Close handshake, bounded by timeout; the socket is gone afterwards either way.
  void close(uint16_t code = 1000, std::string_view reason = {}, Millis timeout = Millis(2000));

  bool is_open() const { return conn_ != nullptr && conn_->is_open(); }
  bool deflate_enabled() const { return conn_ != nullptr && conn_->deflate_enabled(); }
  // How the connection ended (empty while open).
  const std::string& close_description() const { return closed_how_; }

 private:
  BlockingClient() = default;
  Result<Ok> send(Opcode opcode, std::string_view payload, Millis timeout);
  void on_message(Connection& conn, Opcode opcode, std::string_view payload) override;
  void on_close(Connection& conn, const CloseInfo& info) override;

  Loop loop_;
  std::unique_ptr<Connection> conn_;
  std::deque<Message> inbox_;
  bool closed_ = false;
  std::string closed_how_;
};

}  // namespace herald::client
