#pragma once
// What a namespace of channels allows and keeps. The namespace of `chat:room1` is `chat`; a
// channel without `:` is in the default namespace (docs/PROTOCOL.md, "Channels" and
// "Permissions").

#include <cstddef>
#include <cstdint>

namespace herald {

// Who may do one thing in a namespace's channels. The server API is never limited by these.
enum class Access : uint8_t {
  kAnyone,         // every connected client, anonymous ones included
  kAuthenticated,  // clients with a user id (a connection token whose "sub" is not "")
  kSubscribers,    // clients subscribed to the channel (publish, presence, history)
  kToken,          // subscribe only: with a channel token for this channel (and client)
  kNone,           // nobody (publish, presence, history)
};

struct NamespaceOptions {
  uint64_t history_size = 1000;  // publications kept per channel; 0 = no history, no recovery
  uint32_t history_ttl_s = 0;    // and for how long; 0 = until pushed out by size
  bool durable = true;           // history in the data directory (when there is one), else memory
  bool presence = true;          // who is subscribed can be asked for
  // Subscribers get join/leave pushes. Off by default: every subscribe is pushed to every
  // subscriber already there, so a channel of N subscribers costs N^2/2 pushes to fill.
  bool join_leave = false;
  size_t max_subscribers = 0;    // connections per channel; 0 = no limit (one more gets error 110)

  // Permissions (error 111, or 120 for a missing channel token). The defaults are what Herald
  // did before they existed: every connected client may do everything.
  Access subscribe = Access::kAnyone;     // kAnyone, kAuthenticated or kToken
  Access publish = Access::kAnyone;       // kAnyone, kAuthenticated, kSubscribers or kNone
  Access see_presence = Access::kAnyone;  // presence, presence_stats: as publish
  Access read_history = Access::kAnyone;  // history (recovery on subscribe is not limited)
};

}  // namespace herald
