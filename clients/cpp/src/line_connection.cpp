#include "herald/client/line_connection.h"

#include <cerrno>

namespace herald::client {

LineConnection::LineConnection(Loop& loop, LineHandler& handler, LineOptions options)
    : handler_(handler),
      options_(std::move(options)),
      socket_(loop, *this),
      lines_(options_.max_line) {}

LineConnection::~LineConnection() = default;  // the socket closes itself without a callback

bool LineConnection::start(const Endpoint& endpoint, const ServerUrl& url) {
  if (state_ != State::kIdle) {
    last_errno_ = EISCONN;
    return false;
  }
  bool tls = url.scheme == Scheme::kTls;
  if (!(tls || url.scheme == Scheme::kTcp) || (tls && options_.tls == nullptr)) {
    last_errno_ = EINVAL;
    return false;
  }
  // No ALPN: the server's TLS port answers none to a client that offers none.
  if (!socket_.connect(endpoint, tls ? options_.tls.get() : nullptr, url.host)) {
    last_errno_ = socket_.last_errno();
    return false;
  }
  state_ = State::kConnecting;
  return true;
}

bool LineConnection::send_lines(std::string_view lines) {
  if ((state_ != State::kOpen && state_ != State::kConnecting) ||
      socket_.buffered() > options_.max_output_bytes) {
    return false;
  }
  std::string& out = socket_.output();
  out.append(lines);
  out.push_back('\n');
  socket_.mark_dirty();
  return true;
}

void LineConnection::close() {
  if (state_ == State::kConnecting) {
    abort();
    return;
  }
  if (state_ == State::kOpen) {
    state_ = State::kClosing;
    socket_.shutdown_write();
  }
}

void LineConnection::abort() {
  if (state_ == State::kIdle || state_ == State::kClosed) {
    return;
  }
  CloseInfo info;
  info.cause = CloseCause::kAborted;
  finish(info);
}

void LineConnection::on_socket_open(Socket& /*socket*/) {
  state_ = State::kOpen;
  handler_.on_open(*this);
}

void LineConnection::on_socket_data(Socket& socket, std::string_view data) {
  bool ok = lines_.feed(data, [&](std::string_view line) {
    if (line.empty()) {
      ++keepalives_;
      if (state_ == State::kOpen) {
        socket.write("\n");
      }
      return true;
    }
    handler_.on_line(*this, line);
    return state_ == State::kOpen || state_ == State::kClosing;
  });
  if (!ok && state_ != State::kClosed) {
    CloseInfo info;
    info.cause = CloseCause::kProtocolError;
    info.frame_error = FrameError::kMessageTooLarge;
    info.code = close_code_for(FrameError::kMessageTooLarge);
    finish(info);
  }
}

void LineConnection::on_socket_end(Socket& /*socket*/, const SocketEnd& end) {
  if (state_ == State::kClosed) {
    return;
  }
  bool asked = state_ == State::kClosing;
  state_ = State::kClosed;
  last_errno_ = end.sys_errno;
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
      info.cause = asked && end.kind == SocketEnd::Kind::kEof ? CloseCause::kClosed
                                                              : CloseCause::kConnectionLost;
      info.code = info.cause == CloseCause::kClosed ? 1000 : 1006;
      break;
  }
  handler_.on_close(*this, info);
}

void LineConnection::finish(CloseInfo info) {
  if (state_ == State::kClosed || state_ == State::kIdle) {
    return;
  }
  state_ = State::kClosed;
  socket_.close();
  handler_.on_close(*this, info);
}

}  // namespace herald::client
