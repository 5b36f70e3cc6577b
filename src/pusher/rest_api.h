#pragma once
// The Pusher HTTP API under /apps/{app_id}/ (docs/PUSHER.md, "REST API"), as the `pusher` server
// libraries (Node, PHP: Laravel's broadcaster) call it: events, batch_events, channels,
// channels/{name}, channels/{name}/users, users/{id}/terminate_connections. Every request is
// signed (signing.h); every refusal is a 4xx with {"error": "..."}; what needs the broker or the
// other loops is answered asynchronously, in request order. Thread: the loop's own.

#include <string_view>

#include "http/request.h"

namespace herald::transport {
class HttpSession;
}

namespace herald::pusher {

class Endpoint;

void serve_rest(Endpoint& endpoint, transport::HttpSession& http, const http::Request& req,
                std::string_view body);

}  // namespace herald::pusher
