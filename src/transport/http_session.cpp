#include "transport/http_session.h"

#include "http/response.h"
#include "transport/loop_services.h"
#include "transport/websocket.h"
#include "ws/handshake.h"

namespace herald::transport {
namespace {

constexpr std::string_view kJson = "application/json";

}  // namespace

HttpSession::HttpSession(Connection& conn) : conn_(conn), services_(conn.services()) {
  conn_.set_timeout(services_.options.head_timeout_ms);
}

HttpSession::~HttpSession() {
  services_.async_waiting.erase(conn_.id());
  services_.release_parser(std::move(parser_));
}

size_t HttpSession::on_data(uint8_t* data, size_t size) {
  size_t offset = 0;
  if (parser_ == nullptr) {
    parser_ = services_.acquire_parser();
  }
  while (offset < size && !conn_.closing() && !last_request_ && held_.size() < kMaxPipelined) {
    if (!saw_request_bytes_) {
      // The idle keep-alive wait is over; the head now has head_timeout to arrive in full.
      saw_request_bytes_ = true;
      conn_.set_timeout(services_.options.head_timeout_ms);
    }
    std::string_view input(reinterpret_cast<const char*>(data) + offset, size - offset);
    http::Request& req = services_.request_scratch;
    http::RequestParser::Status st = parser_->parse(input, req);
    if (st == http::RequestParser::Status::kNeedMore) {
      return offset;  // keep the partial head; the parser remembers how far it looked
    }
    if (st == http::RequestParser::Status::kError) {
      services_.transport_metrics.http_errors.add();
      int status = http::status_for(parser_->error());
      if (status == 413 || status == 414 || status == 431) {
        services_.transport_metrics.head_limit_refusals.add();
      }
      std::string out;
      http::append_error_response(out, parser_->error());
      last_request_ = true;
      if (!held_.empty()) {
        held_.push_back(HeldAnswer{next_ticket_++, true, false, std::move(out)});
        return size;  // after the answers still owed, then the close
      }
      conn_.write(std::move(out));
      conn_.close_after_flush();
      return size;
    }
    if (req.chunked) {
      // Backends send Content-Length (PHP's curl does); a chunked body is refused rather than
      // buffered without a known bound.
      services_.transport_metrics.http_requests.add();
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
    if (!held_.empty() && ws::is_websocket_upgrade(req)) {
      // The 101 must not overtake the answers still owed: leave the upgrade in the input until
      // they are out (flush_held resumes the input then).
      parser_->reset();
      return offset;
    }
    services_.transport_metrics.http_requests.add();
    std::string_view body(reinterpret_cast<const char*>(data) + offset + req.head_size, body_size);
    offset += req.head_size + body_size;
    parser_->reset();
    bool keep = req.keep_alive;
    services_.route(*this, req, body);
    if (upgraded_) {
      // This object is retired: frames may have arrived right behind the upgrade request.
      return offset + (offset < size ? conn_.mode()->on_data(data + offset, size - offset) : 0);
    }
    if (!keep) {
      last_request_ = true;
    }
    if (conn_.closing()) {
      return size;
    }
    saw_request_bytes_ = false;
    if (held_.empty()) {
      conn_.set_timeout(services_.options.idle_timeout_ms);
    }
  }
  if (conn_.closing()) {
    return size;
  }
  release_parser_if_idle(offset, size);
  return offset;
}

void HttpSession::release_parser_if_idle(size_t consumed, size_t size) {
  if (consumed == size && !saw_request_bytes_) {
    services_.release_parser(std::move(parser_));
    parser_ = nullptr;
  }
}

void HttpSession::respond(int status, std::string_view content_type, std::string_view body,
                          bool keep_alive, std::string_view extra_headers) {
  if (status >= 400) {
    services_.transport_metrics.http_errors.add();
  }
  std::string out;
  http::append_response(out, status, content_type, body, keep_alive, extra_headers);
  write_answer(std::move(out), keep_alive);
}

void HttpSession::respond_head(int status, std::string_view content_type, size_t content_length,
                               bool keep_alive, std::string_view extra_headers) {
  if (status >= 400) {
    services_.transport_metrics.http_errors.add();
  }
  std::string out;
  http::append_response_head(out, status, content_type, content_length, keep_alive, extra_headers);
  write_answer(std::move(out), keep_alive);
}

void HttpSession::write_answer(std::string bytes, bool keep_alive) {
  if (!keep_alive) {
    last_request_ = true;
  }
  if (!held_.empty()) {
    held_.push_back(HeldAnswer{next_ticket_++, true, keep_alive, std::move(bytes)});
    return;  // written after the answers before it
  }
  conn_.write(std::move(bytes));
  if (!keep_alive) {
    conn_.close_after_flush();
  }
}

void HttpSession::upgrade_websocket(const http::Request& req, Handler& handler,
                                    std::string_view path,
                                    const std::vector<std::string_view>& subprotocols) {
  ws::HandshakeConfig config;
  config.deflate = services_.deflate_config;
  config.subprotocols = subprotocols;
  ws::Handshake hs = ws::accept_upgrade(req, config);
  conn_.write(std::move(hs.response));
  if (hs.error != ws::HandshakeError::kNone) {
    services_.transport_metrics.http_errors.add();
    last_request_ = true;
    conn_.close_after_flush();
    return;
  }
  upgraded_ = true;
  auto session = std::make_unique<WebSocketSession>(conn_, handler, path, hs.deflate);
  WebSocketSession* ws = session.get();
  conn_.become(std::move(session));  // this object now lives until the callback returns
  ws->open();
}

void HttpSession::start_sse(std::string session_id, std::vector<SseStream::Position> positions,
                            std::string_view commands, std::string_view extra_headers) {
  upgraded_ = true;
  last_request_ = true;
  auto stream = std::make_unique<SseStream>(conn_, std::move(session_id), std::move(positions));
  SseStream* sse = stream.get();
  conn_.become(std::move(stream));  // this object now lives until the callback returns
  sse->open(commands, extra_headers);
}

void HttpSession::hand_over(std::unique_ptr<Mode> mode) {
  upgraded_ = true;
  last_request_ = true;
  conn_.become(std::move(mode));  // this object now lives until the callback returns
}

uint64_t HttpSession::begin_async(uint32_t timeout_ms) {
  if (held_.empty()) {
    services_.async_waiting[conn_.id()] = this;
    // The broker answers well within head_timeout; a held poll says how long it may take.
    conn_.set_timeout(timeout_ms != 0 ? timeout_ms : services_.options.head_timeout_ms);
  } else if (timeout_ms != 0) {
    conn_.set_timeout(timeout_ms);
  }
  uint64_t ticket = next_ticket_++;
  held_.push_back(HeldAnswer{ticket, false, true, {}});
  return ticket;
}

void HttpSession::answer_async(uint64_t ticket, int status, std::string_view content_type,
                               std::string_view body, bool keep_alive,
                               std::string_view extra_headers) {
  if (held_.empty()) {
    return;
  }
  // Tickets are handed out in the order of held_, one apart, so the position is a subtraction.
  uint64_t first = held_.front().ticket;
  if (ticket < first || ticket - first >= held_.size()) {
    return;  // dropped with the rest after a Connection: close answer
  }
  HeldAnswer& a = held_[ticket - first];
  if (status >= 400) {
    services_.transport_metrics.http_errors.add();
  }
  http::append_response(a.bytes, status, content_type, body, keep_alive, extra_headers);
  a.keep_alive = keep_alive;
  a.ready = true;
  flush_held();
}

void HttpSession::flush_held() {
  size_t written = 0;
  bool close = false;
  while (written < held_.size() && held_[written].ready) {
    HeldAnswer& a = held_[written++];
    conn_.write(std::move(a.bytes));
    if (!a.keep_alive) {
      conn_.close_after_flush();  // the answers after it belong to requests never read
      close = true;
      break;
    }
  }
  if (close) {
    held_.clear();
  } else {
    held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(written));
  }
  if (held_.empty()) {
    if (held_.capacity() > 4) {
      std::vector<HeldAnswer>().swap(held_);  // a burst of pipelining: give the memory back
    }
    services_.async_waiting.erase(conn_.id());
    if (!conn_.closing()) {
      conn_.set_timeout(services_.options.idle_timeout_ms);
    }
  }
  if (written > 0 && !conn_.closing()) {
    conn_.resume_input();  // parsing may have stopped at kMaxPipelined, or at an upgrade
  }
}

void HttpSession::drain() {
  if (!saw_request_bytes_ && held_.empty()) {
    conn_.close_after_flush();
  }
  // A request in progress gets its answer; Connection: close is not forced here because the
  // drain deadline bounds it anyway.
}

void HttpSession::on_timeout() {
  // The head timeout, armed at accept, bounds the TLS handshake and the first head together.
  if (conn_.tls_handshake_pending()) {
    services_.transport_metrics.tls_handshake_errors.add();
  } else if (saw_request_bytes_) {
    services_.transport_metrics.head_timeouts.add();
  }
  conn_.abort(net::CloseReason::kTimeout);
}

void HttpSession::on_closed(net::CloseReason /*reason*/) {
  services_.async_waiting.erase(conn_.id());
}

}  // namespace herald::transport
