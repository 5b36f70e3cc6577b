// The subscription side of the Pusher endpoint: pusher:subscribe and pusher:unsubscribe, channel
// authorization, cache- replay, and presence through the loop's Rosters (see endpoint.h).

#include "base/json_string.h"
#include "pusher/endpoint.h"
#include "pusher/signing.h"

namespace herald::pusher {

void Endpoint::subscription_failed(Session& s, std::string_view pusher_channel,
                                   std::string_view type, std::string_view message, int status) {
  metrics_.subscription_errors.add();
  s.send(subscription_error(pusher_channel, type, message, status));
}

void Endpoint::subscription_succeeded(Session& s, const std::string& channel,
                                      std::string_view data) {
  auto it = s.subs.find(channel);
  if (it == s.subs.end()) {
    return;
  }
  if (!it->second.established) {
    it->second.established = true;
    hook_established(s, channel, it->second);
  }
  metrics_.subscriptions.add();
  if (it->second.positions) {
    return send_positioned(s, pusher_channel(s.app.ns, channel), data, it->second);
  }
  std::string out;
  append_event_string_data(out, "pusher_internal:subscription_succeeded",
                           pusher_channel(s.app.ns, channel), data);
  s.send(out);
}

void Endpoint::subscribe(Session& s, const ClientFrame& f) {
  std::string_view name = f.channel;
  if (!valid_channel_name(name)) {
    // The name is echoed back (cut to the limit) so the client's channel object hears it.
    return subscription_failed(s, name.substr(0, 2 * kMaxChannelName), "InvalidChannel",
                               "channel names are 1-200 bytes of [A-Za-z0-9_-=@,.;]", 400);
  }
  std::string channel = herald_channel(s.app.ns, name);
  if (auto it = s.subs.find(channel); it != s.subs.end()) {
    // Subscribed already: a non-presence subscription is confirmed again; one in progress
    // will be confirmed when it completes.
    if (it->second.established && !is_presence(it->second.kind)) {
      subscription_succeeded(s, channel, "{}");
    }
    return;
  }
  if (s.subs.size() >= host_->max_subscriptions()) {
    return subscription_failed(s, name, "LimitExceeded", "too many subscriptions on this connection",
                               400);
  }
  Session::Subscription sub;
  sub.kind = channel_kind(name);
  if (sub.kind == ChannelKind::kServerToUser) {
    if (s.user_id.empty() || server_to_user_id(name) != s.user_id) {
      return subscription_failed(s, name, "AuthError",
                                 "#server-to-user channels are for the signed-in user only", 403);
    }
  }
  if (needs_auth(sub.kind)) {
    std::string_view channel_data = f.has_channel_data ? f.channel_data : std::string_view{};
    if (f.auth.empty() ||
        !check_auth(s.app.options.key, s.app.options.secret,
                    channel_auth_message(s.socket_id, name, channel_data), f.auth)) {
      return subscription_failed(
          s, name, "AuthError",
          "Invalid signature: expected HMAC SHA256 hex digest of socket_id:channel[:channel_data]",
          401);
    }
    if (is_presence(sub.kind)) {
      if (!f.has_channel_data || !channel_data_.parse(channel_data)) {
        return subscription_failed(s, name, "InvalidChannelData",
                                   "channel_data must be a JSON object text", 400);
      }
      std::optional<std::string> user = channel_data_.string_or_integer("user_id");
      if (!user || user->empty() || user->size() > kMaxChannelName) {
        return subscription_failed(s, name, "InvalidChannelData",
                                   "channel_data needs a non-empty user_id", 400);
      }
      sub.user_id = std::move(*user);
      if (auto info = channel_data_.raw("user_info")) {
        sub.user_info = std::string(*info);
      }
      auto r = rosters_.find(channel);
      if (r != rosters_.end() && r->second->is_synced() && !r->second->has_user(sub.user_id) &&
          r->second->user_count() >= s.app.options.max_presence_members) {
        return subscription_failed(s, name, "LimitExceeded",
                                   "the presence channel has its maximum number of members", 403);
      }
    }
  }
  std::optional<hub::Position> since;
  if (!f.herald_since.empty() && s.app.options.history > 0 &&
      !read_since(s, f, name, sub, since)) {
    return;
  }
  ChannelKind kind = sub.kind;
  s.subs.emplace(channel, std::move(sub));
  uint64_t id = s.id;
  host_->hub().subscribe(&s, channel, std::move(since),
                         [this, id, channel, kind](Result<hub::SubscribeReply> r) {
    Session* sp = find(id);
    if (sp == nullptr || sp->subs.count(channel) == 0) {
      return;
    }
    std::string pname(pusher_channel(sp->app.ns, channel));
    if (!r.ok()) {
      sp->forget_found();
      sp->subs.erase(channel);
      return subscription_failed(*sp, pname, "Unavailable", "the broker is unavailable", 503);
    }
    if (Session::Subscription& mine = sp->subs.at(channel); mine.positions) {
      keep_reply(mine, r.value());
    }
    if (is_presence(kind)) {
      return join_presence(*sp, channel);
    }
    subscription_succeeded(*sp, channel, "{}");
    if (!is_cache(kind)) {
      return;
    }
    broker::HistoryQuery last;
    last.reverse = true;
    last.limit = 1;
    host_->hub().history(channel, last, [this, id, channel, pname](Result<broker::HistoryResult> h) {
      Session* s2 = find(id);
      if (s2 == nullptr || s2->subs.count(channel) == 0) {
        return;
      }
      if (h.ok() && !h.value().publications.empty()) {
        s2->send(frames_.frame_one(pname, h.value().publications.front()));
      } else {
        std::string out;
        append_event(out, "pusher:cache_miss", pname, "{}");
        s2->send(out);
      }
    });
  });
}

void Endpoint::unsubscribe(Session& s, std::string_view pusher_name) {
  if (!valid_channel_name(pusher_name)) {
    return;
  }
  std::string channel = herald_channel(s.app.ns, pusher_name);
  auto it = s.subs.find(channel);
  if (it == s.subs.end()) {
    return;
  }
  Session::Subscription sub = std::move(it->second);
  s.forget_found();
  s.subs.erase(it);
  host_->hub().unsubscribe(&s, channel);
  if (is_presence(sub.kind)) {
    leave_presence(s, channel, sub);
  }
  hook_removed(s, channel, sub);
}

void Endpoint::leave_all(Session& s) {
  for (const auto& [channel, sub] : s.subs) {
    if (is_presence(sub.kind)) {
      leave_presence(s, channel, sub);
    }
    hook_removed(s, channel, sub);
  }
  s.forget_found();
  s.subs.clear();
  host_->hub().leave_all(&s);
}

// Presence: the connection's own hub subscription is made; now its presence, then it waits for
// the roster to see its join (subscription_succeeded then carries every member, itself too).
void Endpoint::join_presence(Session& s, const std::string& channel) {
  Roster& r = roster(channel);
  r.pending.insert(&s);
  const Session::Subscription& sub = s.subs.at(channel);
  uint64_t id = s.id;
  host_->hub().presence_add(
      channel, broker::ClientInfo{s.socket_id, sub.user_id, sub.user_info}, true, 0,
      [this, id, channel, client = s.socket_id](Result<bool> added) {
        Session* sp = find(id);
        if (sp == nullptr || sp->subs.count(channel) == 0) {
          if (added.ok() && added.value()) {
            host_->hub().presence_remove(channel, client, true);
          }
          return;
        }
        if (!added.ok() || !added.value()) {
          Session::Subscription gone = std::move(sp->subs.at(channel));
          sp->forget_found();
          sp->subs.erase(channel);
          host_->hub().unsubscribe(sp, channel);
          leave_presence(*sp, channel, gone);
          subscription_failed(*sp, pusher_channel(sp->app.ns, channel), "Unavailable",
                              "presence is unavailable", 503);
        }
        // Otherwise the roster establishes it when it sees the join.
      });
}

void Endpoint::leave_presence(Session& s, const std::string& channel,
                              const Session::Subscription& /*sub*/) {
  auto it = rosters_.find(channel);
  if (it != rosters_.end()) {
    it->second->pending.erase(&s);
    it->second->established.erase(&s);
  }
  host_->hub().presence_remove(channel, s.socket_id, true);
  release_roster(channel);
}

Roster& Endpoint::roster(const std::string& channel) {
  auto it = rosters_.find(channel);
  if (it != rosters_.end()) {
    return *it->second;
  }
  auto owned = std::make_unique<Roster>(*this, channel);
  Roster* r = owned.get();
  rosters_.emplace(channel, std::move(owned));
  host_->hub().subscribe(r, channel, std::nullopt, [this, r, channel](Result<hub::SubscribeReply> s) {
    // Not called if the roster left first (the hub drops a member's pending callbacks).
    if (!s.ok()) {
      return;  // its sessions stay pending; they give up when they leave
    }
    host_->hub().presence(channel, [this, r, channel](Result<std::vector<broker::ClientInfo>> m) {
      auto found = rosters_.find(channel);
      if (found == rosters_.end() || found->second.get() != r || !m.ok()) {
        return;
      }
      r->synced(m.value());
    });
  });
  return *r;
}

void Endpoint::release_roster(const std::string& channel) {
  auto it = rosters_.find(channel);
  if (it == rosters_.end() || !it->second->pending.empty() || !it->second->established.empty()) {
    return;
  }
  host_->hub().unsubscribe(it->second.get(), channel);
  // Freed after this turn: the hub may be walking the channel's members right now.
  std::shared_ptr<Roster> retired(std::move(it->second));
  rosters_.erase(it);
  host_->loop().defer([retired] {});
}

void Roster::synced(const std::vector<broker::ClientInfo>& members) {
  clients_.clear();
  users_.clear();
  for (const broker::ClientInfo& who : members) {
    if (clients_.emplace(who.client, Member{who.user, who.info}).second) {
      users_[who.user] += 1;
    }
  }
  synced_ = true;
  establish_ready();
}

void Roster::on_channel_join(std::string_view /*channel*/, const broker::ClientInfo& who) {
  if (!synced_ || clients_.count(who.client) != 0) {
    return;  // before the presence read (which holds it), or known already
  }
  clients_.emplace(who.client, Member{who.user, who.info});
  if (++users_[who.user] == 1) {
    member_event("pusher_internal:member_added", who.user, who.info);
  }
  establish_ready();
}

void Roster::on_channel_leave(std::string_view /*channel*/, const broker::ClientInfo& who) {
  if (!synced_) {
    return;
  }
  auto it = clients_.find(who.client);
  if (it == clients_.end()) {
    return;
  }
  std::string user = std::move(it->second.user);
  clients_.erase(it);
  auto u = users_.find(user);
  if (u != users_.end() && --u->second == 0) {
    users_.erase(u);
    member_event("pusher_internal:member_removed", user, {});
  }
}

void Roster::establish_ready() {
  std::vector<Session*> ready;
  for (Session* s : pending) {
    if (clients_.count(s->socket_id) != 0) {
      ready.push_back(s);
    }
  }
  if (ready.empty()) {
    return;
  }
  std::string data = presence_data();
  for (Session* s : ready) {
    pending.erase(s);
    established.insert(s);
    endpoint_.subscription_succeeded(*s, channel_, data);
  }
}

void Roster::member_event(std::string_view event, const std::string& user, const std::string& info) {
  if (established.empty()) {
    return;
  }
  std::string data = R"({"user_id":)";
  append_json_string(data, user);
  if (event == "pusher_internal:member_added") {
    data += R"(,"user_info":)";
    data += info.empty() ? std::string_view("null") : std::string_view(info);
  }
  data += '}';
  Session* any = *established.begin();
  std::string out;
  append_event_string_data(out, event, pusher_channel(any->app.ns, channel_), data);
  for (Session* s : established) {
    s->send(out);
  }
}

std::string Roster::presence_data() const {
  // The first connection's info stands for its user (the same user's connections normally sign
  // the same info).
  std::unordered_map<std::string, const std::string*> infos;
  for (const auto& [client, m] : clients_) {
    infos.emplace(m.user, &m.info);
  }
  std::string ids = "[";
  std::string hash = "{";
  bool first = true;
  for (const auto& [user, info] : infos) {
    if (!first) {
      ids += ',';
      hash += ',';
    }
    first = false;
    append_json_string(ids, user);
    append_json_string(hash, user);
    hash += ':';
    hash += info->empty() ? std::string_view("null") : std::string_view(*info);
  }
  ids += ']';
  hash += '}';
  return R"({"presence":{"ids":)" + ids + R"(,"hash":)" + hash + R"(,"count":)" +
         std::to_string(infos.size()) + "}}";
}

}  // namespace herald::pusher
