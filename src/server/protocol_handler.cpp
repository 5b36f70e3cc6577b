#include "server/protocol_handler.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "auth/jwt.h"
#include "hub/hub.h"
#include "protocol/command_decoder.h"
#include "protocol/messages.h"
#include "server/history_query.h"
#include "server/loop_context.h"
#include "server/permissions.h"
#include "server/protocol_session.h"
#include "server/sessions.h"
#include "server/token_checks.h"
#include "transport/transport.h"
#include "transport/websocket.h"
#include "server/version.h"

namespace herald::server {
namespace {

// Presence is recorded for a namespace that shows it or limits its subscribers (which counts
// them there).
bool tracks_presence(const NamespaceOptions& ns) {
  return ns.presence || ns.max_subscribers > 0;
}

// A token's expiry timer is armed at most this far ahead ("exp" in the year 3000 would overflow
// the milliseconds): such a token is as good as eternal for one connection.
constexpr int64_t kMaxExpiryTimerS = 10LL * 365 * 24 * 3600;

class ProtocolHandler final : public Handler,
                              public transport::ProtocolEndpoint,
                              public ProtocolSessions {
 public:
  // Created before the loop's hub exists (Server::start makes the hubs once every loop is
  // there), so the hub is looked up when used.
  explicit ProtocolHandler(LoopContext& ctx) : ctx_(ctx) {
    ctx_.protocol_sessions.push_back(this);
    if (ctx_.endpoint == nullptr) {
      ctx_.endpoint = this;
    }
  }
  ~ProtocolHandler() override {
    auto& list = ctx_.protocol_sessions;
    list.erase(std::remove(list.begin(), list.end(), this), list.end());
    if (ctx_.endpoint == this) {
      ctx_.endpoint = nullptr;
    }
  }

  size_t disconnect_user(std::string_view user, uint16_t code, std::string_view reason) override {
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

  size_t count_clients(std::unordered_set<std::string>& users) const override {
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

  // The Herald protocol over WebSocket: every route of this server is a WebSocketSession, which
  // is also the protocol's Transport.
  void on_open(WebSocket& ws) override {
    on_open(static_cast<transport::Transport&>(static_cast<transport::WebSocketSession&>(ws)));
  }
  void on_message(WebSocket& ws, std::string_view data, MessageType type) override {
    auto& t = static_cast<transport::Transport&>(static_cast<transport::WebSocketSession&>(ws));
    if (type != MessageType::kText) {
      on_bad_input(t, "binary frames are not part of v1");
      return;
    }
    on_text(t, data);
  }
  void on_close(WebSocket& ws, uint16_t /*code*/, std::string_view /*reason*/) override {
    on_close(static_cast<transport::Transport&>(static_cast<transport::WebSocketSession&>(ws)));
  }

  // transport::ProtocolEndpoint
  void on_open(transport::Transport& t) override {
    auto s = std::make_unique<Session>(encoder_, t);
    double rate = ctx_.core.options.command_rate;
    s->commands = TokenBucket(rate, rate * 2 < 1 ? 1 : rate * 2);
    s->lost = [this](Session& session, std::string_view channel) { lost(session, channel); };
    // Client ids are unique: replacing a session here would free one still in the hub.
    [[maybe_unused]] bool added = sessions_.try_emplace(t.id(), std::move(s)).second;
    assert(added && "two protocol clients with one id");
  }

  void on_bad_input(transport::Transport& t, std::string_view why) override {
    if (Session* s = find(t.id())) {
      s->disconnect(protocol::DisconnectCode::kBadRequest, why);
    }
  }

  void on_going_away(transport::Transport& t) override {
    if (Session* s = find(t.id())) {
      s->disconnect(protocol::DisconnectCode::kGoingAway, "server shutting down");
    }
  }

  void on_text(transport::Transport& t, std::string_view data) override {
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

  void on_close(transport::Transport& t) override {
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

 private:
  hub::Hub& hub() { return *ctx_.hub; }

  // The running command's answer comes later: returns its start, for observe_command then.
  int64_t defer_timing() {
    command_async_ = true;
    return command_started_ns_;
  }
  // herald_command_duration_seconds (started 0: not timed).
  void observe_command(protocol::Method method, int64_t started) {
    if (started != 0) {
      ctx_.metrics.command_duration[static_cast<size_t>(method)].observe_ns(
          static_cast<uint64_t>(steady_now_ns() - started));
    }
  }

  Session* find(uint64_t id) {
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second.get();
  }

  // An error reply, counted by code for /metrics.
  void error(std::string& out, uint32_t id, protocol::ErrorCode code,
             std::string_view message = {}) {
    ctx_.metrics.protocol_error(code).add();
    protocol::append_error(out, id, code, message);
  }

  static void add_line(std::string& out) {
    if (!out.empty()) {
      out.push_back('\n');
    }
  }

  // Sends a reply later (after a broker round trip), if the connection is still there.
  void send_later(uint64_t conn_id, std::string line) {
    if (Session* s = find(conn_id)) {
      s->transport().send_text(line);
    }
  }

  // Adds the disconnect push to out and marks the session to close once out is sent.
  static void end_after_replies(Session& s, std::string& out, protocol::DisconnectCode code,
                                std::string_view reason) {
    add_line(out);
    protocol::append_disconnect_push(out, code, reason);
    s.close_code = static_cast<uint16_t>(code);
    s.close_reason = std::string(reason);
  }

  // Who the connection is: the token's user (and info) when a token is given, else anonymous
  // with the connect data as its info. False after answering a refusal (error 120, then the
  // connection ends with 4004 for an expired token, 4501 otherwise). ttl_s: the seconds the
  // token has left (0: no "exp").
  bool authenticate(Session& s, const protocol::Command& cmd, std::string& out, uint64_t& ttl_s) {
    if (cmd.token.empty()) {
      if (!ctx_.core.options.allow_anonymous) {
        ctx_.metrics.token_rejections.add();
        std::string why = "unauthorized: a connection token is required";
        error(out, cmd.id, protocol::ErrorCode::kUnauthorized, why);
        end_after_replies(s, out, protocol::DisconnectCode::kInvalidToken, why);
        return false;
      }
      s.info().info = cmd.data;
      return true;
    }
    int64_t now_s = unix_now_s();
    TokenCheck checked = check_connect_token(ctx_.tokens.get(), cmd.token, now_s, ctx_.metrics);
    if (const auto* refusal = std::get_if<TokenRefusal>(&checked)) {
      ctx_.metrics.token_rejections.add();
      error(out, cmd.id, refusal->error, refusal->message);
      end_after_replies(s, out, refusal->close, refusal->message);
      return false;
    }
    auto& claims = std::get<auth::TokenClaims>(checked);
    if (!claims.user.empty()) {
      if (!ctx_.core.limits->admit_user(claims.user)) {
        ctx_.metrics.user_connection_refusals.add();
        error(out, cmd.id, protocol::ErrorCode::kLimitExceeded,
              "too many connections for this user");
        end_after_replies(s, out, protocol::DisconnectCode::kConnectionLimit,
                          "too many connections for this user");
        return false;
      }
      s.user_counted = true;
      count_user_on_every_node(s, claims.user);
    }
    s.info().user = std::move(claims.user);
    s.info().info = claims.info.empty() ? cmd.data : std::move(claims.info);
    ttl_s = arm_expiry(s, claims.expires_at_s, now_s);
    return true;
  }

  // With several nodes the user's connections on every node count: the broker keeps them in
  // Redis. The connect does not wait for it: a connection found over the limit a moment after
  // its connect result is closed with 4504 then (Redis unavailable: this node's count holds).
  void count_user_on_every_node(Session& s, const std::string& user) {
    size_t limit = ctx_.core.limits->options().connections_per_user;
    if (limit == 0 || ctx_.core.broker->node_id().empty()) {
      return;
    }
    ctx_.core.broker->user_admit(
        ctx_.loop.index(), user, s.info().client, limit,
        [this, id = s.transport().id()](Result<bool> admitted) {
          Session* over = find(id);
          if (!admitted.ok() || *admitted || over == nullptr) {
            return;
          }
          ctx_.metrics.user_connection_refusals.add();
          auto code = protocol::DisconnectCode::kConnectionLimit;
          std::string push;
          protocol::append_disconnect_push(push, code, "too many connections for this user");
          over->transport().send_text(push);
          over->transport().close(static_cast<uint16_t>(code),
                                  "too many connections for this user");
        });
  }

  // The token's "exp" ends the connection with 4004 when it passes (a refresh moves it).
  // Returns the seconds left, 0 for a token without "exp" (then no timer runs).
  uint64_t arm_expiry(Session& s, int64_t expires_at_s, int64_t now_s) {
    if (expires_at_s <= 0) {
      s.cancel();
      return 0;
    }
    int64_t left_s = std::min(expires_at_s - now_s, kMaxExpiryTimerS);
    ctx_.loop.timers().arm(s, ctx_.loop.now_ms(), static_cast<uint64_t>(left_s) * 1000);
    return static_cast<uint64_t>(left_s);
  }

  // Swaps the connection's token for a fresh one of the same user: a new expiry, nothing else
  // (the user's info in presence stays what connect gave).
  void refresh(Session& s, const protocol::Command& cmd, std::string& out) {
    add_line(out);
    int64_t now_s = unix_now_s();
    TokenCheck checked =
        check_refresh_token(ctx_.tokens.get(), cmd.token, now_s, s.info().user, ctx_.metrics);
    if (const auto* refusal = std::get_if<TokenRefusal>(&checked)) {
      error(out, cmd.id, refusal->error, refusal->message);
      if (refusal->close != protocol::DisconnectCode{0}) {
        end_after_replies(s, out, refusal->close, refusal->message);
      }
      return;
    }
    uint64_t ttl_s = arm_expiry(s, std::get<auth::TokenClaims>(checked).expires_at_s, now_s);
    ctx_.metrics.token_refreshes.add();
    std::string result;
    protocol::append_refresh_result(result, ttl_s);
    protocol::append_reply(out, cmd.id, result);
  }

  // The namespace's permission for op on cmd.channel (and the channel's user list). False after
  // answering the refusal (111, or 120 for a missing channel token) and counting it.
  bool allowed(Session& s, const NamespaceOptions& ns, Operation op, const protocol::Command& cmd,
               std::string& out, bool channel_token = false) {
    Requester who{s.info().user,
                  op != Operation::kSubscribe && hub().is_subscribed(&s, cmd.channel),
                  channel_token};
    std::optional<Refusal> refusal = check_access(ns, op, cmd.channel, who);
    if (!refusal) {
      return true;
    }
    ctx_.metrics.permission_refusal(op, *refusal).add();
    add_line(out);
    error(out, cmd.id, error_code(*refusal), refusal_message(op, *refusal));
    return false;
  }

  // The channel's namespace, or nullptr after adding error 118 to out.
  const NamespaceOptions* namespace_of(const protocol::Command& cmd, std::string& out) {
    const NamespaceOptions* ns = ctx_.core.namespaces.find(cmd.channel);
    if (ns == nullptr) {
      add_line(out);
      std::string_view name = std::string_view(cmd.channel).substr(0, cmd.channel.find(':'));
      error(out, cmd.id, protocol::ErrorCode::kUnknownNamespace,
            "unknown namespace: " + std::string(name));
    }
    return ns;
  }

  void forget_presence(Session& s, const std::string& channel) {
    const NamespaceOptions* ns = ctx_.core.namespaces.find(channel);
    if (ns != nullptr && tracks_presence(*ns)) {
      hub().presence_remove(channel, s.info().client, ns->join_leave);
    }
  }

  // The broker lost the channel's live stream (Redis restarted, or the node's connection to it
  // dropped): the client may have missed publications. It is unsubscribed with 2000, which tells
  // it to subscribe again from its last position (recovered exactly, or recovered: false with
  // the new epoch). A unidirectional SSE stream cannot subscribe again by itself: it is
  // disconnected with 4003 and its EventSource reconnects with Last-Event-ID.
  void lost(Session& s, std::string_view channel_view) {
    std::string channel(channel_view);
    if (s.transport().labels_positions()) {
      s.disconnect(protocol::DisconnectCode::kInsufficientState, "channel stream lost");
      return;
    }
    hub().unsubscribe(&s, channel);
    forget_presence(s, channel);
    std::string push;
    protocol::append_unsubscribe_push(push, channel, protocol::UnsubscribeCode::kResubscribe);
    s.transport().send_text(push);
  }

  void handle(Session& s, protocol::Command& cmd, std::string& out) {
    using protocol::ErrorCode;
    using protocol::Method;
    if (cmd.method == Method::kConnect) {
      add_line(out);
      if (s.connected) {
        error(out, cmd.id, ErrorCode::kAlreadyConnected);
        return;
      }
      uint64_t ttl_s = 0;
      if (!authenticate(s, cmd, out, ttl_s)) {
        return;
      }
      s.connected = true;
      ctx_.metrics.protocol_clients.add();
      std::string result;
      protocol::append_connect_result(result, s.info().client, kServerVersion,
                                      // Whole seconds, rounded up: 0 would read as "no
                                      // keepalive" to a client with a sub-second interval.
                                      (ctx_.core.options.ping_interval_ms + 999) / 1000,
                                      // pong: only where the client can answer a keepalive
                                      // (not on an SSE stream or a poll session).
                                      s.transport().session_id().empty(),
                                      s.transport().session_id(), ttl_s);
      protocol::append_reply(out, cmd.id, result);
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
        break;
    }
    const NamespaceOptions* ns = namespace_of(cmd, out);
    if (ns == nullptr) {
      return;
    }
    bool presence_off =
        (cmd.method == Method::kPresence || cmd.method == Method::kPresenceStats) && !ns->presence;
    bool history_off = cmd.method == Method::kHistory && ns->history_size == 0;
    if (presence_off || history_off) {
      add_line(out);
      error(out, cmd.id, ErrorCode::kNotAvailable,
            presence_off ? "presence is off in the namespace" : "the namespace keeps no history");
      return;
    }
    Operation op = cmd.method == Method::kHistory ? Operation::kHistory : Operation::kPresence;
    if (!allowed(s, *ns, op, cmd, out)) {
      return;
    }
    switch (cmd.method) {
      case Method::kPresence:
        hub().presence(cmd.channel, [this, id = s.transport().id(), cmd_id = cmd.id,
                                     started = defer_timing()](
                                        Result<std::vector<broker::ClientInfo>> r) {
          observe_command(protocol::Method::kPresence, started);
          std::string line;
          if (!r.ok()) {
            error(line, cmd_id, ErrorCode::kUnavailable);
          } else {
            std::vector<protocol::ClientInfoView> views;
            for (const auto& who : r.value()) {
              views.push_back(view_of(who));
            }
            std::string result;
            protocol::append_presence_result(result, views);
            protocol::append_reply(line, cmd_id, result);
          }
          send_later(id, std::move(line));
        });
        return;
      case Method::kPresenceStats:
        hub().presence_stats(
            cmd.channel, [this, id = s.transport().id(), cmd_id = cmd.id,
                          started = defer_timing()](Result<broker::PresenceStats> r) {
              observe_command(protocol::Method::kPresenceStats, started);
              std::string line;
              if (!r.ok()) {
                error(line, cmd_id, ErrorCode::kUnavailable);
              } else {
                std::string result;
                protocol::append_presence_stats_result(result, r.value().clients, r.value().users);
                protocol::append_reply(line, cmd_id, result);
              }
              send_later(id, std::move(line));
            });
        return;
      case Method::kHistory:
        history(s, cmd);
        return;
      default:
        return;  // handled above
    }
  }

  void subscribe(Session& s, protocol::Command& cmd, std::string& out) {
    using protocol::ErrorCode;
    const NamespaceOptions* ns = namespace_of(cmd, out);
    if (ns == nullptr) {
      return;
    }
    // A channel token given is always checked, whatever the namespace asks: a bad one is an
    // error, never silently ignored. A good one grants this subscribe.
    bool channel_token = false;
    if (!cmd.token.empty()) {
      auth::ChannelRequest request{s.info().user, s.info().client, cmd.channel};
      TokenCheck checked = check_channel_token(ctx_.tokens.get(), cmd.token, unix_now_s(),
                                               request, ctx_.metrics);
      if (const auto* refusal = std::get_if<TokenRefusal>(&checked)) {
        ctx_.metrics.permission_refusal(Operation::kSubscribe, Refusal::kChannelToken).add();
        add_line(out);
        error(out, cmd.id, refusal->error, refusal->message);
        return;
      }
      ctx_.metrics.channel_tokens.add();
      channel_token = true;
    }
    if (!allowed(s, *ns, Operation::kSubscribe, cmd, out, channel_token)) {
      return;
    }
    if (hub().is_subscribed(&s, cmd.channel) || s.reserving.count(cmd.channel) != 0) {
      add_line(out);
      error(out, cmd.id, ErrorCode::kAlreadySubscribed);
      return;
    }
    if (hub().subscription_count(&s) + s.reserving.size() >= ctx_.core.options.max_subscriptions) {
      add_line(out);
      ctx_.metrics.subscription_limit_refusals.add();
      error(out, cmd.id, ErrorCode::kLimitExceeded, "too many subscriptions on this connection");
      return;
    }
    std::optional<hub::Position> since;
    if (cmd.recover && cmd.since && ns->history_size > 0) {
      since = hub::Position{cmd.since->offset, cmd.since->epoch};
    }
    if (!tracks_presence(*ns)) {
      join(s, cmd.id, cmd.channel, since, *ns, defer_timing());
      return;
    }
    // Presence first: it is where the subscriber limit is counted, atomically for the channel.
    // Join pushes thus reach the others before this client's subscribe reply; that is fine.
    s.reserving.insert(cmd.channel);
    hub().presence_add(cmd.channel, s.info(), ns->join_leave, ns->max_subscribers,
                       [this, id = s.transport().id(), client = s.info().client, cmd_id = cmd.id,
                        channel = cmd.channel, since, ns,
                        started = defer_timing()](Result<bool> added) {
                         Session* sp = find(id);
                         if (sp == nullptr) {
                           if (added.ok() && added.value()) {
                             hub().presence_remove(channel, client, ns->join_leave);
                           }
                           return;
                         }
                         sp->reserving.erase(channel);
                         if (!added.ok()) {
                           observe_command(protocol::Method::kSubscribe, started);
                           std::string line;
                           error(line, cmd_id, ErrorCode::kUnavailable, added.error());
                           sp->transport().send_text(line);
                           return;
                         }
                         if (!added.value()) {
                           ctx_.metrics.subscriber_limit_refusals.add();
                           observe_command(protocol::Method::kSubscribe, started);
                           std::string line;
                           error(line, cmd_id, ErrorCode::kLimitExceeded,
                                 "the channel has its maximum number of subscribers");
                           sp->transport().send_text(line);
                           return;
                         }
                         join(*sp, cmd_id, channel, since, *ns, started);
                       });
  }

  // Joins the channel's live stream (with recovery from `since`) and answers the subscribe.
  void join(Session& s, uint32_t cmd_id, const std::string& channel,
            std::optional<hub::Position> since, const NamespaceOptions& ns, int64_t started) {
    Session* sp = &s;
    bool recoverable = ns.history_size > 0;
    hub().subscribe(sp, channel, since,
                    [this, sp, cmd_id, channel, recoverable,
                     started](Result<hub::SubscribeReply> r) {
                      observe_command(protocol::Method::kSubscribe, started);
                      std::string line;
                      if (!r.ok()) {
                        forget_presence(*sp, channel);
                        error(line, cmd_id, protocol::ErrorCode::kUnavailable);
                        sp->transport().send_text(line);
                        return;
                      }
                      const hub::SubscribeReply& reply = r.value();
                      transport::Transport& t = sp->transport();
                      // A transport that labels pushes with positions (unidirectional SSE) gets
                      // the recovered publications as pushes after the reply, each with its
                      // position, and then the channel's position as of the reply.
                      bool labelled = t.labels_positions();
                      std::vector<protocol::ClientInfoView> infos;
                      infos.reserve(reply.publications.size());
                      std::vector<protocol::PublicationView> pubs;
                      pubs.reserve(reply.publications.size());
                      for (const auto& rec : reply.publications) {
                        infos.push_back(view_of(rec.publisher));
                        pubs.push_back(view_of(rec, reply.top.epoch, &infos.back()));
                      }
                      std::string result;
                      protocol::append_subscribe_result(
                          result, reply.top.epoch, reply.top.offset, recoverable, reply.recovered,
                          labelled ? std::vector<protocol::PublicationView>{} : pubs);
                      protocol::append_reply(line, cmd_id, result);
                      t.send_text(line);
                      if (labelled) {
                        if (!pubs.empty()) {
                          std::string pushes;
                          for (const protocol::PublicationView& p : pubs) {
                            add_line(pushes);
                            protocol::append_message_push(pushes, channel, p);
                          }
                          t.send_positioned(pushes, transport::PushPositions{
                                                        channel, reply.top.epoch, pubs[0].offset,
                                                        pubs.back().offset});
                        }
                        t.set_position(transport::PushPositions{channel, reply.top.epoch,
                                                                reply.top.offset,
                                                                reply.top.offset});
                      }
                    });
  }

  void publish(Session& s, protocol::Command& cmd, std::string& out) {
    const NamespaceOptions* ns = namespace_of(cmd, out);
    if (ns == nullptr) {
      return;
    }
    if (!allowed(s, *ns, Operation::kPublish, cmd, out)) {
      return;
    }
    // Per user over all their connections; an anonymous client is its own user here.
    std::string_view who = s.info().user.empty() ? std::string_view(s.info().client)
                                                 : std::string_view(s.info().user);
    if (!ctx_.core.limits->charge_publish(who, ctx_.loop.now_ms())) {
      ctx_.metrics.publish_rate_refusals.add();
      add_line(out);
      error(out, cmd.id, protocol::ErrorCode::kTooManyRequests, "publish rate over the limit");
      return;
    }
    broker::PublishRequest req{std::move(cmd.data), s.info(), std::move(cmd.idempotency_key)};
    hub().publish(cmd.channel, std::move(req),
                  [this, id = s.transport().id(), cmd_id = cmd.id,
                   started = defer_timing()](Result<broker::PublishResult> r) {
                    observe_command(protocol::Method::kPublish, started);
                    std::string line;
                    if (!r.ok()) {
                      error(line, cmd_id, protocol::ErrorCode::kUnavailable, r.error());
                    } else {
                      if (!r->duplicate) {
                        ctx_.metrics.channel_publications.add();
                      }
                      std::string result;
                      protocol::append_publish_result(result, r.value().top.offset,
                                                      r.value().top.epoch);
                      protocol::append_reply(line, cmd_id, result);
                    }
                    send_later(id, std::move(line));
                  });
  }

  void history(Session& s, protocol::Command& cmd) {
    hub().history(
        cmd.channel, history_query(cmd.since, cmd.limit, cmd.reverse),
        [this, id = s.transport().id(), cmd_id = cmd.id, since = cmd.since,
         started = defer_timing()](Result<broker::HistoryResult> r) {
          observe_command(protocol::Method::kHistory, started);
          std::string line;
          if (auto code = history_error(since, r)) {
            error(line, cmd_id, *code);
            send_later(id, std::move(line));
            return;
          }
          const broker::HistoryResult& h = r.value();
          std::vector<protocol::ClientInfoView> infos;
          infos.reserve(h.publications.size());
          std::vector<protocol::PublicationView> pubs;
          pubs.reserve(h.publications.size());
          for (const auto& rec : h.publications) {
            infos.push_back(view_of(rec.publisher));
            pubs.push_back(view_of(rec, h.top.epoch, &infos.back()));
          }
          std::string result;
          protocol::append_history_result(result, pubs, h.top.offset, h.top.epoch);
          protocol::append_reply(line, cmd_id, result);
          send_later(id, std::move(line));
        });
  }

  LoopContext& ctx_;
  protocol::CommandDecoder decoder_;
  std::vector<protocol::DecodedCommand> decoded_;
  std::unordered_map<uint64_t, std::unique_ptr<Session>> sessions_;
  PushEncoder encoder_;
  bool timing_ = ctx_.core.options.latency_metrics;  // herald_command_duration_seconds is on
  int64_t command_started_ns_ = 0;  // the command being handled (0: not timed)
  bool command_async_ = false;      // its answer comes later (defer_timing was called)
};

}  // namespace

std::unique_ptr<Handler> make_protocol_handler(LoopContext& ctx) {
  return std::make_unique<ProtocolHandler>(ctx);
}

}  // namespace herald::server
