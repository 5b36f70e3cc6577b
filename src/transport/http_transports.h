#pragma once
// The HTTP routes of the transports that are not a WebSocket (docs/PROTOCOL.md, "Server-Sent
// Events" and "Long-polling"):
//   GET  /connection/sse                      a bidirectional stream (connect=<command> optional)
//   GET  /connection/sse?channel=a&channel=b  a unidirectional stream (token=, Last-Event-ID)
//   POST /connection/sse?session=S            commands for stream S (replies come on the stream)
//   POST /connection/poll                     a new long-poll session: the body's commands run,
//                                             the answer holds their replies and the session id
//   GET  /connection/poll?session=S&cursor=N  a poll
//   POST /connection/poll?session=S           commands for session S (replies in the next poll)
// A request naming a session held by another loop is handed to that loop and answered from
// there (through HttpSession's asynchronous answers), so any connection may carry it; one
// naming a session of another node is relayed to that node (LoopServices::relay_session) and
// answered the same way, so a load balancer needs no sticky sessions.
// Thread: the loop of the HttpSession.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "http/request.h"
#include "transport/sessions.h"

namespace herald::transport {

class HttpSession;
class LoopServices;

// Replies to a request, once, with a status and a body. Called on the loop that runs the work.
using Reply = std::function<void(int status, std::string body)>;

// Runs work(target loop, reply) on loop `target` and answers the request being routed on http
// with what reply gets: at once when the target is this loop and it replies before returning,
// otherwise through an asynchronous answer of the connection (in request order), if the
// connection is still open then. A 200 answer has Content-Type ok_type, the others JSON.
// hold_ms bounds the wait (0: the head timeout). Also the Pusher HTTP fallbacks' relay.
void answer_from(HttpSession& http, int target, bool keep, std::string_view ok_type,
                 uint32_t hold_ms, std::string_view cors,
                 std::function<void(LoopServices&, Reply)> work);

// cors: the CORS headers every answer carries (the server decides them from the Origin allow-list;
// empty for a request without Origin), each ending in "\r\n".
void serve_sse(HttpSession& http, const http::Request& req, std::string_view body,
               std::string_view cors);
void serve_poll(HttpSession& http, const http::Request& req, std::string_view body,
                std::string_view cors);

class LoopServices;
// Runs a session request relayed from another node on the loop of this node that holds the
// session; reply(status, body) runs on that loop (404 when no such session lives here).
// Thread: home's loop.
void run_session_request(LoopServices& home, SessionRequest req,
                         std::function<void(int status, std::string body)> reply);

}  // namespace herald::transport
