// ProtocolHandler (protocol_handler_impl.h), the loop's side of every protocol connection: its
// registration in the LoopContext, the server API's questions (disconnect_user, count_clients),
// the WebSocket and transport::ProtocolEndpoint callbacks, on_text (a frame's commands under
// command_rate, their replies joined into one frame) and handle, which runs each command or
// hands it to its group: protocol_connect.cpp (connect, refresh), protocol_channels.cpp (the
// channel commands). Thread: the loop's own.
#include "server/protocol_handler.h"

#include <algorithm>
#include <cassert>
#include <variant>

#include "protocol/messages.h"
#include "server/loop_context.h"
#include "server/metrics.h"
#include "server/protocol_handler_impl.h"
#include "transport/websocket.h"

namespace herald::server {

ProtocolHandler::ProtocolHandler(LoopContext& ctx) : ctx_(ctx) {
  ctx_.protocol_sessions.push_back(this);
  if (ctx_.endpoint == nullptr) {
    ctx_.endpoint = this;
  }
}

ProtocolHandler::~ProtocolHandler() {
  auto& list = ctx_.protocol_sessions;
  list.erase(std::remove(list.begin(), list.end(), this), list.end());
  if (ctx_.endpoint == this) {
    ctx_.endpoint = nullptr;
  }
}

size_t ProtocolHandler::disconnect_user(std::string_view user, uint16_t code,
                                        std::string_view reason) {
  // Collected first: closing may end a session (and erase it from the map) right away.
  std::vector<uint64_t> ids;
  for (const auto& [id, s] : sessions_) {
    if (s->connected && s->info().user == user) {
      ids.push_back(id);
    }
  }
  for (uint64_t id : ids) {
    if (Session* s = find(id)) {
      std::string push;
      protocol::append_disconnect_push(push, static_cast<protocol::DisconnectCode>(code), reason);
      s->transport().send_text(push);
      s->transport().close(code, reason);
      ctx_.metrics.forced_disconnects.add();
    }
  }
  return ids.size();
}

size_t ProtocolHandler::count_clients(std::unordered_set<std::string>& users) const {
  size_t n = 0;
  for (const auto& [id, s] : sessions_) {
    if (s->connected) {
      ++n;
      if (!s->info().user.empty()) {
        users.insert(s->info().user);
      }
    }
  }
  return n;
}

void ProtocolHandler::on_open(WebSocket& ws) {
  on_open(static_cast<transport::Transport&>(static_cast<transport::WebSocketSession&>(ws)));
}

void ProtocolHandler::on_message(WebSocket& ws, std::string_view data, MessageType type) {
  auto& t = static_cast<transport::Transport&>(static_cast<transport::WebSocketSession&>(ws));
  if (type != MessageType::kText) {
    on_bad_input(t, "binary frames are not part of v1");
    return;
  }
  on_text(t, data);
}

void ProtocolHandler::on_close(WebSocket& ws, uint16_t /*code*/, std::string_view /*reason*/) {
  on_close(static_cast<transport::Transport&>(static_cast<transport::WebSocketSession&>(ws)));
}

void ProtocolHandler::on_open(transport::Transport& t) {
  auto s = std::make_unique<Session>(encoder_, t);
  double rate = ctx_.core.options.command_rate;
  s->commands = TokenBucket(rate, rate * 2 < 1 ? 1 : rate * 2);
  s->lost = [this](Session& session, std::string_view channel) { lost(session, channel); };
  // Client ids are unique: replacing a session here would free one still in the hub.
  [[maybe_unused]] bool added = sessions_.try_emplace(t.id(), std::move(s)).second;
  assert(added && "two protocol clients with one id");
}

void ProtocolHandler::on_bad_input(transport::Transport& t, std::string_view why) {
  if (Session* s = find(t.id())) {
    s->disconnect(protocol::DisconnectCode::kBadRequest, why);
  }
}

void ProtocolHandler::on_going_away(transport::Transport& t) {
  if (Session* s = find(t.id())) {
    s->disconnect(protocol::DisconnectCode::kGoingAway, "server shutting down");
  }
}

void ProtocolHandler::on_text(transport::Transport& t, std::string_view data) {
  Session* s = find(t.id());
  if (s == nullptr) {
    return;
  }
  decoded_.clear();
  decoder_.decode(data, decoded_);
  ctx_.metrics.protocol_commands.add(decoded_.size());
  std::string out;
  uint64_t now_ms = ctx_.loop.now_ms();
  for (auto& item : decoded_) {
    if (!s->commands.take(now_ms)) {
      // Over command_rate: answered, not run (the client backs off on 113, temporary).
      ctx_.metrics.command_rate_refusals.add();
      add_line(out);
      uint32_t id = 0;
      if (auto* cmd = std::get_if<protocol::Command>(&item)) {
        id = cmd->id;
      } else {
        id = std::get<protocol::DecodeError>(item).id;
      }
      error(out, id, protocol::ErrorCode::kTooManyRequests, "command rate over the limit");
      continue;
    }
    if (auto* err = std::get_if<protocol::DecodeError>(&item)) {
      add_line(out);
      error(out, err->id, err->code, err->message);
      if (err->code == protocol::ErrorCode::kUnsupportedProtocol) {
        end_after_replies(*s, out, protocol::DisconnectCode::kUnsupportedProtocol, "");
      }
    } else {
      auto& cmd = std::get<protocol::Command>(item);
      command_started_ns_ = timing_ ? steady_now_ns() : 0;
      command_async_ = false;
      handle(*s, cmd, out);
      if (!command_async_) {
        observe_command(cmd.method, command_started_ns_);
      }
    }
    if (s->close_code != 0) {
      break;  // the rest of the frame is not run
    }
  }
  if (!out.empty()) {
    t.send_text(out);
  }
  if (s->close_code != 0) {
    t.close(s->close_code, s->close_reason);
  }
}

void ProtocolHandler::on_close(transport::Transport& t) {
  auto it = sessions_.find(t.id());
  if (it == sessions_.end()) {
    return;
  }
  Session* s = it->second.get();
  if (s->connected) {
    ctx_.metrics.protocol_clients.sub();
  }
  if (s->user_counted) {
    ctx_.core.limits->release_user(s->info().user);
    if (!ctx_.core.broker->node_id().empty() &&
        ctx_.core.limits->options().connections_per_user > 0) {
      ctx_.core.broker->user_release(s->info().user, s->info().client);
    }
  }
  // Presence is cleaned up on every kind of disconnect: this runs for all of them. (A channel
  // still reserving is cleaned up by its presence answer, which finds the session gone.)
  for (const std::string& channel : hub().channels_of(s)) {
    forget_presence(*s, channel);
  }
  hub().leave_all(s);
  sessions_.erase(it);
}

void ProtocolHandler::observe_command(protocol::Method method, int64_t started) {
  if (started != 0) {
    ctx_.metrics.command_duration[static_cast<size_t>(method)].observe_ns(
        static_cast<uint64_t>(steady_now_ns() - started));
  }
}

void ProtocolHandler::error(std::string& out, uint32_t id, protocol::ErrorCode code,
                            std::string_view message) {
  ctx_.metrics.protocol_error(code).add();
  protocol::append_error(out, id, code, message);
}

void ProtocolHandler::send_later(uint64_t conn_id, std::string line) {
  if (Session* s = find(conn_id)) {
    s->transport().send_text(line);
  }
}

void ProtocolHandler::end_after_replies(Session& s, std::string& out, protocol::DisconnectCode code,
                                        std::string_view reason) {
  add_line(out);
  protocol::append_disconnect_push(out, code, reason);
  s.close_code = static_cast<uint16_t>(code);
  s.close_reason = std::string(reason);
}

void ProtocolHandler::handle(Session& s, protocol::Command& cmd, std::string& out) {
  using protocol::ErrorCode;
  using protocol::Method;
  if (cmd.method == Method::kConnect) {
    connect(s, cmd, out);
    return;
  }
  if (!s.connected) {
    add_line(out);
    error(out, cmd.id, ErrorCode::kNotConnected);
    return;
  }
  switch (cmd.method) {
    case Method::kPing:
      add_line(out);
      protocol::append_reply(out, cmd.id, "{}");
      return;
    case Method::kSubscribe:
      subscribe(s, cmd, out);
      return;
    case Method::kUnsubscribe:
      add_line(out);
      if (!hub().is_subscribed(&s, cmd.channel)) {
        error(out, cmd.id, ErrorCode::kNotSubscribed);
        return;
      }
      hub().unsubscribe(&s, cmd.channel);
      forget_presence(s, cmd.channel);
      protocol::append_reply(out, cmd.id, "{}");
      return;
    case Method::kPublish:
      publish(s, cmd, out);
      return;
    case Method::kRefresh:
      refresh(s, cmd, out);
      return;
    default:
      query(s, cmd, out);
      return;
  }
}

std::unique_ptr<Handler> make_protocol_handler(LoopContext& ctx) {
  return std::make_unique<ProtocolHandler>(ctx);
}

}  // namespace herald::server