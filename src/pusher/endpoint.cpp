#include "pusher/endpoint.h"

#include <sys/random.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "base/json_string.h"
#include "http/url.h"
#include "pusher/signing.h"
#include "transport/http_session.h"

namespace herald::pusher {
namespace {

// The path a refused connection's WebSocketSession keeps (it must outlive the session).
constexpr std::string_view kRefusedPath = "/app/";

}  // namespace

Session::Session(Endpoint& ep, Link l, uint64_t conn_id, const App& a, std::string sid)
    : endpoint(ep), link(l), id(conn_id), app(a), socket_id(std::move(sid)) {
  tokens = a.options.client_event_rate * 2;
}

void Session::send(std::string_view frame) {
  if (link.ws != nullptr) {
    link.ws->send(frame, MessageType::kText);
  } else {
    link.xhr->send(frame);
  }
}

void Session::close(uint16_t code, std::string_view reason) {
  if (link.ws != nullptr) {
    link.ws->close(code, reason);
  } else {
    link.xhr->close(code, reason);
  }
}

void Session::on_channel_publications(std::string_view channel, const std::string& epoch,
                                      const std::shared_ptr<const broker::PublicationBatch>& batch) {
  deliver(channel, epoch, batch, *batch);
}

void Session::on_channel_publication(std::string_view channel, const std::string& epoch,
                                     const std::shared_ptr<const broker::PublicationRecord>& pub) {
  deliver(channel, epoch, pub, FrameCache::Records(&pub, 1));
}

template <typename Shared>
void Session::deliver(std::string_view channel, const std::string& epoch, const Shared& shared,
                      FrameCache::Records records) {
  Subscription* found = find_sub(channel);
  if (found == nullptr) {
    return;
  }
  Subscription& sub = *found;
  if (!sub.established) {
    // A presence subscription still waiting for its own join: nothing before succeeded, except
    // for a client that asked for positions (history.cpp), which gets it after.
    if (sub.positions && sub.replied) {
      endpoint.hold(*this, sub, epoch, records);
    }
    return;
  }
  std::string_view name = channel.substr(app.ns.size() + 1);
  FrameCache& cache = endpoint.frames();
  const std::vector<PusherFrame>* frames = &cache.frames(name, shared);
  if (sub.positions) {
    frames = &cache.positioned(name, epoch, records);
  }
  for (const PusherFrame& f : *frames) {
    if (!f.except_socket.empty() && f.except_socket == socket_id) {
      continue;  // its own client event, or a REST event sent with its socket_id
    }
    if (link.ws != nullptr) {
      link.ws->deliver(*f.frame);
    } else {
      link.xhr->deliver(f);
    }
  }
}

void Session::on_channel_lost(std::string_view channel) {
  // Pusher has no way to tell a client it may have missed events; the subscription goes on. A
  // client of the history extension is told, on the channel, to subscribe again from its
  // position (docs/PUSHER.md).
  auto it = subs.find(channel);
  if (it != subs.end() && it->second.positions && it->second.established) {
    std::string out;
    append_event(out, "herald:recover", channel.substr(app.ns.size() + 1), R"("{}")");
    send(out);
  }
}

Endpoint::Endpoint(const Apps& apps, std::unique_ptr<Host> host)
    : apps_(apps), host_(std::move(host)), xhr_(std::make_unique<XhrSessions>(*this)) {
  if (getrandom(&rng_state_, sizeof(rng_state_), 0) != sizeof(rng_state_)) {
    rng_state_ = static_cast<uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count());
  }
  rng_state_ |= 1;
}

Endpoint::~Endpoint() = default;

uint32_t Endpoint::random_u32() {
  // xorshift64*: socket ids need to be hard to guess in passing, not cryptographic (the
  // connection id part makes them unique).
  rng_state_ ^= rng_state_ >> 12;
  rng_state_ ^= rng_state_ << 25;
  rng_state_ ^= rng_state_ >> 27;
  return static_cast<uint32_t>((rng_state_ * 2685821657736338717ULL) >> 32);
}

