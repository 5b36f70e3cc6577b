#pragma once
// Channel names (docs/PROTOCOL.md, "Channels"): 1-255 bytes of [A-Za-z0-9_-.:@/=,!~#], not
// starting with ':'. The namespace is the part before the first ':'; a name without ':' is in
// the default namespace (""). A '#' makes a user-limited channel: the part after the last '#'
// lists, ','-separated, the only users who may use it ("dialogs:#42,43").
// Thread: any (pure functions).

#include <cstddef>
#include <string_view>

namespace herald::protocol {

inline constexpr size_t kMaxChannelLength = 255;
inline constexpr char kUserBoundary = '#';   // starts the user list of a user-limited channel
inline constexpr char kUserSeparator = ',';  // separates its user ids

// True if every byte is allowed and 1 <= size <= max_length.
bool is_valid_channel(std::string_view channel, size_t max_length = kMaxChannelLength);

// "chat:room1" -> "chat"; "lobby" -> "" (the default namespace).
std::string_view namespace_of(std::string_view channel);

// True if the channel is user-limited (holds a '#').
bool is_user_limited(std::string_view channel);
// For a user-limited channel: whether `user` is one of those listed after its last '#'. An
// anonymous user ("") never is, even if the list has an empty entry. True for other channels.
bool user_allowed(std::string_view channel, std::string_view user);

// The server API's `channels` pattern: '*' matches any run of bytes (also empty), every other
// byte matches itself. An empty pattern matches everything. No recursion; at worst
// O(pattern x channel) steps, both bounded by the name limit.
bool channel_matches(std::string_view pattern, std::string_view channel);

}  // namespace herald::protocol
