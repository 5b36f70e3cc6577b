#pragma once
// The webhooks' words (docs/PUSHER.md, "Webhooks"), as Pusher sends them: the five events, each a
// JSON object text, the body that carries a batch of them ({"time_ms":T,"events":[...]}) and its
// signature (X-Pusher-Signature: HMAC-SHA256 of the body with the app secret, lowercase hex).
// Pure functions, sans-I/O. Thread: any.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herald::pusher {

// One bit per event name, so an app and each of its webhooks keep what they want as a mask.
enum WebhookKind : uint8_t {
  kHookChannelOccupied = 1,
  kHookChannelVacated = 2,
  kHookMemberAdded = 4,
  kHookMemberRemoved = 8,
  kHookClientEvent = 16,
};
inline constexpr uint8_t kAllHooks = 31;

// The mask of a webhook's `events` list (empty: every event). False (and *bad = the name) when a
// name is not one of the five.
bool webhook_mask(const std::vector<std::string>& events, uint8_t* mask, std::string* bad);

// {"name":"channel_occupied"|"channel_vacated","channel":C}
std::string occupancy_hook(bool occupied, std::string_view channel);
// {"name":"member_added"|"member_removed","channel":C,"user_id":U}
std::string member_hook(bool added, std::string_view channel, std::string_view user_id);
// {"name":"client_event","channel":C,"event":E,"data":"<data as a string>","socket_id":S
//  [,"user_id":U]}: data is a JSON string, as Pusher sends it (a client's object is given as
// its text); user_id only on presence channels.
std::string client_event_hook(std::string_view channel, std::string_view event,
                              std::string_view raw_data, std::string_view socket_id,
                              std::string_view user_id);

// {"time_ms":T,"events":[e1,e2,...]} of events[begin, end).
std::string webhook_body(int64_t time_ms, const std::vector<std::string>& events, size_t begin,
                         size_t end);
// The X-Pusher-Signature of a body.
std::string webhook_signature(std::string_view secret, std::string_view body);

}  // namespace herald::pusher
