#include "transport/sse.h"

#include <charconv>

#include "transport/loop_services.h"
#include "transport/topics.h"

namespace herald::transport {
namespace {

}  // namespace

SseStream::SseStream(Connection& conn, std::string session_id, std::vector<Position> positions)
    : EmulatedSession(std::move(session_id)),
      conn_(conn),
      services_(conn.services()),
      endpoint_(services_.protocol_endpoint()),
      positions_(std::move(positions)) {}

SseStream::~SseStream() = default;

void SseStream::open(std::string_view commands, std::string_view extra_headers) {
  std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
      "Cache-Control: no-cache, no-store\r\nX-Accel-Buffering: no\r\nConnection: close\r\n";
  head += "Herald-Session: ";
  head += session_id();
  head += "\r\n";
  head += extra_headers;
  head += "\r\n";
  services_.sessions.add(this);
  registered_ = true;
  services_.transport_metrics.sse_open.add();
  services_.client_opened(Kind::kSse, conn_.id(), conn_.remote_address(), "/connection/sse");
  conn_.set_timeout(services_.options.ping_interval_ms);
  if (!unidirectional()) {
    conn_.write(head);
    endpoint_.on_open(*this);
    if (open_) {
      endpoint_.on_text(*this, commands);
    }
    return;
  }
  head += "retry: 1000\n\n";  // the browser's reconnect delay (its default is ~3 s)
  head_pending_ = true;
  endpoint_.on_open(*this);
  if (open_) {
    endpoint_.on_text(*this, commands);  // the connect runs now; subscribes answer later
  }
  head_pending_ = false;
  std::vector<std::string> pending = std::move(pending_);
  pending_ = {};
  if (open_) {
    conn_.write(head);
    for (const std::string& lines : pending) {
      send_text(lines);
    }
    return;
  }
  // Refused (close() ran during the connect): an error status, the lines as the body.
  std::string body;
  for (const std::string& lines : pending) {
    body += lines;
    body += '\n';
  }
  conn_.write("HTTP/1.1 403 Forbidden\r\nContent-Type: application/x-ndjson; charset=utf-8\r\n"
              "Connection: close\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body);
  conn_.close_after_flush();
}

std::string SseStream::format_event_id(const std::vector<Position>& positions) {
  std::string id;
  for (const Position& p : positions) {
    if (!id.empty()) {
      id += '/';
    }
    id += std::to_string(p.offset);
    id += ':';
    id += p.epoch;
  }
  return id;
}

bool SseStream::parse_event_id(std::string_view id, std::vector<Position>& positions) {
  std::vector<Position> parsed = positions;
  for (size_t i = 0; i < parsed.size(); ++i) {
    size_t slash = id.find('/');
    if ((slash == std::string_view::npos) != (i + 1 == parsed.size())) {
      return false;  // not one part per channel
    }
    std::string_view part = id.substr(0, slash);
    id = slash == std::string_view::npos ? std::string_view{} : id.substr(slash + 1);
    size_t colon = part.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return false;
    }
    uint64_t offset = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + colon, offset);
    if (ec != std::errc() || end != part.data() + colon) {
      return false;
    }
    std::string_view epoch = part.substr(colon + 1);
    if (epoch.size() > 64) {
      return false;
    }
    parsed[i].offset = offset;
    parsed[i].epoch = std::string(epoch);
  }
  positions = std::move(parsed);
  return true;
}

bool SseStream::advance(std::string_view channel, std::string_view epoch, uint64_t offset) {
  for (Position& p : positions_) {
    if (p.channel == channel) {
      if (p.epoch != epoch) {
        p.epoch = std::string(epoch);
      }
      p.offset = offset;
      return true;
    }
  }
  return false;
}

void SseStream::send_text(std::string_view lines) {
  if (head_pending_) {
    pending_.emplace_back(lines);
    return;
  }
  if (!open_) {
    return;
  }
  std::string event;
  if (unidirectional()) {
    event = "event: herald\n";
  }
  append_sse_data(event, lines);
  conn_.write(event);
  services_.transport_metrics.sse_events_out.add();
}

void SseStream::send_shared(const Publication& pushes, const PushPositions& at) {
  if (!open_ || head_pending_) {
    return;
  }
  if (!unidirectional()) {
    conn_.write(pushes.sse());
  } else if (positions_.size() == 1) {
    if (!advance(at.channel, at.epoch, at.last_offset)) {
      return;
    }
    conn_.write(pushes.sse_with_ids(at.epoch, at.first_offset));
  } else {
    send_positioned(pushes.payload(), at);
    return;
  }
  services_.transport_metrics.sse_events_out.add();
}

void SseStream::send_positioned(std::string_view pushes, const PushPositions& at) {
  if (!open_ || !unidirectional()) {
    send_text(pushes);
    return;
  }
  // Each push is its own event, whose id holds every channel's position after it.
  std::string events;
  uint64_t offset = at.first_offset;
  while (true) {
    size_t nl = pushes.find('\n');
    if (!advance(at.channel, at.epoch, offset)) {
      return;
    }
    events += "id: ";
    events += format_event_id(positions_);
    events += '\n';
    append_sse_data(events, pushes.substr(0, nl));
    ++offset;
    if (nl == std::string_view::npos) {
      break;
    }
    pushes.remove_prefix(nl + 1);
  }
  conn_.write(events);
  services_.transport_metrics.sse_events_out.add();
}

void SseStream::close(uint16_t code, std::string_view /*reason*/) {
  if (!open_) {
    return;
  }
  end_.note(EndReason::kServerClosed);
  close_code_ = code;
  open_ = false;  // the code travelled in the disconnect push, the stream's last event
  if (!head_pending_) {
    conn_.close_after_flush();  // (a refused connect is answered by open())
  }
}

size_t SseStream::on_data(uint8_t* /*data*/, size_t size) {
  return size;  // a stream's client has nothing more to say on this connection
}

void SseStream::on_timeout() {
  if (!open_) {
    return;
  }
  conn_.write(":\n");  // a comment: keeps proxies from closing an idle stream
  conn_.set_timeout(services_.options.ping_interval_ms);
}

void SseStream::drain() {
  if (open_) {
    end_.note(EndReason::kShutdown);
    endpoint_.on_going_away(*this);
    close(0, {});
  }
}

void SseStream::on_closed(net::CloseReason reason) {
  if (reason == net::CloseReason::kOutputLimit) {
    services_.transport_metrics.slow_disconnects.add();
  }
  open_ = false;
  if (registered_) {
    services_.sessions.remove(session_id());
    services_.transport_metrics.sse_open.sub();
    services_.client_closed(Kind::kSse, conn_.id(), end_.reason(reason), close_code_,
                            conn_.opened_ms());
    endpoint_.on_close(*this);
  }
}

}  // namespace herald::transport
