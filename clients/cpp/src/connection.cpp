#include "herald/client/connection.h"

#include <cerrno>
#include <cstring>

#include "herald/client/deflate.h"
#include "herald/client/loop.h"

namespace herald::client {

std::string_view to_string(CloseCause cause) {
  switch (cause) {
    case CloseCause::kNone:
      return "open";
    case CloseCause::kConnectFailed:
      return "connect failed";
    case CloseCause::kTlsFailed:
      return "TLS failed";
    case CloseCause::kHandshakeFailed:
      return "handshake failed";
    case CloseCause::kProtocolError:
      return "protocol error";
    case CloseCause::kClosed:
      return "closed";
    case CloseCause::kConnectionLost:
      return "connection lost";
    case CloseCause::kAborted:
      return "aborted";
  }
  return "unknown";
}

std::string CloseInfo::describe() const {
  std::string out(to_string(cause));
  switch (cause) {
    case CloseCause::kConnectFailed:
    case CloseCause::kConnectionLost:
      if (sys_errno != 0) {
        out += ": ";
        out += std::strerror(sys_errno);
      }
      break;
    case CloseCause::kHandshakeFailed:
      out += ": ";
      out += to_string(handshake_error);
      if (http_status != 0) {
        out += " (HTTP " + std::to_string(http_status) + ")";
      }
      break;
    case CloseCause::kProtocolError:
      out += ": ";
      out += to_string(frame_error);
      break;
    case CloseCause::kTlsFailed:
      out += ": ";
      out += tls_error;
      break;
    case CloseCause::kClosed:
      out += " with code " + std::to_string(code);
      if (!reason.empty()) {
        out += " (" + std::string(reason) + ")";
      }
      break;
    default:
      break;
  }
  return out;
}

Connection::Connection(Loop& loop, ConnectionHandler& handler, ConnectionOptions options)
    : loop_(loop),
      handler_(handler),
      options_(std::move(options)),
      socket_(loop, *this),
      parser_(options_.max_message_size) {}

Connection::~Connection() = default;  // the socket closes itself without a callback

bool Connection::start(const Endpoint& endpoint, const ServerUrl& url) {
  if (state_ != State::kIdle) {
    last_errno_ = EISCONN;
    return false;
  }
  if (!url.websocket() || (url.tls() && options_.tls == nullptr)) {
    last_errno_ = EINVAL;
    return false;
  }
  // ALPN http/1.1 over TLS: a server that speaks several protocols on its port knows ours.
  const TlsClientContext* tls = url.tls() ? options_.tls.get() : nullptr;
  if (!socket_.connect(endpoint, tls, url.host, tls != nullptr ? "http/1.1" : "")) {
    last_errno_ = socket_.last_errno();
    return false;
  }
  std::string key = make_websocket_key();
  UpgradeOptions up;
  up.offer_deflate = options_.offer_deflate;
  up.origin = options_.origin;
  request_ = build_upgrade_request(url, key, up);
  handshake_ =
      std::make_unique<HandshakeResponseParser>(compute_accept_key(key), options_.offer_deflate);
  state_ = State::kConnecting;
  return true;
}

void Connection::on_socket_open(Socket& socket) {
  state_ = State::kHandshaking;
  socket.write(request_);
  request_.clear();
  request_.shrink_to_fit();
}

void Connection::on_socket_data(Socket& /*socket*/, std::string_view data) {
  consume(data);
}

void Connection::on_socket_end(Socket& /*socket*/, const SocketEnd& end) {
  if (state_ == State::kClosed) {
    return;
  }
  CloseInfo info;
  info.sys_errno = end.sys_errno;
  switch (end.kind) {
    case SocketEnd::Kind::kConnectFailed:
      info.cause = CloseCause::kConnectFailed;
      break;
    case SocketEnd::Kind::kTlsFailed:
      info.cause = CloseCause::kTlsFailed;
      info.tls_error = end.tls_error;
      break;
    case SocketEnd::Kind::kEof:
    case SocketEnd::Kind::kError:
      if (close_received_) {
        info.cause = CloseCause::kClosed;
        info.code = close_code_;
        info.reason = close_reason_;
      } else if (state_ == State::kHandshaking) {
        info.cause = CloseCause::kHandshakeFailed;
        info.handshake_error = HandshakeError::kBadStatusLine;
      } else {
        info.cause = CloseCause::kConnectionLost;
      }
      break;
  }
  finish(info);
}

void Connection::consume(std::string_view data) {
  if (state_ == State::kHandshaking) {
    size_t used = 0;
    auto status = handshake_->parse(data, &used);
    if (status == HandshakeResponseParser::Status::kNeedMore) {
      return;
    }
    if (status == HandshakeResponseParser::Status::kError) {
      CloseInfo info;
      info.cause = CloseCause::kHandshakeFailed;
      info.handshake_error = handshake_->error();
      info.http_status = handshake_->status_code();
      finish(info);
      return;
    }
    if (handshake_->deflate_accepted()) {
      const DeflateParams& p = handshake_->deflate_params();
      parser_.set_allow_compression(true);
      inflater_ =
          std::make_unique<Inflater>(p.server_max_window_bits, p.server_no_context_takeover);
      // zlib cannot make a raw 256-byte window; uncompressed frames are always allowed.
      if (p.client_max_window_bits >= 9) {
        deflater_ =
            std::make_unique<Deflater>(p.client_max_window_bits, p.client_no_context_takeover);
      }
    }
    handshake_.reset();
    data.remove_prefix(used);
    state_ = State::kOpen;
    handler_.on_open(*this);
  }
  while (!data.empty() && (state_ == State::kOpen || state_ == State::kClosing)) {
    if (close_received_) {
      return;  // nothing may follow a close frame
    }
    size_t used = 0;
    FrameEvent ev = parser_.parse(data, &used);
    data.remove_prefix(used);
    if (ev.kind == FrameEvent::Kind::kNeedMore) {
      return;
    }
    dispatch(ev);
  }
}

void Connection::dispatch(const FrameEvent& ev) {
  switch (ev.kind) {
    case FrameEvent::Kind::kMessage: {
      std::string_view payload = ev.payload;
      if (ev.compressed) {
        FrameError err = inflater_->inflate_message(payload, options_.max_message_size, inflated_);
        if (err != FrameError::kNone) {
          fail_protocol(err);
          return;
        }
        payload = inflated_;
      }
      if (ev.opcode == Opcode::kText && options_.validate_utf8 && !is_valid_utf8(payload)) {
        fail_protocol(FrameError::kInvalidUtf8);
        return;
      }
      handler_.on_message(*this, ev.opcode, payload);
      return;
    }
    case FrameEvent::Kind::kPing:
      if (!close_sent_) {
        queue_frame(Opcode::kPong, ev.payload);
      }
      return;
    case FrameEvent::Kind::kPong:
      handler_.on_pong(*this, ev.payload);
      return;
    case FrameEvent::Kind::kClose:
      close_received_ = true;
      close_code_ = ev.close_code;
      close_reason_.assign(ev.payload);
      if (!close_sent_) {
        // Echo the code (RFC 6455 5.5.1); the server then closes TCP.
        std::string reply;
        if (close_code_ != 1005) {
          reply = make_close_payload(close_code_, {});
        }
        queue_frame(Opcode::kClose, reply);
        close_sent_ = true;
      }
      state_ = State::kClosing;
      return;
    case FrameEvent::Kind::kError:
      fail_protocol(ev.error);
      return;
    case FrameEvent::Kind::kNeedMore:
      return;
  }
}

void Connection::queue_frame(Opcode opcode, std::string_view payload, bool rsv1) {
  append_client_frame(socket_.output(), opcode, payload, loop_.next_mask(), true, rsv1);
  socket_.mark_dirty();
}

bool Connection::send(Opcode opcode, std::string_view payload) {
  if (state_ != State::kOpen || close_sent_ || buffered_bytes() > options_.max_output_bytes) {
    return false;
  }
  bool control = (static_cast<uint8_t>(opcode) & 0x08) != 0;
  if (control && payload.size() > kMaxControlPayload) {
    return false;
  }
  if (opcode == Opcode::kClose || opcode == Opcode::kContinuation) {
    return false;  // close() owns the close frame; fragmentation is not offered
  }
  if (deflater_ != nullptr && !control) {
    if (!deflater_->deflate_message(payload, deflated_)) {
      return false;
    }
    queue_frame(opcode, deflated_, true);
    return true;
  }
  queue_frame(opcode, payload);
  return true;
}

void Connection::close(uint16_t code, std::string_view reason) {
  if (state_ != State::kOpen || close_sent_) {
    if (state_ == State::kConnecting || state_ == State::kHandshaking) {
      abort();
    }
    return;
  }
  queue_frame(Opcode::kClose, make_close_payload(code, reason));
  close_sent_ = true;
  state_ = State::kClosing;
}

void Connection::abort() {
  if (state_ == State::kClosed || state_ == State::kIdle) {
    return;
  }
  CloseInfo info;
  info.cause = CloseCause::kAborted;
  finish(info);
}

void Connection::fail_protocol(FrameError error) {
  if (!close_sent_) {
    // Best effort: one attempt to tell the server why, then the socket goes.
    std::string payload = make_close_payload(close_code_for(error), to_string(error));
    queue_frame(Opcode::kClose, payload);
    close_sent_ = true;
    socket_.flush();
    if (state_ == State::kClosed) {
      return;  // the write failed: on_close has been called
    }
  }
  CloseInfo info;
  info.cause = CloseCause::kProtocolError;
  info.frame_error = error;
  info.code = close_code_for(error);
  finish(info);
}

void Connection::finish(CloseInfo info) {
  if (state_ == State::kClosed) {
    return;
  }
  state_ = State::kClosed;
  socket_.close();
  request_.clear();
  request_.shrink_to_fit();
  handshake_.reset();
  handler_.on_close(*this, info);
}

}  // namespace herald::client
