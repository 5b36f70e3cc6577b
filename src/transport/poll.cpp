#include "transport/poll.h"

#include "transport/loop_services.h"
#include "transport/topics.h"

namespace herald::transport {

PollSession::PollSession(LoopServices& services, std::string session_id, uint64_t client_id)
    : EmulatedSession(std::move(session_id)), services_(services), client_id_(client_id) {}

PollSession::~PollSession() = default;

void PollSession::open(std::string_view commands) {
  services_.sessions.add(this);
  services_.transport_metrics.poll_sessions.add();
  opened_ms_ = services_.loop.now_ms();
  services_.client_opened(Kind::kPoll, client_id_, {}, "/connection/poll");
  services_.loop.timers().arm(*this, services_.loop.now_ms(), services_.options.session_timeout_ms);
  services_.protocol_endpoint().on_open(*this);
  if (!ended_) {
    services_.protocol_endpoint().on_text(*this, commands);
  }
}

void PollSession::append(net::SharedBuffer lines) {
  bytes_ += lines->size();
  services_.transport_metrics.poll_entries_out.add();
  entries_.push_back(Entry{next_seq_++, std::move(lines)});
  if (bytes_ > services_.options.max_output_bytes) {
    // The client does not poll often enough to keep up: end it rather than grow.
    services_.transport_metrics.slow_disconnects.add();
    end_.note(EndReason::kSlowConsumer);
    entries_.clear();
    bytes_ = 0;
    overflowed_ = true;
    end();
    return;
  }
  answer_waiter();
}

void PollSession::send_text(std::string_view lines) {
  if (!ended_) {
    append(net::make_shared_buffer(std::string(lines)));
  }
}

void PollSession::send_shared(const Publication& pushes, const PushPositions& /*at*/) {
  if (!ended_) {
    append(pushes.line());  // the payload + '\n', shared with every TCP and poll client
  }
}

std::string PollSession::render(uint64_t cursor) const {
  uint64_t last = entries_.empty() ? cursor : entries_.back().seq;
  std::string body = "{\"cursor\":" + std::to_string(last) + "}";
  for (const Entry& e : entries_) {
    if (e.seq <= cursor) {
      continue;
    }
    body += '\n';
    std::string_view text(*e.lines);
    if (!text.empty() && text.back() == '\n') {
      text.remove_suffix(1);  // a shared line framing ends in one
    }
    body += text;
  }
  return body;
}

std::string PollSession::answer_now() const { return render(acked_); }

void PollSession::poll(uint64_t cursor, Answer answer) {
  services_.transport_metrics.poll_requests.add();
  if (overflowed_) {
    answer(410, R"({"error":"session dropped: polled too slowly to keep up","status":410})");
    collect();
    return;
  }
  if (cursor >= next_seq_ || cursor < acked_) {
    answer(400, R"({"error":"cursor outside this session: from the future or acknowledged",)"
                R"("status":400})");
    return;
  }
  size_t acknowledged = 0;
  while (acknowledged < entries_.size() && entries_[acknowledged].seq <= cursor) {
    bytes_ -= entries_[acknowledged].lines->size();
    ++acknowledged;
  }
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(acknowledged));
  if (entries_.empty() && entries_.capacity() > 64) {
    std::vector<Entry>().swap(entries_);  // after a burst: an idle session keeps no buffer
  }
  acked_ = cursor;
  if (waiter_ != nullptr) {
    Answer previous = std::move(waiter_);
    waiter_ = nullptr;
    previous(200, render(cursor));  // replaced by this poll
  }
  if (!entries_.empty()) {
    answer(200, render(cursor));
  } else if (ended_) {
    answer(410, R"({"error":"session ended","status":410})");
    collect();
    return;
  } else {
    waiter_ = std::move(answer);
    services_.loop.timers().arm(*this, services_.loop.now_ms(), services_.options.poll_timeout_ms);
    return;
  }
  services_.loop.timers().arm(*this, services_.loop.now_ms(), services_.options.session_timeout_ms);
}

void PollSession::answer_waiter() {
  if (waiter_ == nullptr) {
    return;
  }
  Answer answer = std::move(waiter_);
  waiter_ = nullptr;
  answer(200, render(acked_));
  services_.loop.timers().arm(*this, services_.loop.now_ms(), services_.options.session_timeout_ms);
}

bool PollSession::commands(std::string_view lines) {
  if (ended_) {
    return false;
  }
  services_.loop.timers().arm(*this, services_.loop.now_ms(),
                              waiter_ != nullptr ? services_.options.poll_timeout_ms
                                                 : services_.options.session_timeout_ms);
  services_.protocol_endpoint().on_text(*this, lines);
  return true;
}

void PollSession::close(uint16_t code, std::string_view /*reason*/) {
  if (!ended_) {
    end_.note(EndReason::kServerClosed);
    close_code_ = code;
  }
  // The disconnect push is in the buffer; the protocol side lets go of this session now (on the
  // next turn: close() is called from inside the protocol handler), the client takes the rest.
  end();
}

void PollSession::end() {
  if (ended_) {
    return;
  }
  ended_ = true;
  // Told on the next turn: this may run inside the protocol handler or the hub's fan-out, which
  // must not see the session leave under them. The session is deleted only after this task
  // (collect() defers its erase behind it), so `this` is alive then.
  services_.loop.run_soon([this] { services_.protocol_endpoint().on_close(*this); });
  answer_waiter();
}

void PollSession::drain() {
  if (!ended_) {
    end_.note(EndReason::kShutdown);
    services_.protocol_endpoint().on_going_away(*this);  // a disconnect push, then close()
  }
}

void PollSession::leave() {
  end_.note(EndReason::kClientClosed);
  end();
  answer_waiter();
  collect();
}

void PollSession::collect() {
  if (finished_) {
    return;
  }
  finished_ = true;
  cancel();
  services_.sessions.remove(session_id());
  services_.transport_metrics.poll_sessions.sub();
  services_.client_closed(Kind::kPoll, client_id_, end_.reason(net::CloseReason::kLocal),
                          close_code_, opened_ms_);
  std::string id(session_id());
  services_.loop.run_soon([&services = services_, id] { services.polls.erase(id); });
}

void PollSession::on_timer() {
  if (waiter_ != nullptr) {
    answer_waiter();  // poll_timeout passed: an empty answer; the client polls again
    return;
  }
  // Nobody polled for session_timeout: the client is gone.
  services_.transport_metrics.poll_expired.add();
  end_.note(EndReason::kTimeout);
  end();
  collect();
}

}  // namespace herald::transport