Session* Endpoint::find(uint64_t id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

uint16_t Endpoint::refusal(const App* app, std::string_view key, const http::Request& req,
                           std::string& message) const {
  if (app == nullptr) {
    message = "App key " + std::string(key.substr(0, 100)) + " does not exist";
    return kAppNotFound;
  }
  auto version = http::query_param(req.query, "protocol");
  if (!version) {
    message = "No protocol version supplied";
    return kNoProtocol;
  }
  int v = 0;
  auto [end, ec] = std::from_chars(version->data(), version->data() + version->size(), v);
  if (ec != std::errc{} || end != version->data() + version->size()) {
    message = "Invalid version string format";
    return kBadVersion;
  }
  if (v < 5 || v > 7) {
    message = "Unsupported protocol version";
    return kUnsupportedProtocol;
  }
  if (!app->origins.allows(req.header("Origin"), req.header("Host"))) {
    message = "Origin not allowed";
    return kUnauthorized;
  }
  return 0;
}

void Endpoint::upgrade(transport::HttpSession& http, const http::Request& req,
                       std::string_view key) {
  const App* app = apps_.by_key(key);
  opening_app_ = app;
  opening_message_.clear();
  opening_refusal_ = refusal(app, key, req, opening_message_);
  http.upgrade_websocket(req, *this, app != nullptr ? std::string_view(app->ws_path) : kRefusedPath);
  opening_app_ = nullptr;
}

void Endpoint::on_open(WebSocket& ws) {
  auto& session_ws = static_cast<transport::WebSocketSession&>(ws);
  if (opening_app_ == nullptr || opening_refusal_ != 0) {
    // Refused after the upgrade, as Pusher does: pusher-js reads the code from the close (and
    // from the pusher:error before it) and does not retry a 40xx.
    metrics_.refused_connections.add();
    uint16_t code = opening_refusal_ != 0 ? opening_refusal_ : uint16_t{kAppNotFound};
    ws.send(error_event(code, opening_message_), MessageType::kText);
    ws.close(code, opening_message_);
    return;
  }
  open_session(Link{&session_ws, nullptr}, ws.id(), *opening_app_);
}

Session& Endpoint::open_session(Link link, uint64_t id, const App& app) {
  std::string socket_id = std::to_string(id) + "." + std::to_string(random_u32() % 1000000000);
  auto s = std::make_unique<Session>(*this, link, id, app, std::move(socket_id));
  s->refilled_ms = host_->loop().now_ms();
  Session* sp = s.get();
  sessions_[id] = std::move(s);
  metrics_.connections.add();
  metrics_.connections_total.add();
  sp->send(connection_established(sp->socket_id, sp->app.options.activity_timeout_s));
  return *sp;
}

void Endpoint::closed(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    return;
  }
  leave_all(*it->second);
  metrics_.connections.sub();
  sessions_.erase(it);
}

void Endpoint::on_message(WebSocket& ws, std::string_view data, MessageType type) {
  Session* s = find(ws.id());
  if (s == nullptr) {
    return;  // a refused connection closing
  }
  if (type != MessageType::kText) {
    metrics_.bad_messages.add();
    error(*s, kInvalidMessage, "binary messages are not part of the Pusher protocol");
    return;
  }
  handle(*s, data);
}

void Endpoint::on_close(WebSocket& ws, uint16_t /*code*/, std::string_view /*reason*/) {
  closed(ws.id());
}

void Endpoint::error(Session& s, uint16_t code, std::string_view message) {
  s.send(error_event(code, message));
}

void Endpoint::handle(Session& s, std::string_view text) {
  ClientFrame f;
  FrameError e = decoder_.decode(text, f);
  if (e != FrameError::kNone) {
    metrics_.bad_messages.add();
    error(s, kInvalidMessage, describe(e));
    return;
  }
  if (f.event == "pusher:ping") {
    s.send(R"({"event":"pusher:pong","data":"{}"})");
  } else if (f.event == "pusher:pong") {
    // The answer to a ping: any frame already counted as activity.
  } else if (f.event == "pusher:subscribe") {
    subscribe(s, f);
  } else if (f.event == "pusher:unsubscribe") {
    unsubscribe(s, f.channel);
  } else if (f.event == "pusher:signin") {
    signin(s, f);
  } else if (f.event.starts_with("client-")) {
    client_event(s, f);
  } else {
    metrics_.bad_messages.add();
    error(s, kUnknownEvent, "unknown event: " + std::string(f.event));
  }
}

