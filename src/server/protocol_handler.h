#pragma once
// The Herald protocol over WebSocket (docs/PROTOCOL.md): one ProtocolHandler per loop decodes
// each frame's commands, runs them against the loop's hub, and sends replies and pushes.
// Publications are encoded once per loop and queued to every subscriber as the same bytes.

#include <memory>

#include "herald/websocket.h"

namespace herald::server {

class LoopContext;

// Thread: the loop's own.
std::unique_ptr<Handler> make_protocol_handler(LoopContext& ctx);

}  // namespace herald::server
