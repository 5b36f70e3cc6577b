#pragma once
// The webhooks' holds over every node (docs/PUSHER.md, "Webhooks"): each node decides when its
// own connections make a channel occupied or a presence member present (hooks.cpp, on the
// channel's owner loop), and the broker's holds (broker::Broker::hold) decide which node's change
// is the cluster's: only the first holder reports channel_occupied / member_added, only the last
// reports channel_vacated / member_removed. A node that dies never releases; the node whose sweep
// ends its holds reports them here (AbandonedHooks), so a receiver still hears each end once.
//
// Hold keys: "pusher:<app id>:o:<Herald channel>" (occupancy) and
// "pusher:<app id>:m:<Herald channel>\n<user id>" (a presence member). App ids are
// [A-Za-z0-9_.-] and Herald channel names have no '\n', so a key parses back unambiguously.
// Thread: the functions any; AbandonedHooks on the broker's thread (Webhooks::send is any).

#include <string>
#include <string_view>
#include <vector>

#include "broker/broker.h"
#include "pusher/apps.h"

namespace herald::pusher {

class Webhooks;

std::string occupancy_hold(const App& app, std::string_view channel);
std::string member_hold(const App& app, std::string_view channel, std::string_view user);

// What a hold key says: the app, which kind (occupancy or member), the channel, the user.
struct HoldKey {
  const App* app = nullptr;  // null: not a key of ours, or of an app this node does not have
  bool member = false;
  std::string_view channel;  // Herald name
  std::string_view user;     // member keys only
};
HoldKey parse_hold(const Apps& apps, std::string_view key);

// Reports the ends of holds whose node died: member_removed before its channel's
// channel_vacated. Owned by the server, declared before the broker that calls it.
class AbandonedHooks final : public broker::HoldSink {
 public:
  AbandonedHooks(const Apps& apps, Webhooks& hooks) : apps_(apps), hooks_(hooks) {}
  void on_holds_abandoned(std::vector<std::string> keys) override;

 private:
  const Apps& apps_;
  Webhooks& hooks_;
};

}  // namespace herald::pusher
