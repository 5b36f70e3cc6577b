#include "server/connection.h"

#include <algorithm>
#include <arpa/inet.h>

#include <cstring>

#include "http/response.h"
#include "net/listener.h"
#include "server/loop_context.h"
#include "server/server_api.h"
#include "ws/frame.h"
#include "ws/handshake.h"

namespace herald::server {
namespace {

constexpr std::string_view kJson = "application/json";

// Scratch space for compressing one outgoing message; reused by every send() of the loop.
thread_local std::string t_compress_scratch;

}  // namespace

Connection::Connection(LoopContext& ctx, int fd, const sockaddr_storage& peer, uint64_t id)
    : net::Stream(ctx.loop, fd, ctx.core.options.max_output_bytes),
      ctx_(&ctx),
      id_(id),
      parser_(ctx.acquire_parser()) {
  std::memcpy(&peer_, &peer, sizeof(peer_));
  set_timeout(ctx.core.options.head_timeout_ms);
}

Connection::~Connection() = default;

std::string_view Connection::remote_address() const {
  thread_local std::string text;
  sockaddr_storage ss{};
  std::memcpy(&ss, &peer_, sizeof(peer_));
  text = net::format_endpoint(ss);
  return text;
}

std::string_view Connection::path() const {
  return phase_ == Phase::kWebSocket ? std::string_view(ctx_->core.routes[route_].path)
                                     : std::string_view();
}

size_t Connection::on_data(uint8_t* data, size_t size) {
  if (phase_ == Phase::kWebSocket) {
    return on_websocket(data, size);
  }
  return on_http(data, size);
}

// ---------------------------------------------------------------------------------------------
// HTTP

size_t Connection::on_http(uint8_t* data, size_t size) {
  size_t offset = 0;
  while (offset < size && !closing() && phase_ == Phase::kHttp && !last_request_ &&
         (held_ == nullptr || held_->size() < kMaxPipelined)) {
    if (!saw_request_bytes_) {
      // The idle keep-alive wait is over; the head now has head_timeout to arrive in full.
      saw_request_bytes_ = true;
      set_timeout(ctx_->core.options.head_timeout_ms);
    }
    std::string_view input(reinterpret_cast<const char*>(data) + offset, size - offset);
    http::Request& req = ctx_->request_scratch;
    http::RequestParser::Status st = parser_->parse(input, req);
    if (st == http::RequestParser::Status::kNeedMore) {
      return offset;  // keep the partial head; the parser remembers how far it looked
    }
    if (st == http::RequestParser::Status::kError) {
      ctx_->metrics.http_errors.add();
      std::string out;
      http::append_error_response(out, parser_->error());
      last_request_ = true;
      if (held_ != nullptr) {
        held_->push_back(HeldAnswer{next_ticket_++, true, false, std::move(out)});
        return size;  // after the answers still owed, then the close
      }
      write(std::move(out));
      close_after_flush();
      return size;
    }
    if (req.chunked) {
      // Backends send Content-Length (PHP's curl does); a chunked body is refused rather than
      // buffered without a known bound.
      ctx_->metrics.http_requests.add();
      last_request_ = true;
      respond(411, kJson, R"({"error":"send the body with Content-Length","status":411})", false);
      return size;
    }
    // The body (bounded by Limits::max_body, checked by the parser) must be here in full before
    // the request is routed; until then nothing is consumed and the parser's answer is sticky.
    size_t body_size = req.has_content_length ? static_cast<size_t>(req.content_length) : 0;
    if (size - offset < req.head_size + body_size) {
      return offset;
    }
    if (held_ != nullptr && ws::is_websocket_upgrade(req)) {
      // The 101 must not overtake the answers still owed: leave the upgrade in the input until
      // they are out (flush_held resumes the input then).
      parser_->reset();
      return offset;
    }
    ctx_->metrics.http_requests.add();
    std::string_view body(reinterpret_cast<const char*>(data) + offset + req.head_size, body_size);
    offset += req.head_size + body_size;
    parser_->reset();
    if (!route(req, body)) {
      return size;
    }
    if (!req.keep_alive) {
      last_request_ = true;
    }
    if (phase_ == Phase::kWebSocket) {
      // Frames may have arrived right behind the upgrade request.
      return offset + (offset < size ? on_websocket(data + offset, size - offset) : 0);
    }
    saw_request_bytes_ = false;
    if (held_ == nullptr) {
      set_timeout(ctx_->core.options.idle_timeout_ms);
    }
  }
  return closing() ? size : offset;
}

void Connection::respond(int status, std::string_view content_type, std::string_view body,
                         bool keep_alive, std::string_view extra_headers) {
  if (status >= 400) {
    ctx_->metrics.http_errors.add();
  }
  std::string out;
  http::append_response(out, status, content_type, body, keep_alive, extra_headers);
  if (held_ != nullptr) {
    held_->push_back(HeldAnswer{next_ticket_++, true, keep_alive, std::move(out)});
    return;  // written after the answers before it
  }
  write(std::move(out));
  if (!keep_alive) {
    close_after_flush();
  }
}

bool Connection::route(const http::Request& req, std::string_view body) {
  const ServerCore& core = ctx_->core;
  bool keep = req.keep_alive;
  bool get_like = req.method == http::Method::kGet || req.method == http::Method::kHead;
  for (size_t i = 0; i < core.routes.size(); ++i) {
    if (core.routes[i].path != req.path) {
      continue;
    }
    if (req.method != http::Method::kGet) {
      respond(405, kJson, R"({"error":"method not allowed","status":405})", false,
              "Allow: GET\r\n");
      return false;
    }
    if (!ws::is_websocket_upgrade(req)) {
      respond(426, kJson, R"({"error":"this path speaks WebSocket only","status":426})", keep,
              "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n");
      return keep;
    }
    upgrade(req, i);
    return !closing();
  }
  if (req.path.starts_with("/api/")) {
    handle_api(*this, *ctx_, req, body);
    return keep;
  }
  if (req.path == "/health" || req.path == "/metrics") {
    if (!get_like) {
      respond(405, kJson, R"({"error":"method not allowed","status":405})", false,
              "Allow: GET, HEAD\r\n");
      return false;
    }
    if (req.path == "/health") {
      respond(200, kJson, R"({"status":"ok"})", keep);
    } else {
      respond(200, "text/plain; version=0.0.4; charset=utf-8", core.metrics_text(), keep);
    }
    return keep;
  }
  respond(404, kJson, R"({"error":"not found","status":404})", keep);
  return keep;
}

void Connection::upgrade(const http::Request& req, size_t route_id) {
  ws::HandshakeConfig config;
  config.deflate = ctx_->core.deflate;
  ws::Handshake hs = ws::accept_upgrade(req, config);
  write(std::move(hs.response));
  if (hs.error != ws::HandshakeError::kNone) {
    ctx_->metrics.http_errors.add();
    close_after_flush();
    return;
  }
  const ServerOptions& opt = ctx_->core.options;
  route_ = static_cast<uint16_t>(route_id);
  phase_ = Phase::kWebSocket;
  ctx_->release_parser(std::move(parser_));
  deflate_ = hs.deflate;
  ws::Inflater* inflater = nullptr;
  if (deflate_) {
    if (deflate_->client_no_context_takeover) {
      inflater = &ctx_->shared_inflater(*deflate_);
    } else {
      own_inflater_ = std::make_unique<ws::Inflater>(*deflate_, opt.max_message_size);
      inflater = own_inflater_.get();
    }
  }
  ws::ReceiverLimits limits;
  limits.max_frame_payload = opt.max_message_size;
  limits.max_message = opt.max_message_size;
  receiver_.emplace(limits, inflater);
  handler_ = ctx_->handlers[route_id].get();
  ctx_->metrics.websockets_open.add();
  last_rx_ms_ = loop().now_ms();
  set_timeout(opt.ping_interval_ms);
  handler_->on_open(*this);
}

uint64_t Connection::begin_async() {
  if (held_ == nullptr) {
    held_ = std::make_unique<std::deque<HeldAnswer>>();
    ctx_->async_waiting[id_] = this;
    set_timeout(ctx_->core.options.head_timeout_ms);  // the broker answers well within this
  }
  uint64_t ticket = next_ticket_++;
  held_->push_back(HeldAnswer{ticket, false, true, {}});
  return ticket;
}

void Connection::answer_async(uint64_t ticket, int status, std::string_view content_type,
                              std::string_view body, bool keep_alive) {
  if (held_ == nullptr) {
    return;
  }
  // Tickets are handed out in the order of held_, one apart, so the position is a subtraction.
  uint64_t first = held_->front().ticket;
  if (ticket < first || ticket - first >= held_->size()) {
    return;  // dropped with the rest after a Connection: close answer
  }
  HeldAnswer& a = (*held_)[ticket - first];
  if (status >= 400) {
    ctx_->metrics.http_errors.add();
  }
  http::append_response(a.bytes, status, content_type, body, keep_alive, {});
  a.keep_alive = keep_alive;
  a.ready = true;
  flush_held();
}

void Connection::flush_held() {
  bool wrote = false;
  while (!held_->empty() && held_->front().ready) {
    HeldAnswer a = std::move(held_->front());
    held_->pop_front();
    write(std::move(a.bytes));
    wrote = true;
    if (!a.keep_alive) {
      close_after_flush();  // the answers after it belong to requests never read
      held_->clear();
      break;
    }
  }
  if (held_->empty()) {
    held_.reset();
    ctx_->async_waiting.erase(id_);
    if (!closing()) {
      set_timeout(ctx_->core.options.idle_timeout_ms);
    }
  }
  if (wrote && !closing()) {
    resume_input();  // parsing may have stopped at kMaxPipelined, or at an upgrade
  }
}

bool Connection::peer_is_loopback() const {
  if (peer_.sin6_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&peer_);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  static const in6_addr kLoopback6 = IN6ADDR_LOOPBACK_INIT;
  return std::memcmp(&peer_.sin6_addr, &kLoopback6, sizeof(kLoopback6)) == 0;
}

// ---------------------------------------------------------------------------------------------
// WebSocket

size_t Connection::on_websocket(uint8_t* data, size_t size) {
  last_rx_ms_ = loop().now_ms();
  ping_outstanding_ = false;
  if (ws_state_ == WsState::kDone) {
    return size;
  }
  size_t used = receiver_->consume(data, size, *this);
  if (receiver_->error() != ws::ReceiveError::kNone && ws_state_ != WsState::kDone) {
    ctx_->metrics.ws_protocol_errors.add();
    fail_websocket(ws::close_code_for(receiver_->error()), ws::to_string(receiver_->error()));
    return size;
  }
  return closing() ? size : used;
}

bool Connection::deflate_this(size_t size) const {
  return deflate_.has_value() && size >= ctx_->core.options.deflate_min_size;
}

SendStatus Connection::send(std::string_view data, MessageType type) {
  if (phase_ != Phase::kWebSocket || ws_state_ != WsState::kOpen || closing()) {
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
    ctx_->deflater(deflate_->server_max_window_bits).deflate_message(data, scratch);
    payload = scratch;
  }
  uint8_t header[ws::kMaxHeaderSize];
  size_t header_size = ws::encode_header(header, op, payload.size(), /*fin=*/true, compressed);
  if (!write_copy(std::string_view(reinterpret_cast<char*>(header), header_size), payload)) {
    return SendStatus::kDropped;
  }
  ctx_->metrics.ws_messages_out.add();
  size_t high_water = std::min<size_t>(1 << 20, ctx_->core.options.max_output_bytes / 2);
  return buffered_bytes() > high_water ? SendStatus::kBackpressure : SendStatus::kOk;
}

void Connection::deliver(const Publication& pub) {
  if (pub.exclude_id == id_ || ws_state_ != WsState::kOpen || closing()) {
    return;
  }
  if (deflate_this(pub.payload().size())) {
    int bits = deflate_->server_max_window_bits;
    write(pub.deflated(bits, ctx_->deflater(bits)));
  } else {
    write(pub.plain);
  }
  ctx_->metrics.ws_messages_out.add();
}

void Connection::send_control(ws::Opcode op, std::string_view payload) {
  uint8_t header[ws::kMaxHeaderSize];
  size_t header_size = ws::encode_header(header, op, payload.size(), /*fin=*/true, false);
  write_copy(std::string_view(reinterpret_cast<char*>(header), header_size), payload);
}

void Connection::send_close(uint16_t code, std::string_view reason) {
  std::string frame;
  ws::append_close(frame, code, reason);
  write(std::move(frame));
}

void Connection::close(uint16_t code, std::string_view reason) {
  if (phase_ != Phase::kWebSocket) {
    close_after_flush();
    return;
  }
  if (ws_state_ != WsState::kOpen || closing()) {
    return;
  }
  send_close(code, reason);
  close_code_ = code;
  ws_state_ = WsState::kCloseSent;
  set_timeout(ctx_->core.options.close_timeout_ms);
}

void Connection::fail_websocket(uint16_t code, std::string_view why) {
  if (ws_state_ == WsState::kOpen) {
    send_close(code, why);
  }
  close_code_ = code;
  ws_state_ = WsState::kDone;
  if (handler_ != nullptr) {
    handler_->on_error(*this, why);
  }
  close_after_flush();
}

void Connection::on_message(ws::Opcode op, std::string_view payload) {
  if (ws_state_ != WsState::kOpen) {
    return;  // after our close frame, data is read and dropped (RFC 6455 1.4)
  }
  ctx_->metrics.ws_messages_in.add();
  ctx_->metrics.ws_bytes_in.add(payload.size());
  handler_->on_message(*this, payload,
                       op == ws::Opcode::kBinary ? MessageType::kBinary : MessageType::kText);
}

void Connection::on_ping(std::string_view payload) {
  if (ws_state_ == WsState::kOpen) {
    send_control(ws::Opcode::kPong, payload);
  }
}

void Connection::on_pong(std::string_view /*payload*/) { ping_outstanding_ = false; }

void Connection::on_close(uint16_t code, std::string_view /*reason*/) {
  if (ws_state_ == WsState::kOpen) {
    // Echo the peer's code (an empty close is answered with an empty close), then the server
    // closes the TCP connection first, as RFC 6455 7.1.1 asks.
    send_close(code, {});
    close_code_ = code;
  }
  ws_state_ = WsState::kDone;
  close_after_flush();
}

void Connection::subscribe(std::string_view topic) {
  if (!closing()) {
    ctx_->topics.subscribe(this, topic);
  }
}

void Connection::unsubscribe(std::string_view topic) {
  ctx_->topics.unsubscribe(this, topic);
}

void Connection::publish(std::string_view topic, std::string_view data, MessageType type) {
  ctx_->metrics.publications.add();
  ctx_->core.publish(Publication::make(topic, data, type, id_));
}

// ---------------------------------------------------------------------------------------------
// Lifetime

void Connection::drain() {
  if (phase_ == Phase::kWebSocket) {
    close(ws::kCloseGoingAway, "server shutting down");
  } else if (!saw_request_bytes_) {
    close_after_flush();
  }
  // An HTTP request in progress gets its answer; Connection: close is not forced here because the
  // drain deadline bounds it anyway.
}

void Connection::on_tls_handshake() { ctx_->metrics.tls_handshakes.add(); }

void Connection::on_timeout() {
  const ServerOptions& opt = ctx_->core.options;
  if (phase_ == Phase::kHttp) {
    // The head timeout, armed at accept, bounds the TLS handshake and the first head together.
    if (tls_handshake_pending()) {
      ctx_->metrics.tls_handshake_errors.add();
    } else if (saw_request_bytes_) {
      ctx_->metrics.head_timeouts.add();
    }
    abort(net::CloseReason::kTimeout);
    return;
  }
  if (ws_state_ != WsState::kOpen) {
    abort(net::CloseReason::kTimeout);  // the peer never answered our close frame
    return;
  }
  // One timer per connection, and no re-arming per message: each firing looks at how long the
  // peer has been silent. A ping goes out after ping_interval of silence; the peer is dropped if
  // nothing (pong or anything else) arrives within pong_timeout after it.
  uint64_t silent = loop().now_ms() - last_rx_ms_;
  uint64_t interval = opt.ping_interval_ms;
  if (ping_outstanding_) {
    uint64_t limit = interval + opt.pong_timeout_ms;
    if (silent >= limit) {
      ctx_->metrics.ws_ping_timeouts.add();
      close_code_ = 1006;
      abort(net::CloseReason::kTimeout);
    } else {
      set_timeout(std::min(interval, limit - silent));
    }
    return;
  }
  if (silent >= interval) {
    send_control(ws::Opcode::kPing, {});
    ping_outstanding_ = true;
    set_timeout(std::min<uint64_t>(interval, opt.pong_timeout_ms));
  } else {
    set_timeout(interval - silent);
  }
}

void Connection::on_closed(net::CloseReason reason) {
  if (reason == net::CloseReason::kTlsError) {
    if (tls_handshake_pending()) {
      ctx_->metrics.tls_handshake_errors.add();
    } else {
      ctx_->metrics.tls_errors.add();
    }
  }
  if (reason == net::CloseReason::kOutputLimit) {
    ctx_->metrics.ws_slow_disconnects.add();
    if (handler_ != nullptr) {
      handler_->on_error(*this, "output queue over its limit: client too slow");
    }
  }
  ctx_->topics.unsubscribe_all(this);
  ctx_->async_waiting.erase(id_);
  ctx_->release_parser(std::move(parser_));
  if (phase_ == Phase::kWebSocket) {
    ctx_->metrics.websockets_open.sub();
    ws_state_ = WsState::kDone;
    handler_->on_close(*this, close_code_, {});
  }
  ctx_->remove_connection(this);
}

}  // namespace herald::server
