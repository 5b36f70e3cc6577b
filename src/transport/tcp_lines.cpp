#include "transport/tcp_lines.h"

#include <algorithm>

#include "transport/loop_services.h"
#include "transport/topics.h"

namespace herald::transport {

TcpLines::TcpLines(Connection& conn)
    : conn_(conn),
      services_(conn.services()),
      endpoint_(services_.protocol_endpoint()),
      reader_(services_.options.max_message_size) {}

TcpLines::~TcpLines() = default;

void TcpLines::open() {
  services_.transport_metrics.tcp_open.add();
  last_rx_ms_ = conn_.loop().now_ms();
  conn_.set_timeout(services_.options.ping_interval_ms);
  services_.client_opened(Kind::kTcp, conn_.id(), conn_.remote_address(), {});
  endpoint_.on_open(*this);
}

size_t TcpLines::on_data(uint8_t* data, size_t size) {
  last_rx_ms_ = conn_.loop().now_ms();
  ping_outstanding_ = false;
  if (!open_) {
    return size;
  }
  size_t used = reader_.consume(data, size, [this](std::string_view line) {
    services_.transport_metrics.tcp_lines_in.add();
    if (!line.empty()) {
      endpoint_.on_text(*this, line);
    }
    return open_ && !conn_.closing();
  });
  if (reader_.error() != LineReader::Error::kNone && open_) {
    services_.transport_metrics.tcp_line_errors.add();
    end_.note(EndReason::kProtocolError);
    if (reader_.error() == LineReader::Error::kTooLong) {
      services_.transport_metrics.message_size_refusals.add();
    }
    endpoint_.on_bad_input(*this, LineReader::describe(reader_.error()));
    close(0, {});  // in case the endpoint did not
    return size;
  }
  return conn_.closing() ? size : used;
}

void TcpLines::send_text(std::string_view lines) {
  if (open_ && conn_.write_copy(lines, "\n")) {
    services_.transport_metrics.tcp_lines_out.add();
  }
}

void TcpLines::send_shared(const Publication& pushes, const PushPositions& /*at*/) {
  if (open_ && conn_.write(pushes.line())) {
    services_.transport_metrics.tcp_lines_out.add();
  }
}

void TcpLines::close(uint16_t code, std::string_view /*reason*/) {
  if (!open_) {
    return;
  }
  end_.note(EndReason::kServerClosed);
  close_code_ = code;
  open_ = false;  // the code travelled in the disconnect push; a socket has nothing to carry it
  conn_.close_after_flush();
}

void TcpLines::drain() {
  if (open_) {
    end_.note(EndReason::kShutdown);
    endpoint_.on_going_away(*this);
    close(0, {});
  }
}

void TcpLines::on_timeout() {
  if (!open_) {
    return;  // close_after_flush bounds the rest
  }
  const ServerOptions& opt = services_.options;
  uint64_t silent = conn_.loop().now_ms() - last_rx_ms_;
  uint64_t interval = opt.ping_interval_ms;
  if (ping_outstanding_) {
    uint64_t limit = interval + opt.pong_timeout_ms;
    if (silent >= limit) {
      services_.transport_metrics.tcp_ping_timeouts.add();
      conn_.abort(net::CloseReason::kTimeout);
    } else {
      conn_.set_timeout(std::min(interval, limit - silent));
    }
    return;
  }
  if (silent >= interval) {
    conn_.write_copy("\n");  // an empty line: clients skip it, and any line answers it
    ping_outstanding_ = true;
    conn_.set_timeout(std::min<uint64_t>(interval, opt.pong_timeout_ms));
  } else {
    conn_.set_timeout(interval - silent);
  }
}

void TcpLines::on_closed(net::CloseReason reason) {
  if (reason == net::CloseReason::kOutputLimit) {
    services_.transport_metrics.slow_disconnects.add();
  }
  open_ = false;
  services_.transport_metrics.tcp_open.sub();
  services_.client_closed(Kind::kTcp, conn_.id(), end_.reason(reason), close_code_,
                          conn_.opened_ms());
  endpoint_.on_close(*this);
}

}  // namespace herald::transport
