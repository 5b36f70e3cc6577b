// The webhook side of the Pusher endpoint (see endpoint.h, "Webhooks", webhooks.h and
// hook_holds.h): where channel_occupied/vacated, member_added/removed and client_event are
// decided. Nothing here runs unless an app has a webhook that wants the event.

#include <functional>

#include "pusher/endpoint.h"
#include "pusher/hook_holds.h"
#include "pusher/webhooks.h"

namespace herald::pusher {
namespace {

constexpr uint8_t kOccupancyHooks = kHookChannelOccupied | kHookChannelVacated;
constexpr uint8_t kMemberHooks = kHookMemberAdded | kHookMemberRemoved;

int owner_of(std::string_view channel, int loops) {
  return static_cast<int>(std::hash<std::string_view>{}(channel) % static_cast<size_t>(loops));
}

}  // namespace

void Endpoint::hook_established(Session& s, const std::string& channel,
                                const Session::Subscription& sub) {
  uint8_t kinds = s.app.webhook_kinds;
  if ((kinds & (kOccupancyHooks | kMemberHooks)) == 0) {
    return;
  }
  const App* app = &s.app;
  int owner = owner_of(channel, host_->loop_count());
  // The channel first, so that channel_occupied comes before member_added.
  if ((kinds & kOccupancyHooks) != 0 && ++hook_local_[channel] == 1) {
    host_->post_to(owner, [app, channel](Endpoint& e) { e.owner_occupancy(*app, channel, +1); });
  }
  if ((kinds & kMemberHooks) != 0 && is_presence(sub.kind)) {
    host_->post_to(owner, [app, channel, user = sub.user_id](Endpoint& e) {
      e.owner_member(*app, channel, user, +1);
    });
  }
}

void Endpoint::hook_removed(Session& s, const std::string& channel,
                            const Session::Subscription& sub) {
  uint8_t kinds = s.app.webhook_kinds;
  if (!sub.established || (kinds & (kOccupancyHooks | kMemberHooks)) == 0) {
    return;
  }
  const App* app = &s.app;
  int owner = owner_of(channel, host_->loop_count());
  // The member first, so that member_removed comes before channel_vacated.
  if ((kinds & kMemberHooks) != 0 && is_presence(sub.kind)) {
    host_->post_to(owner, [app, channel, user = sub.user_id](Endpoint& e) {
      e.owner_member(*app, channel, user, -1);
    });
  }
  if ((kinds & kOccupancyHooks) == 0) {
    return;
  }
  auto it = hook_local_.find(channel);
  if (it == hook_local_.end()) {
    return;
  }
  if (--it->second == 0) {
    hook_local_.erase(it);
    host_->post_to(owner, [app, channel](Endpoint& e) { e.owner_occupancy(*app, channel, -1); });
  }
}

// A change this node saw (start: its first holder of key came, or its last went), made the
// cluster's through the broker's holds: report(true) for a start that no other node had made,
// report(false) for an end that leaves no node holding it (and for the unreported end of holders
// that died, before this node's start). A broker of one node answers at once: every change is
// the cluster's. When the broker is unavailable, this node reports what it saw.
void Endpoint::decide_hook(bool start, const std::string& key, std::function<void(bool)> report) {
  auto decided = [start, report = std::move(report)](Result<broker::HoldChange> r) {
    if (!r.ok()) {
      report(start);
      return;
    }
    if (start && r->ended_before) {
      report(false);
    }
    if (r->decisive) {
      report(start);
    }
  };
  if (start) {
    host_->hub().hold(key, std::move(decided));
  } else {
    host_->hub().release(key, std::move(decided));
  }
}

void Endpoint::owner_occupancy(const App& app, const std::string& channel, int delta) {
  Webhooks* hooks = host_->webhooks();
  if (hooks == nullptr) {
    return;
  }
  auto report = [hooks, app = &app, name = std::string(pusher_channel(app.ns, channel))](bool on) {
    hooks->send(*app, on ? kHookChannelOccupied : kHookChannelVacated, occupancy_hook(on, name));
  };
  if (delta > 0) {
    if (++hook_loops_[channel] == 1) {
      decide_hook(true, occupancy_hold(app, channel), std::move(report));
    }
    return;
  }
  auto it = hook_loops_.find(channel);
  if (it != hook_loops_.end() && --it->second == 0) {
    hook_loops_.erase(it);
    decide_hook(false, occupancy_hold(app, channel), std::move(report));
  }
}

void Endpoint::owner_member(const App& app, const std::string& channel, const std::string& user,
                            int delta) {
  Webhooks* hooks = host_->webhooks();
  if (hooks == nullptr) {
    return;
  }
  auto report = [hooks, app = &app, name = std::string(pusher_channel(app.ns, channel)),
                 user](bool on) {
    hooks->send(*app, on ? kHookMemberAdded : kHookMemberRemoved, member_hook(on, name, user));
  };
  std::string key = channel + '\n' + user;
  if (delta > 0) {
    if (++hook_members_[key] == 1) {
      decide_hook(true, member_hold(app, channel, user), std::move(report));
    }
    return;
  }
  auto it = hook_members_.find(key);
  if (it != hook_members_.end() && --it->second == 0) {
    hook_members_.erase(it);
    decide_hook(false, member_hold(app, channel, user), std::move(report));
  }
}

void Endpoint::hook_client_event(Session& s, const ClientFrame& f,
                                 const Session::Subscription& sub) {
  Webhooks* hooks = host_->webhooks();
  if (hooks == nullptr || !hooks->wants(s.app, kHookClientEvent)) {
    return;
  }
  std::string_view user = is_presence(sub.kind) ? std::string_view(sub.user_id) : std::string_view{};
  hooks->send(s.app, kHookClientEvent,
              client_event_hook(f.channel, f.event, f.data, s.socket_id, user));
}

}  // namespace herald::pusher
