#pragma once
// Pusher channel names (docs/PUSHER.md, "Channels"): what kind a name is, whether it is valid,
// and the Herald channel it is. A Pusher channel `c` of an app is the Herald channel
// `<app namespace>:c`, so one hub, one broker and one history serve both protocols. Pusher names
// have no ':' (their alphabet is [A-Za-z0-9_\-=@,.;], plus a leading '#' for the server-to-user
// channels), so the first ':' of the Herald name always ends the namespace.
// Thread: any (pure functions).

#include <cstddef>
#include <string>
#include <string_view>

namespace herald::pusher {

inline constexpr size_t kMaxChannelName = 200;  // Pusher's limit, in bytes

enum class ChannelKind : uint8_t {
  kPublic,
  kPrivate,           // private-
  kPresence,          // presence-
  kPrivateEncrypted,  // private-encrypted- (payload end-to-end encrypted; passed through)
  kCache,             // cache- (public, the last event replayed on subscribe)
  kPrivateCache,      // private-cache-
  kPresenceCache,     // presence-cache-
  kPrivateEncryptedCache,  // private-encrypted-cache-
  kServerToUser,      // #server-to-user-<id> (signed-in users only)
};

ChannelKind channel_kind(std::string_view name);
// Private, presence and encrypted channels need a signed authorization to subscribe.
bool needs_auth(ChannelKind kind);
bool is_presence(ChannelKind kind);
bool is_cache(ChannelKind kind);
// Client events are allowed on private and presence channels (not on encrypted ones: the server
// cannot know their payloads are encrypted, and Pusher refuses them there too).
bool allows_client_events(ChannelKind kind);

// 1..200 bytes of the Pusher alphabet; '#' only as the server-to-user prefix.
bool valid_channel_name(std::string_view name);

// The Herald channel of Pusher channel `name` in namespace `ns`, and back ("" if `herald_name`
// is not in `ns`).
std::string herald_channel(std::string_view ns, std::string_view name);
std::string_view pusher_channel(std::string_view ns, std::string_view herald_name);

// "#server-to-user-<id>" -> "<id>"; "" for other names.
std::string_view server_to_user_id(std::string_view name);

}  // namespace herald::pusher
