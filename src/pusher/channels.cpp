#include "pusher/channels.h"

#include <array>
#include <cstdint>

#include "base/ascii.h"

namespace herald::pusher {
namespace {

constexpr std::string_view kServerToUser = "#server-to-user-";

constexpr std::array<bool, 256> kNameByte = alnum_and("_-=@,.;");

}  // namespace

ChannelKind channel_kind(std::string_view name) {
  if (name.starts_with(kServerToUser)) {
    return ChannelKind::kServerToUser;
  }
  if (name.starts_with("private-encrypted-cache-")) {
    return ChannelKind::kPrivateEncryptedCache;
  }
  if (name.starts_with("private-encrypted-")) {
    return ChannelKind::kPrivateEncrypted;
  }
  if (name.starts_with("private-cache-")) {
    return ChannelKind::kPrivateCache;
  }
  if (name.starts_with("private-")) {
    return ChannelKind::kPrivate;
  }
  if (name.starts_with("presence-cache-")) {
    return ChannelKind::kPresenceCache;
  }
  if (name.starts_with("presence-")) {
    return ChannelKind::kPresence;
  }
  if (name.starts_with("cache-")) {
    return ChannelKind::kCache;
  }
  return ChannelKind::kPublic;
}

bool needs_auth(ChannelKind kind) {
  return kind != ChannelKind::kPublic && kind != ChannelKind::kCache &&
         kind != ChannelKind::kServerToUser;
}

bool is_presence(ChannelKind kind) {
  return kind == ChannelKind::kPresence || kind == ChannelKind::kPresenceCache;
}

bool is_cache(ChannelKind kind) {
  return kind == ChannelKind::kCache || kind == ChannelKind::kPrivateCache ||
         kind == ChannelKind::kPresenceCache || kind == ChannelKind::kPrivateEncryptedCache;
}

bool allows_client_events(ChannelKind kind) {
  return kind == ChannelKind::kPrivate || kind == ChannelKind::kPresence ||
         kind == ChannelKind::kPrivateCache || kind == ChannelKind::kPresenceCache;
}

bool valid_channel_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxChannelName) {
    return false;
  }
  std::string_view rest = name;
  if (name.starts_with(kServerToUser)) {
    rest = name.substr(kServerToUser.size());
    if (rest.empty()) {
      return false;
    }
  }
  for (char c : rest) {
    if (!kNameByte[static_cast<uint8_t>(c)]) {
      return false;
    }
  }
  return true;
}

std::string herald_channel(std::string_view ns, std::string_view name) {
  std::string out;
  out.reserve(ns.size() + 1 + name.size());
  out.append(ns);
  out.push_back(':');
  out.append(name);
  return out;
}

std::string_view pusher_channel(std::string_view ns, std::string_view herald_name) {
  if (herald_name.size() <= ns.size() || !herald_name.starts_with(ns) ||
      herald_name[ns.size()] != ':') {
    return {};
  }
  return herald_name.substr(ns.size() + 1);
}

std::string_view server_to_user_id(std::string_view name) {
  if (!name.starts_with(kServerToUser)) {
    return {};
  }
  return name.substr(kServerToUser.size());
}

}  // namespace herald::pusher
