#pragma once
// What a namespace of channels allows and keeps. The namespace of `chat:room1` is `chat`; a
// channel without `:` is in the default namespace (docs/PROTOCOL.md, "Channels").

#include <cstddef>
#include <cstdint>

namespace herald {

struct NamespaceOptions {
  uint64_t history_size = 1000;  // publications kept per channel; 0 = no history, no recovery
  uint32_t history_ttl_s = 0;    // and for how long; 0 = until pushed out by size
  bool durable = true;           // history in the data directory (when there is one), else memory
  bool presence = true;          // who is subscribed can be asked for
  // Subscribers get join/leave pushes. Off by default: every subscribe is pushed to every
  // subscriber already there, so a channel of N subscribers costs N^2/2 pushes to fill.
  bool join_leave = false;
  bool client_publish = true;    // clients may publish (the server API always may)
  size_t max_subscribers = 0;    // connections per channel; 0 = no limit (one more gets error 110)
};

}  // namespace herald
