// The webhook side of the Pusher endpoint (see endpoint.h, "Webhooks", and webhooks.h): where
// channel_occupied/vacated, member_added/removed and client_event are decided. Nothing here runs
// unless an app has a webhook that wants the event.

#include <functional>

#include "pusher/endpoint.h"
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

void Endpoint::owner_occupancy(const App& app, const std::string& channel, int delta) {
  Webhooks* hooks = host_->webhooks();
  if (delta > 0) {
    if (++hook_loops_[channel] == 1 && hooks != nullptr) {
      hooks->send(app, kHookChannelOccupied, occupancy_hook(true, pusher_channel(app.ns, channel)));
    }
    return;
  }
  auto it = hook_loops_.find(channel);
  if (it != hook_loops_.end() && --it->second == 0) {
    hook_loops_.erase(it);
    if (hooks != nullptr) {
      hooks->send(app, kHookChannelVacated, occupancy_hook(false, pusher_channel(app.ns, channel)));
    }
  }
}

void Endpoint::owner_member(const App& app, const std::string& channel, const std::string& user,
                            int delta) {
  Webhooks* hooks = host_->webhooks();
  std::string key = channel + '\n' + user;
  if (delta > 0) {
    if (++hook_members_[key] == 1 && hooks != nullptr) {
      hooks->send(app, kHookMemberAdded, member_hook(true, pusher_channel(app.ns, channel), user));
    }
    return;
  }
  auto it = hook_members_.find(key);
  if (it != hook_members_.end() && --it->second == 0) {
    hook_members_.erase(it);
    if (hooks != nullptr) {
      hooks->send(app, kHookMemberRemoved,
                  member_hook(false, pusher_channel(app.ns, channel), user));
    }
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
