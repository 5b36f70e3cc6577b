#pragma once
// Link: one Herald protocol client of the generator, over whichever of the server's transports
// --transport names (docs/PROTOCOL.md, "Transports and framing"), driven by a worker's
// client::Loop without blocking. The subscriber modes (fanout, channels, idle) see only this:
// they start a link with its opening commands, read the server's lines from it, and close it,
// so the four transports are measured by the same code.
//   websocket  /connection/websocket of --url: one text frame per send (ws_link.cpp)
//   tcp        the raw TCP port (--tcp, tcp:// or tls://): one line per command (tcp_link.cpp)
//   sse        GET /connection/sse?connect=..., commands POSTed with ?session= (sse_link.cpp)
//   poll       POST /connection/poll, then one held GET ?session=&cursor= at a time (poll_link.cpp)
//   pusher     the Pusher protocol 7 on --url (/app/KEY?protocol=7), translated (pusher_link.cpp)

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "herald/client/connection.h"
#include "herald/client/loop.h"
#include "herald/client/url.h"
#include "options.h"

namespace herald::bench {

std::string_view to_string(Transport transport);

// Where links connect, resolved once for every worker: the HTTP server of --url (the WebSocket,
// SSE and long-poll routes live there) and the raw TCP address of --tcp.
struct LinkTarget {
  Transport transport = Transport::kWebSocket;
  client::ServerUrl url;      // host, port (Host header) and the WebSocket path
  client::Endpoint http;      // url's address
  client::ServerUrl tcp_url;  // --tcp as tcp:// or tls:// (only for Transport::kTcp)
  client::Endpoint tcp;       // its address
  client::ConnectionOptions ws_options;  // .tls: the run's TLS context when one is needed
};

// What a link has counted, summed over a worker's links for the report.
struct LinkCounters {
  uint64_t requests = 0;       // HTTP requests written (SSE: streams and POSTs; poll: all)
  uint64_t poll_answers = 0;   // poll answers with status 200 (empty ones included)
  uint64_t empty_answers = 0;  // of which carried no line (the server's poll_timeout passed)
  uint64_t keepalives = 0;     // empty TCP lines and SSE comments the server sent
};

class Link;

// Callbacks of a link, on its loop's thread, from inside client::Loop::run_once. A handler may
// send on or close any link of its loop inside them, but not destroy one.
class LinkHandler {
 public:
  virtual ~LinkHandler() = default;
  // One or more '\n'-separated lines from the server, as one unit of its transport (a WebSocket
  // message, a TCP line, an SSE event's data, the lines of a poll answer); valid during the call.
  virtual void on_link_text(Link& link, std::string_view lines) = 0;
  // Exactly once per started link, which is then closed. clean: it ended because close() was
  // called; otherwise why says what happened (refused, lost, malformed answer...).
  virtual void on_link_close(Link& link, bool clean, std::string_view why) = 0;
};

// Owned by its worker, which keeps it alive while its loop may call it (until on_link_close, or
// until destroyed outside run_once). Thread: its loop's thread only.
class Link {
 public:
  virtual ~Link() = default;

  // Starts connecting (non-blocking) and sends opening, '\n'-separated commands beginning with
  // connect, as soon as the transport can carry them. False (no callback) when it cannot even
  // start; last_errno() says why.
  virtual bool start(std::string_view opening) = 0;
  // Queues commands ('\n'-separated); false when the link is not usable or backed up.
  virtual bool send(std::string_view lines) = 0;
  // Leaves politely (close frame, FIN, DELETE); on_link_close follows once the server let go.
  virtual void close() = 0;
  // Closes the socket(s) now; on_link_close is called at once (not clean) unless already closed.
  virtual void abort() = 0;
  // Started and not yet closed.
  virtual bool active() const = 0;
  virtual int last_errno() const = 0;
  virtual void add_counters(LinkCounters& into) const { (void)into; }

  uint64_t user_data = 0;  // the owner's (a slot number); the link never reads it
};

std::unique_ptr<Link> make_link(const LinkTarget& target, client::Loop& loop, LinkHandler& handler);

// The transports' own links (each in its file), for make_link and the tests.
std::unique_ptr<Link> make_ws_link(const LinkTarget& target, client::Loop& loop,
                                   LinkHandler& handler);
std::unique_ptr<Link> make_tcp_link(const LinkTarget& target, client::Loop& loop,
                                    LinkHandler& handler);
std::unique_ptr<Link> make_sse_link(const LinkTarget& target, client::Loop& loop,
                                    LinkHandler& handler);
std::unique_ptr<Link> make_poll_link(const LinkTarget& target, client::Loop& loop,
                                     LinkHandler& handler);
std::unique_ptr<Link> make_pusher_link(const LinkTarget& target, client::Loop& loop,
                                       LinkHandler& handler);

}  // namespace herald::bench
