#include "pusher/hook_holds.h"

#include <algorithm>

#include "pusher/channels.h"
#include "pusher/webhooks.h"

namespace herald::pusher {
namespace {

constexpr std::string_view kPrefix = "pusher:";

std::string hold_key(const App& app, char kind, std::string_view channel) {
  std::string key(kPrefix);
  key += app.options.id;
  key += ':';
  key += kind;
  key += ':';
  key += channel;
  return key;
}

}  // namespace

std::string occupancy_hold(const App& app, std::string_view channel) {
  return hold_key(app, 'o', channel);
}

std::string member_hold(const App& app, std::string_view channel, std::string_view user) {
  std::string key = hold_key(app, 'm', channel);
  key += '\n';
  key += user;
  return key;
}

HoldKey parse_hold(const Apps& apps, std::string_view key) {
  HoldKey out;
  if (!key.starts_with(kPrefix)) {
    return out;
  }
  key.remove_prefix(kPrefix.size());
  size_t colon = key.find(':');
  if (colon == std::string_view::npos || key.size() < colon + 3 || key[colon + 2] != ':' ||
      (key[colon + 1] != 'o' && key[colon + 1] != 'm')) {
    return out;
  }
  out.member = key[colon + 1] == 'm';
  std::string_view rest = key.substr(colon + 3);
  if (out.member) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      return out;
    }
    out.user = rest.substr(nl + 1);
    rest = rest.substr(0, nl);
  }
  if (rest.empty()) {
    return out;
  }
  out.channel = rest;
  out.app = apps.by_id(key.substr(0, colon));
  return out;
}

void AbandonedHooks::on_holds_abandoned(std::vector<std::string> keys) {
  std::vector<HoldKey> ended;
  for (const std::string& key : keys) {
    if (HoldKey k = parse_hold(apps_, key); k.app != nullptr) {
      ended.push_back(k);
    }
  }
  // Members first: a channel's member_removed events come before its channel_vacated.
  std::stable_partition(ended.begin(), ended.end(), [](const HoldKey& k) { return k.member; });
  for (const HoldKey& k : ended) {
    std::string_view name = pusher_channel(k.app->ns, k.channel);
    if (k.member) {
      hooks_.send(*k.app, kHookMemberRemoved, member_hook(false, name, k.user));
    } else {
      hooks_.send(*k.app, kHookChannelVacated, occupancy_hook(false, name));
    }
  }
}

}  // namespace herald::pusher
