#pragma once
// The wire of pusher-js's HTTP fallbacks (docs/PUSHER.md, "HTTP fallbacks"), without I/O: the
// request paths, the xhr_send body, and the frames of the answers. Sans-I/O and fuzzed
// (fuzz_pusher_xhr); never throws. Thread: the caller's (a SendDecoder is its owner's).

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herald::pusher {

enum class XhrKind : uint8_t { kStreaming, kPolling, kSend };

// /pusher/app/<key>/<server>/<session>/<kind>: views into the path.
struct XhrPath {
  std::string_view key;           // 1-100 bytes (the app is looked up by it)
  std::string_view session_path;  // "<key>/<server>/<session>": the session's name
  XhrKind kind = XhrKind::kSend;
};

// pusher-js's server is 1-3 digits and its session 8 base-32 characters; 1-64 of [A-Za-z0-9_-]
// each are taken. False for anything else (another kind, a query left in, a missing part).
bool parse_xhr_path(std::string_view path, XhrPath& out);

// Events one xhr_send may carry (pusher-js sends one at a time; its heartbeat is "[]").
inline constexpr size_t kMaxEventsPerSend = 100;

// An xhr_send body: a JSON array of at most kMaxEventsPerSend strings, each one Pusher message
// as the client would send it on a WebSocket. Reused: one per loop.
class SendDecoder {
 public:
  // False for anything else; the events are valid (unescaped) until the next decode().
  bool decode(std::string_view body, std::vector<std::string_view>& events);

 private:
  simdjson::dom::parser parser_;
  simdjson::padded_string padded_;
};

// One Pusher message as an element of an "a[...]" frame: its text as a JSON string.
std::string quote_event(std::string_view event);
// "c[<code>,<reason as a JSON string>]\n" (the reason cut to 123 bytes, as a WebSocket's).
std::string close_frame(uint16_t code, std::string_view reason);
// A refused client, told as pusher-js expects it on any transport: "o", an "a" frame with the
// pusher:error, then the close with its code.
std::string refusal_frames(uint16_t code, std::string_view message);

}  // namespace herald::pusher
