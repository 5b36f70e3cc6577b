#include "link.h"

namespace herald::bench {

std::string_view to_string(Transport transport) {
  switch (transport) {
    case Transport::kWebSocket:
      return "websocket";
    case Transport::kTcp:
      return "tcp";
    case Transport::kSse:
      return "sse";
    case Transport::kPoll:
      return "poll";
    case Transport::kPusher:
      return "pusher";
  }
  return "?";
}

std::unique_ptr<Link> make_link(const LinkTarget& target, client::Loop& loop,
                                LinkHandler& handler) {
  switch (target.transport) {
    case Transport::kWebSocket:
      return make_ws_link(target, loop, handler);
    case Transport::kTcp:
      return make_tcp_link(target, loop, handler);
    case Transport::kSse:
      return make_sse_link(target, loop, handler);
    case Transport::kPoll:
      return make_poll_link(target, loop, handler);
    case Transport::kPusher:
      return make_pusher_link(target, loop, handler);
  }
  return nullptr;
}

}  // namespace herald::bench
