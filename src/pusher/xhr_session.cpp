#include "pusher/xhr_session.h"

#include <algorithm>

#include "base/json_string.h"
#include "pusher/endpoint.h"
#include "pusher/fanout.h"
#include "pusher/frames.h"

namespace herald::pusher {
namespace {

// How long a session waits for a new stream after its stream's connection ended.
constexpr uint64_t kStreamGraceMs = 5000;

}  // namespace

XhrSession::XhrSession(XhrSessions& owner, std::string path, uint64_t id)
    : owner_(owner), path_(std::move(path)), id_(id) {}

XhrSession::~XhrSession() = default;

void XhrSession::send(std::string_view event) {
  if (!ended_) {
    append(net::make_shared_buffer(quote_event(event)));
  }
}

void XhrSession::deliver(const PusherFrame& frame) {
  if (ended_) {
    return;
  }
  if (!frame.quoted) {
    // Quoted once per loop for every fallback subscriber of the loop, like the frame itself.
    frame.quoted = net::make_shared_buffer(quote_event(frame.frame->payload()));
  }
  append(frame.quoted);
}

void XhrSession::append(net::SharedBuffer quoted) {
  bytes_ += quoted->size();
  events_.push_back(std::move(quoted));
  Endpoint& ep = owner_.endpoint();
  if (bytes_ > ep.host().options().max_output_bytes) {
    // The client does not take its events fast enough: end it rather than grow.
    ep.metrics().xhr_slow.add();
    events_.clear();
    bytes_ = 0;
    close(kOverCapacity, "the client does not keep up with its events");
    return;
  }
  if (waiter_ != nullptr && !flush_scheduled_) {
    // After this turn: the turn's other events go in the same answer, and whoever is fanning
    // out is not re-entered by the requester.
    flush_scheduled_ = true;
    ep.host().loop().run_soon([this] { flush(); });
  }
}

void XhrSession::flush() {
  flush_scheduled_ = false;
  if (waiter_ == nullptr || finished_) {
    return;
  }
  XhrAnswer answer = std::move(waiter_);
  waiter_ = nullptr;
  bool last = ended_;
  std::string frames = take();
  Endpoint& ep = owner_.endpoint();
  ep.host().loop().timers().arm(*this, ep.host().loop().now_ms(),
                                ep.host().options().session_timeout_ms);
  if (last) {
    collect();
  }
  answer(std::move(frames), last);
}

std::string XhrSession::take() {
  std::string out;
  if (!opened_) {
    opened_ = true;
    out += "o\n";
  }
  if (!events_.empty()) {
    out.reserve(out.size() + bytes_ + events_.size() + 4);
    out += "a[";
    for (size_t i = 0; i < events_.size(); ++i) {
      if (i != 0) {
        out += ',';
      }
      out += *events_[i];
    }
    out += "]\n";
    events_.clear();
    if (events_.capacity() > 64) {
      std::vector<net::SharedBuffer>().swap(events_);  // after a burst: an idle session keeps none
    }
    bytes_ = 0;
  }
  if (ended_) {
    out += close_frame(close_code_, close_reason_);
  }
  return out;
}

void XhrSession::receive(uint64_t requester, XhrAnswer answer) {
  Endpoint& ep = owner_.endpoint();
  net::EventLoop& loop = ep.host().loop();
  if (waiter_ != nullptr) {
    // Another receive takes the place of the held one (a stream reopened, a poll retried): the
    // old one stops, so two requesters never take turns forever.
    XhrAnswer previous = std::move(waiter_);
    waiter_ = nullptr;
    previous("h\n", true);
  }
  if (has_output()) {
    bool last = ended_;
    std::string frames = take();
    if (last) {
      collect();
    } else {
      loop.timers().arm(*this, loop.now_ms(), ep.host().options().session_timeout_ms);
    }
    answer(std::move(frames), last);
    return;
  }
  waiter_ = std::move(answer);
  waiter_id_ = requester;
  loop.timers().arm(*this, loop.now_ms(), ep.host().options().ping_interval_ms);
}

void XhrSession::detach(uint64_t requester) {
  if (waiter_ != nullptr && waiter_id_ == requester && requester != 0) {
    waiter_ = nullptr;
    // A stream or a held poll whose connection ends is nearly always a client that left
    // (pusher-js opens a new session after an interrupted stream, and aborts a poll only when it
    // closes); only a stream reopened after 256 KiB comes back, at once. So the session waits a
    // short grace rather than the whole session_timeout, and its presence goes with it.
    Endpoint& ep = owner_.endpoint();
    ep.host().loop().timers().arm(
        *this, ep.host().loop().now_ms(),
        std::min<uint64_t>(kStreamGraceMs, ep.host().options().session_timeout_ms));
  }
}

void XhrSession::close(uint16_t code, std::string_view reason) {
  if (ended_) {
    return;
  }
  close_code_ = code;
  close_reason_ = std::string(reason);
  end();
  if (waiter_ != nullptr && !flush_scheduled_) {
    flush_scheduled_ = true;
    owner_.endpoint().host().loop().run_soon([this] { flush(); });
  }
}

void XhrSession::end() {
  ended_ = true;
  // Told on the next turn: this may run inside the protocol handler or the hub's fan-out, which
  // must not see the session leave under them. The session is erased only after this task
  // (collect() defers its erase behind it), so `this` is alive then.
  Endpoint& ep = owner_.endpoint();
  ep.host().loop().run_soon([&ep, id = id_] { ep.closed(id); });
}

void XhrSession::collect() {
  if (finished_) {
    return;
  }
  finished_ = true;
  cancel();
  owner_.erase_soon(this);
}

void XhrSession::on_timer() {
  if (waiter_ != nullptr) {
    // Nothing for ping_interval: a heartbeat, so that the client and the proxies between see
    // the session alive (a streaming pusher-js answers it with an empty xhr_send).
    XhrAnswer answer = std::move(waiter_);
    waiter_ = nullptr;
    Endpoint& ep = owner_.endpoint();
    ep.host().loop().timers().arm(*this, ep.host().loop().now_ms(),
                                  ep.host().options().session_timeout_ms);
    answer("h\n", false);
    return;
  }
  // Nobody received for session_timeout: the client is gone.
  owner_.endpoint().metrics().xhr_expired.add();
  if (!ended_) {
    end();
  }
  collect();
}

XhrSessions::XhrSessions(Endpoint& endpoint) : endpoint_(endpoint) {}

XhrSessions::~XhrSessions() = default;

void XhrSessions::receive(const App& app, std::string_view path, uint64_t requester,
                          XhrAnswer answer) {
  auto it = sessions_.find(path);
  if (it == sessions_.end()) {
    const ServerOptions& o = endpoint_.host().options();
    size_t cap = std::max<size_t>(1, o.max_connections / static_cast<size_t>(
                                         std::max(1, endpoint_.host().loop_count())));
    if (sessions_.size() >= cap) {
      endpoint_.metrics().refused_connections.add();
      answer(refusal_frames(kOverCapacity, "over capacity"), true);
      return;
    }
    uint64_t id = endpoint_.host().new_client_id();
    auto created = std::make_unique<XhrSession>(*this, std::string(path), id);
    XhrSession* s = created.get();
    sessions_.emplace(std::string(path), std::move(created));
    endpoint_.metrics().xhr_sessions.add();
    endpoint_.metrics().xhr_sessions_total.add();
    endpoint_.open_session(Link{nullptr, s}, id, app);  // queues connection_established
    s->receive(requester, std::move(answer));
    return;
  }
  it->second->receive(requester, std::move(answer));
}

int XhrSessions::send(std::string_view path, std::string_view body) {
  auto it = sessions_.find(path);
  if (it == sessions_.end() || it->second->ended()) {
    return 404;
  }
  XhrSession& xs = *it->second;
  Session* s = endpoint_.find(xs.id());
  if (s == nullptr) {
    return 404;
  }
  if (!decoder_.decode(body, events_)) {
    endpoint_.metrics().bad_messages.add();
    return 400;
  }
  // An empty array is pusher-js's heartbeat: the request itself was the activity.
  uint64_t id = xs.id();
  for (std::string_view event : events_) {
    s = endpoint_.find(id);
    if (s == nullptr) {
      break;  // an event closed it
    }
    endpoint_.handle(*s, event);
  }
  return 204;
}

void XhrSessions::detach(std::string_view path, uint64_t requester) {
  auto it = sessions_.find(path);
  if (it != sessions_.end()) {
    it->second->detach(requester);
  }
}

void XhrSessions::drain() {
  for (auto& [path, session] : sessions_) {
    session->close(kReconnectNow, "the server is going away");
  }
}

void XhrSessions::poll_carried(uint64_t conn_id, std::string path, int target) {
  polls_[conn_id] = CarriedPoll{std::move(path), target};
}

void XhrSessions::connection_closed(uint64_t conn_id) {
  if (polls_.empty()) {
    return;
  }
  auto it = polls_.find(conn_id);
  if (it == polls_.end()) {
    return;
  }
  CarriedPoll poll = std::move(it->second);
  polls_.erase(it);
  Host& host = endpoint_.host();
  if (poll.target == host.loop().index()) {
    detach(poll.path, conn_id);
    return;
  }
  host.post_to(poll.target, [path = std::move(poll.path), conn_id](Endpoint& there) {
    there.xhr().detach(path, conn_id);
  });
}

void XhrSessions::erase_soon(const XhrSession* session) {
  endpoint_.host().loop().run_soon([this, session, path = session->path()] {
    auto it = sessions_.find(path);
    if (it != sessions_.end() && it->second.get() == session) {
      sessions_.erase(it);
      endpoint_.metrics().xhr_sessions.sub();
    }
  });
}

}  // namespace herald::pusher
