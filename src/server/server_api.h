#pragma once
// The server API for backends: POST /api/<method> (docs/PROTOCOL.md, "Server API"). A backend
// (PHP, anything that can POST) publishes and queries channels with one request; the answer is
// JSON, with the documented status for every error. Authentication: the X-API-Key header when a
// key is configured, otherwise loopback peers only.
// Thread: the connection's loop.

#include <string_view>

#include "http/request.h"

namespace herald::transport {
class HttpSession;
}

namespace herald::server {

class LoopContext;

void handle_api(transport::HttpSession& conn, LoopContext& ctx, const http::Request& req,
                std::string_view body);

}  // namespace herald::server