void Endpoint::client_event(Session& s, const ClientFrame& f) {
  const PusherAppOptions& app = s.app.options;
  auto refuse = [&](uint16_t code, std::string_view why) {
    metrics_.client_event_refusals.add();
    error(s, code, why);
  };
  if (!app.client_events) {
    return refuse(kClientEventRefused, "client events are not enabled for this app");
  }
  auto it = f.channel.empty() ? s.subs.end() : s.subs.find(herald_channel(s.app.ns, f.channel));
  if (it == s.subs.end() || !it->second.established) {
    return refuse(kClientEventRefused,
                  "client events are only accepted on a channel the connection subscribed to");
  }
  if (!allows_client_events(it->second.kind)) {
    return refuse(kClientEventRefused,
                  "client events are only accepted on private and presence channels");
  }
  if (f.data.size() > app.max_event_size) {
    return refuse(kEventTooLarge, "the event's data is over " +
                                      std::to_string(app.max_event_size) + " bytes");
  }
  uint64_t now = host_->loop().now_ms();
  double rate = app.client_event_rate;
  s.tokens = std::min(rate * 2, s.tokens + static_cast<double>(now - s.refilled_ms) * rate / 1000);
  s.refilled_ms = now;
  if (s.tokens < 1) {
    return refuse(kClientEventRate, "client event rejected due to rate limit");
  }
  s.tokens -= 1;
  const std::string& user = is_presence(it->second.kind) ? it->second.user_id : s.user_id;
  broker::PublishRequest req;
  req.data = publication_data(f.event, f.data, user);
  req.publisher = broker::ClientInfo{s.socket_id, user, {}};
  metrics_.client_events.add();
  host_->hub().publish(it->first, std::move(req), [](Result<broker::PublishResult>) {});
  hook_client_event(s, f, it->second);
}

void Endpoint::signin(Session& s, const ClientFrame& f) {
  auto refuse = [&](std::string_view why) {
    metrics_.signin_refusals.add();
    s.send(error_event(kUnauthorized, why));
    s.close(kUnauthorized, why);
  };
  if (f.auth.empty() || f.user_data.empty()) {
    return refuse("pusher:signin needs auth and user_data");
  }
  if (!check_auth(s.app.options.key, s.app.options.secret, signin_message(s.socket_id, f.user_data),
                  f.auth)) {
    return refuse("Invalid signature for pusher:signin");
  }
  if (!channel_data_.parse(f.user_data)) {
    return refuse("user_data must be a JSON object");
  }
  std::optional<std::string> id = channel_data_.string_or_integer("id");
  if (!id || id->empty() || id->size() > kMaxChannelName) {
    return refuse("user_data needs a non-empty \"id\"");
  }
  s.user_id = std::move(*id);
  metrics_.signins.add();
  std::string data = R"({"user_data":)";
  append_json_string(data, f.user_data);
  data += '}';
  std::string out;
  append_event_string_data(out, "pusher:signin_success", {}, data);
  s.send(out);
}

size_t Endpoint::terminate_user(const App& app, std::string_view user) {
  std::vector<uint64_t> ids;
  for (const auto& [id, s] : sessions_) {
    if (&s->app == &app && !s->user_id.empty() && s->user_id == user) {
      ids.push_back(id);
    }
  }
  for (uint64_t id : ids) {
    if (Session* s = find(id)) {
      std::string_view why = "connection terminated by the application";
      s->send(error_event(kUnauthorized, why));
      s->close(kUnauthorized, why);
    }
  }
  return ids.size();
}

void Endpoint::subscriber_counts(const App& app,
                                 std::unordered_map<std::string, size_t>& out) const {
  // Every subscriber of the channel on this loop, whatever its protocol (one engine), minus the
  // roster that follows a presence channel's members.
  host_->hub().for_each_channel([&](const std::string& name, size_t members) {
    if (pusher_channel(app.ns, name).empty()) {
      return;
    }
    size_t rosters = rosters_.count(name);
    if (members > rosters) {
      out[name] += members - rosters;
    }
  });
}

}  // namespace herald::pusher
