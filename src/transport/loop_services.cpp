#include "transport/loop_services.h"

#include "transport/connection.h"
#include "transport/poll.h"

namespace herald::transport {

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::kWebSocket:
      return "websocket";
    case Kind::kTcp:
      return "tcp";
    case Kind::kSse:
      return "sse";
    case Kind::kPoll:
      return "poll";
  }
  return "unknown";
}

std::string_view to_string(EndReason reason) {
  switch (reason) {
    case EndReason::kClientClosed:
      return "client_closed";
    case EndReason::kNetworkError:
      return "network_error";
    case EndReason::kSlowConsumer:
      return "slow_consumer";
    case EndReason::kTimeout:
      return "timeout";
    case EndReason::kProtocolError:
      return "protocol_error";
    case EndReason::kServerClosed:
      return "server_closed";
    case EndReason::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

EndReason end_reason_of(net::CloseReason reason) {
  switch (reason) {
    case net::CloseReason::kLocal:
      return EndReason::kServerClosed;
    case net::CloseReason::kPeerClosed:
      return EndReason::kClientClosed;
    case net::CloseReason::kReadError:
    case net::CloseReason::kWriteError:
      return EndReason::kNetworkError;
    case net::CloseReason::kOutputLimit:
      return EndReason::kSlowConsumer;
    case net::CloseReason::kTimeout:
      return EndReason::kTimeout;
    case net::CloseReason::kShutdown:
      return EndReason::kShutdown;
    case net::CloseReason::kTlsError:
      return EndReason::kProtocolError;
  }
  return EndReason::kServerClosed;
}

LoopServices::LoopServices(int index, const ServerOptions& server_options,
                           const http::Limits& limits, const ws::DeflateConfig& deflate)
    : loop(index), options(server_options), http_limits(limits), deflate_config(deflate) {}

LoopServices::~LoopServices() = default;

ws::Deflater& LoopServices::deflater(int window_bits) {
  std::unique_ptr<ws::Deflater>& d = deflaters_[window_bits & 15];
  if (!d) {
    d = std::make_unique<ws::Deflater>(window_bits, deflate_config.level,
                                       deflate_config.mem_level);
  }
  return *d;
}

ws::Inflater& LoopServices::shared_inflater(const ws::DeflateParams& params) {
  std::unique_ptr<ws::Inflater>& i = inflaters_[params.client_max_window_bits & 15];
  if (!i) {
    i = std::make_unique<ws::Inflater>(params, options.max_message_size);
  }
  return *i;
}

std::unique_ptr<http::RequestParser> LoopServices::acquire_parser() {
  if (parser_pool_.empty()) {
    return std::make_unique<http::RequestParser>(http_limits);
  }
  std::unique_ptr<http::RequestParser> p = std::move(parser_pool_.back());
  parser_pool_.pop_back();
  p->reset();
  return p;
}

void LoopServices::release_parser(std::unique_ptr<http::RequestParser> parser) {
  constexpr size_t kMaxPooled = 16;  // bounds the pool (1.7 KiB each) after a connection storm
  if (parser && parser_pool_.size() < kMaxPooled) {
    parser_pool_.push_back(std::move(parser));
  }
}

void LoopServices::add_connection(Connection* c) {
  c->next = first_connection;
  if (first_connection != nullptr) {
    first_connection->prev = c;
  }
  first_connection = c;
  ++connection_count;
  transport_metrics.connections_open.add();
}

void LoopServices::remove_connection(Connection* c) {
  if (c->prev != nullptr) {
    c->prev->next = c->next;
  } else {
    first_connection = c->next;
  }
  if (c->next != nullptr) {
    c->next->prev = c->prev;
  }
  c->prev = c->next = nullptr;
  --connection_count;
  transport_metrics.connections_open.sub();
  on_connection_removed(*c);
  if (draining && connection_count == 0) {
    loop.stop();
  }
}

void LoopServices::client_opened(Kind kind, uint64_t id, std::string_view remote,
                                 std::string_view path) {
  transport_metrics.client_opened[static_cast<size_t>(kind)].add();
  on_client_opened(kind, id, remote, path);
}

void LoopServices::client_closed(Kind kind, uint64_t id, EndReason reason, uint16_t code,
                                 uint64_t opened_ms) {
  transport_metrics.client_closed[static_cast<size_t>(kind)][static_cast<size_t>(reason)].add();
  uint64_t now = loop.now_ms();
  on_client_closed(kind, id, reason, code, now > opened_ms ? now - opened_ms : 0);
}

void LoopServices::drain_connections() {
  draining = true;
  for (auto& [id, session] : polls) {
    session->drain();
  }
  for (Connection* c = first_connection; c != nullptr;) {
    Connection* next = c->next;  // drain() may close c, which unlinks it
    c->mode()->drain();
    c = next;
  }
  if (connection_count == 0) {
    loop.stop();
  }
}

}  // namespace herald::transport
