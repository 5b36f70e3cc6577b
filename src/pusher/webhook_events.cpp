#include "pusher/webhook_events.h"

#include "base/json_string.h"
#include "pusher/signing.h"

namespace herald::pusher {
namespace {

struct Named {
  std::string_view name;
  uint8_t bit;
};
constexpr Named kNames[] = {
    {"channel_occupied", kHookChannelOccupied}, {"channel_vacated", kHookChannelVacated},
    {"member_added", kHookMemberAdded},         {"member_removed", kHookMemberRemoved},
    {"client_event", kHookClientEvent},
};

}  // namespace

bool webhook_mask(const std::vector<std::string>& events, uint8_t* mask, std::string* bad) {
  if (events.empty()) {
    *mask = kAllHooks;
    return true;
  }
  *mask = 0;
  for (const std::string& e : events) {
    bool known = false;
    for (const Named& n : kNames) {
      if (e == n.name) {
        *mask |= n.bit;
        known = true;
      }
    }
    if (!known) {
      *bad = e;
      return false;
    }
  }
  return true;
}

std::string occupancy_hook(bool occupied, std::string_view channel) {
  std::string out = occupied ? R"({"name":"channel_occupied","channel":)"
                             : R"({"name":"channel_vacated","channel":)";
  append_json_string(out, channel);
  out += '}';
  return out;
}

std::string member_hook(bool added, std::string_view channel, std::string_view user_id) {
  std::string out = added ? R"({"name":"member_added","channel":)"
                          : R"({"name":"member_removed","channel":)";
  append_json_string(out, channel);
  out += R"(,"user_id":)";
  append_json_string(out, user_id);
  out += '}';
  return out;
}

std::string client_event_hook(std::string_view channel, std::string_view event,
                              std::string_view raw_data, std::string_view socket_id,
                              std::string_view user_id) {
  std::string out = R"({"name":"client_event","channel":)";
  append_json_string(out, channel);
  out += R"(,"event":)";
  append_json_string(out, event);
  out += R"(,"data":)";
  if (raw_data.size() >= 2 && raw_data.front() == '"') {
    out += raw_data;  // already a JSON string
  } else {
    append_json_string(out, raw_data.empty() ? std::string_view("null") : raw_data);
  }
  out += R"(,"socket_id":)";
  append_json_string(out, socket_id);
  if (!user_id.empty()) {
    out += R"(,"user_id":)";
    append_json_string(out, user_id);
  }
  out += '}';
  return out;
}

std::string webhook_body(int64_t time_ms, const std::vector<std::string>& events, size_t begin,
                         size_t end) {
  std::string out = R"({"time_ms":)";
  out += std::to_string(time_ms);
  out += R"(,"events":[)";
  for (size_t i = begin; i < end; ++i) {
    if (i != begin) {
      out += ',';
    }
    out += events[i];
  }
  out += "]}";
  return out;
}

std::string webhook_signature(std::string_view secret, std::string_view body) {
  return hmac_sha256_hex(secret, body);
}

}  // namespace herald::pusher
