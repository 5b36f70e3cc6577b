#include "transport/websocket.h"

#include <algorithm>

#include "transport/loop_services.h"

namespace herald::transport {
namespace {

// Scratch space for compressing one outgoing message; reused by every send() of the loop.
thread_local std::string t_compress_scratch;

ws::ReceiverLimits receiver_limits(const ServerOptions& opt) {
  ws::ReceiverLimits limits;
  limits.max_frame_payload = opt.max_message_size;
  limits.max_message = opt.max_message_size;
  return limits;
}

}  // namespace

WebSocketSession::WebSocketSession(Connection& conn, Handler& handler, std::string_view path,
                                   std::optional<ws::DeflateParams> deflate)
    : conn_(conn),
      services_(conn.services()),
      handler_(handler),
      path_(path),
      deflate_(deflate),
      own_inflater_(deflate && !deflate->client_no_context_takeover
                        ? std::make_unique<ws::Inflater>(*deflate,
                                                         services_.options.max_message_size)
                        : nullptr),
      receiver_(receiver_limits(services_.options),
                !deflate ? nullptr
                         : own_inflater_ ? own_inflater_.get()
                                         : &services_.shared_inflater(*deflate)) {}

WebSocketSession::~WebSocketSession() = default;

void WebSocketSession::open() {
  services_.transport_metrics.websockets_open.add();
  last_rx_ms_ = conn_.loop().now_ms();
  conn_.set_timeout(services_.options.ping_interval_ms);
  services_.client_opened(Kind::kWebSocket, conn_.id(), conn_.remote_address(), path_);
  handler_.on_open(*this);
}

size_t WebSocketSession::on_data(uint8_t* data, size_t size) {
  last_rx_ms_ = conn_.loop().now_ms();
  ping_outstanding_ = false;
  if (state_ == State::kDone) {
    return size;
  }
  size_t used = receiver_.consume(data, size, *this);
  if (receiver_.error() != ws::ReceiveError::kNone && state_ != State::kDone) {
    services_.transport_metrics.ws_protocol_errors.add();
    if (ws::close_code_for(receiver_.error()) == ws::kCloseTooBig) {
      services_.transport_metrics.message_size_refusals.add();
    }
    fail(ws::close_code_for(receiver_.error()), ws::to_string(receiver_.error()));
    return size;
  }
  return conn_.closing() ? size : used;
}

bool WebSocketSession::deflate_this(size_t size) const {
  return deflate_.has_value() && size >= services_.options.deflate_min_size;
}

SendStatus WebSocketSession::send(std::string_view data, MessageType type) {
  if (state_ != State::kOpen || conn_.closing()) {
    return SendStatus::kDropped;
  }
  // Header and payload are copied straight into the connection's cork buffer: no allocation
  // per message. (Publications, shared by many connections, take the write(SharedBuffer) path.)
  auto op = static_cast<ws::Opcode>(type);
  std::string_view payload = data;
  bool compressed = deflate_this(data.size());
  if (compressed) {
    std::string& scratch = t_compress_scratch;
    scratch.clear();
    services_.deflater(deflate_->server_max_window_bits).deflate_message(data, scratch);
    payload = scratch;
  }
  uint8_t header[ws::kMaxHeaderSize];
  size_t header_size = ws::encode_header(header, op, payload.size(), /*fin=*/true, compressed);
  if (!conn_.write_copy(std::string_view(reinterpret_cast<char*>(header), header_size),
                        payload)) {
    return SendStatus::kDropped;
  }
  services_.transport_metrics.ws_messages_out.add();
  size_t high_water = std::min<size_t>(1 << 20, services_.options.max_output_bytes / 2);
  return conn_.buffered_bytes() > high_water ? SendStatus::kBackpressure : SendStatus::kOk;
}

void WebSocketSession::deliver(const Publication& pub) {
  if (pub.exclude_id == conn_.id() || state_ != State::kOpen || conn_.closing()) {
    return;
  }
  if (deflate_this(pub.payload().size())) {
    int bits = deflate_->server_max_window_bits;
    conn_.write(pub.deflated(bits, services_.deflater(bits)));
  } else {
    conn_.write(pub.plain);
  }
  services_.transport_metrics.ws_messages_out.add();
}

void WebSocketSession::send_control(ws::Opcode op, std::string_view payload) {
  uint8_t header[ws::kMaxHeaderSize];
  size_t header_size = ws::encode_header(header, op, payload.size(), /*fin=*/true, false);
  conn_.write_copy(std::string_view(reinterpret_cast<char*>(header), header_size), payload);
}

void WebSocketSession::send_close(uint16_t code, std::string_view reason) {
  std::string frame;
  ws::append_close(frame, code, reason);
  conn_.write(std::move(frame));
}

void WebSocketSession::close(uint16_t code, std::string_view reason) {
  if (state_ != State::kOpen || conn_.closing()) {
    return;
  }
  send_close(code, reason);
  close_code_ = code;
  end_.note(EndReason::kServerClosed);
  state_ = State::kCloseSent;
  conn_.set_timeout(services_.options.close_timeout_ms);
}

void WebSocketSession::fail(uint16_t code, std::string_view why) {
  if (state_ == State::kOpen) {
    send_close(code, why);
  }
  close_code_ = code;
  end_.note(EndReason::kProtocolError);
  state_ = State::kDone;
  handler_.on_error(*this, why);
  conn_.close_after_flush();
}

void WebSocketSession::on_message(ws::Opcode op, std::string_view payload) {
  if (state_ != State::kOpen) {
    return;  // after our close frame, data is read and dropped (RFC 6455 1.4)
  }
  services_.transport_metrics.ws_messages_in.add();
  services_.transport_metrics.ws_bytes_in.add(payload.size());
  handler_.on_message(*this, payload,
                      op == ws::Opcode::kBinary ? MessageType::kBinary : MessageType::kText);
}

void WebSocketSession::on_ping(std::string_view payload) {
  if (state_ == State::kOpen) {
    send_control(ws::Opcode::kPong, payload);
  }
}

void WebSocketSession::on_pong(std::string_view /*payload*/) { ping_outstanding_ = false; }

void WebSocketSession::on_close(uint16_t code, std::string_view /*reason*/) {
  if (state_ == State::kOpen) {
    // Echo the peer's code (an empty close is answered with an empty close), then the server
    // closes the TCP connection first, as RFC 6455 7.1.1 asks.
    send_close(code, {});
    close_code_ = code;
    end_.note(EndReason::kClientClosed);
  }
  state_ = State::kDone;
  conn_.close_after_flush();
}

void WebSocketSession::subscribe(std::string_view topic) {
  if (!conn_.closing()) {
    services_.topics.subscribe(this, topic);
  }
}

void WebSocketSession::unsubscribe(std::string_view topic) {
  services_.topics.unsubscribe(this, topic);
}

void WebSocketSession::publish(std::string_view topic, std::string_view data, MessageType type) {
  services_.transport_metrics.publications.add();
  services_.publish_topic(Publication::make(topic, data, type, conn_.id()));
}

void WebSocketSession::drain() {
  if (state_ == State::kOpen) {
    end_.note(EndReason::kShutdown);
  }
  close(ws::kCloseGoingAway, "server shutting down");
}

void WebSocketSession::on_timeout() {
  const ServerOptions& opt = services_.options;
  if (state_ != State::kOpen) {
    conn_.abort(net::CloseReason::kTimeout);  // the peer never answered our close frame
    return;
  }
  // One timer per connection, and no re-arming per message: each firing looks at how long the
  // peer has been silent. A ping goes out after ping_interval of silence; the peer is dropped if
  // nothing (pong or anything else) arrives within pong_timeout after it.
  uint64_t silent = conn_.loop().now_ms() - last_rx_ms_;
  uint64_t interval = opt.ping_interval_ms;
  if (ping_outstanding_) {
    uint64_t limit = interval + opt.pong_timeout_ms;
    if (silent >= limit) {
      services_.transport_metrics.ws_ping_timeouts.add();
      close_code_ = 1006;
      conn_.abort(net::CloseReason::kTimeout);
    } else {
      conn_.set_timeout(std::min(interval, limit - silent));
    }
    return;
  }
  if (silent >= interval) {
    send_control(ws::Opcode::kPing, {});
    ping_outstanding_ = true;
    conn_.set_timeout(std::min<uint64_t>(interval, opt.pong_timeout_ms));
  } else {
    conn_.set_timeout(interval - silent);
  }
}

void WebSocketSession::on_closed(net::CloseReason reason) {
  if (reason == net::CloseReason::kOutputLimit) {
    services_.transport_metrics.slow_disconnects.add();
    handler_.on_error(*this, "output queue over its limit: client too slow");
  }
  services_.topics.unsubscribe_all(this);
  services_.transport_metrics.websockets_open.sub();
  state_ = State::kDone;
  services_.client_closed(Kind::kWebSocket, conn_.id(), end_.reason(reason), close_code_,
                          conn_.opened_ms());
  handler_.on_close(*this, close_code_, {});
}

}  // namespace herald::transport
