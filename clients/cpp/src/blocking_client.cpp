#include "herald/client/blocking_client.h"

#include <algorithm>
#include <cstring>

namespace herald::client {
namespace {

using Clock = std::chrono::steady_clock;

int millis_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1000));
}

}  // namespace

Result<std::unique_ptr<BlockingClient>> BlockingClient::connect(std::string_view url,
                                                                Millis timeout,
                                                                ConnectionOptions options) {
  ServerUrl parsed;
  UrlError url_error = parse_server_url(url, parsed);
  if (url_error != UrlError::kNone) {
    return Error{std::string(url) + ": " + std::string(to_string(url_error))};
  }
  if (parsed.tls() && options.tls == nullptr) {
    auto tls = TlsClientContext::create(TlsOptions{});
    if (!tls) {
      return Error{tls.error()};
    }
    options.tls = *tls;
  }
  auto endpoint = resolve(parsed);
  if (!endpoint) {
    return Error{endpoint.error()};
  }
  std::unique_ptr<BlockingClient> client(new BlockingClient());
  if (!client->loop_.ok()) {
    return Error{"epoll_create1 failed"};
  }
  bool started = false;
  int err = 0;
  if (parsed.websocket()) {
    ConnectionHandler& handler = *client;  // the base is private: convert here, where it is visible
    client->conn_ = std::make_unique<Connection>(client->loop_, handler, std::move(options));
    started = client->conn_->start(*endpoint, parsed);
    err = client->conn_->last_errno();
  } else {
    LineOptions lo;
    lo.max_line = options.max_message_size;
    lo.max_output_bytes = options.max_output_bytes;
    lo.tls = std::move(options.tls);
    LineHandler& handler = *client;
    client->lines_ = std::make_unique<LineConnection>(client->loop_, handler, std::move(lo));
    started = client->lines_->start(*endpoint, parsed);
    err = client->lines_->last_errno();
  }
  if (!started) {
    return Error{"connect to " + endpoint->to_string() + ": " + std::strerror(err)};
  }
  auto deadline = Clock::now() + timeout;
  while (!client->is_open() && !client->closed_ && Clock::now() < deadline) {
    client->loop_.run_once(millis_left(deadline));
  }
  if (client->closed_) {
    return Error{"connect to " + std::string(url) + ": " + client->closed_how_};
  }
  if (!client->is_open()) {
    client->abort();
    return Error{"connect to " + std::string(url) + ": timed out"};
  }
  return client;
}

BlockingClient::~BlockingClient() {
  if (!closed_) {
    abort();
  }
}

void BlockingClient::abort() {
  if (conn_ != nullptr) {
    conn_->abort();
  } else if (lines_ != nullptr) {
    lines_->abort();
  }
}

size_t BlockingClient::buffered_bytes() const {
  if (conn_ != nullptr) {
    return conn_->buffered_bytes();
  }
  return lines_ != nullptr ? lines_->buffered_bytes() : 0;
}

Result<Ok> BlockingClient::send(Opcode opcode, std::string_view payload, Millis timeout) {
  bool queued = false;
  if (!closed_) {
    if (conn_ != nullptr) {
      queued = conn_->send(opcode, payload);
    } else if (lines_ != nullptr && opcode == Opcode::kText) {
      queued = lines_->send_lines(payload);
    }
  }
  if (!queued) {
    return Error{closed_ ? "connection closed: " + closed_how_
                         : std::string("connection is not open or its output is full")};
  }
  auto deadline = Clock::now() + timeout;
  do {
    loop_.run_once(buffered_bytes() == 0 ? 0 : millis_left(deadline));
  } while (!closed_ && buffered_bytes() > 0 && Clock::now() < deadline);
  if (closed_) {
    return Error{"connection closed: " + closed_how_};
  }
  if (buffered_bytes() > 0) {
    return Error{"send timed out"};
  }
  return Ok{};
}

Result<Ok> BlockingClient::send_text(std::string_view text, Millis timeout) {
  return send(Opcode::kText, text, timeout);
}

Result<Ok> BlockingClient::send_binary(std::string_view data, Millis timeout) {
  return send(Opcode::kBinary, data, timeout);
}

Result<std::optional<Message>> BlockingClient::receive(Millis timeout) {
  auto deadline = Clock::now() + timeout;
  while (inbox_.empty() && !closed_) {
    loop_.run_once(millis_left(deadline));
    if (Clock::now() >= deadline) {
      break;
    }
  }
  if (!inbox_.empty()) {
    std::optional<Message> out(std::move(inbox_.front()));
    inbox_.pop_front();
    return out;
  }
  if (closed_) {
    return Error{"connection closed: " + closed_how_};
  }
  return std::optional<Message>();
}

void BlockingClient::close(uint16_t code, std::string_view reason, Millis timeout) {
  if (closed_) {
    return;
  }
  if (conn_ != nullptr) {
    conn_->close(code, reason);
  } else {
    lines_->close();
  }
  auto deadline = Clock::now() + timeout;
  while (!closed_ && Clock::now() < deadline) {
    loop_.run_once(millis_left(deadline));
  }
  if (!closed_) {
    abort();
  }
}

void BlockingClient::on_message(Connection& conn, Opcode opcode, std::string_view payload) {
  (void)conn;
  inbox_.push_back(Message{opcode, std::string(payload)});
}

void BlockingClient::on_close(Connection& conn, const CloseInfo& info) {
  (void)conn;
  closed_ = true;
  closed_how_ = info.describe();
}

void BlockingClient::on_line(LineConnection& conn, std::string_view line) {
  (void)conn;
  inbox_.push_back(Message{Opcode::kText, std::string(line)});
}

void BlockingClient::on_close(LineConnection& conn, const CloseInfo& info) {
  (void)conn;
  closed_ = true;
  closed_how_ = info.describe();
}

}  // namespace herald::client
