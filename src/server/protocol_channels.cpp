// The channel commands of the Herald protocol (ProtocolHandler, protocol_handler_impl.h): the
// channel's namespace and its permissions, subscribe (a channel token, the subscription limit,
// presence first where it counts subscribers) and the join with recovery, unsubscribe's and a
// closed connection's presence removal, publish, history, presence and presence_stats, and a
// channel whose stream the broker lost. Thread: the loop's own.
#include <optional>
#include <variant>

#include "auth/jwt.h"
#include "protocol/messages.h"
#include "server/history_query.h"
#include "server/loop_context.h"
#include "server/permissions.h"
#include "server/protocol_handler_impl.h"
#include "server/token_checks.h"
#include "transport/transport.h"

namespace herald::server {
namespace {

// Presence is recorded for a namespace that shows it or limits its subscribers (which counts
// them there).
bool tracks_presence(const NamespaceOptions& ns) {
  return ns.presence || ns.max_subscribers > 0;
}

}  // namespace

bool ProtocolHandler::allowed(Session& s, const NamespaceOptions& ns, Operation op,
                              const protocol::Command& cmd, std::string& out, bool channel_token) {
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

const NamespaceOptions* ProtocolHandler::namespace_of(const protocol::Command& cmd,
                                                      std::string& out) {
  const NamespaceOptions* ns = ctx_.core.namespaces.find(cmd.channel);
  if (ns == nullptr) {
    add_line(out);
    std::string_view name = std::string_view(cmd.channel).substr(0, cmd.channel.find(':'));
    error(out, cmd.id, protocol::ErrorCode::kUnknownNamespace,
          "unknown namespace: " + std::string(name));
  }
  return ns;
}

void ProtocolHandler::forget_presence(Session& s, const std::string& channel) {
  const NamespaceOptions* ns = ctx_.core.namespaces.find(channel);
  if (ns != nullptr && tracks_presence(*ns)) {
    hub().presence_remove(channel, s.info().client, ns->join_leave);
  }
}

void ProtocolHandler::lost(Session& s, std::string_view channel_view) {
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

void ProtocolHandler::query(Session& s, protocol::Command& cmd, std::string& out) {
  using protocol::ErrorCode;
  using protocol::Method;
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

void ProtocolHandler::subscribe(Session& s, protocol::Command& cmd, std::string& out) {
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

void ProtocolHandler::join(Session& s, uint32_t cmd_id, const std::string& channel,
                           std::optional<hub::Position> since, const NamespaceOptions& ns,
                           int64_t started) {
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
                    PublicationViews views(reply.publications, reply.top.epoch);
                    const std::vector<protocol::PublicationView>& pubs = views.pubs;
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

void ProtocolHandler::publish(Session& s, protocol::Command& cmd, std::string& out) {
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

void ProtocolHandler::history(Session& s, protocol::Command& cmd) {
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
        PublicationViews views(h.publications, h.top.epoch);
        std::string result;
        protocol::append_history_result(result, views.pubs, h.top.offset, h.top.epoch);
        protocol::append_reply(line, cmd_id, result);
        send_later(id, std::move(line));
      });
}

}  // namespace herald::server
