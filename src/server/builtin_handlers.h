#pragma once
// The handlers `herald serve` mounts itself, written on the public API only (include/herald/),
// exactly as an embedding application would write them.

#include <memory>

#include "herald/websocket.h"

namespace herald::server {

// /chat: the classic chat room. Every message from one client goes to every other client.
std::unique_ptr<Handler> make_chat_room();
// /echo: every message comes back with its own type (for conformance tests and benchmarks).
std::unique_ptr<Handler> make_echo();

}  // namespace herald::server
