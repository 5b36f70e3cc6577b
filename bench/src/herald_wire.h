#pragma once
// The Herald protocol as the load generator speaks it (docs/PROTOCOL.md): the few commands it
// sends, the replies and pushes it reads, and the stamp it puts in every publication's data so
// that any subscriber can tell the sequence number and the send time without shared state.
// Written apart from src/protocol on purpose: the generator must not inherit the server's bugs.
// Thread: stateless functions, any thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "json_scan.h"

namespace herald::bench {

// ---- The stamp: data is a JSON string "HB" seq:16 hex  time_ns:16 hex, then 'x' padding. ----

constexpr size_t kStampSize = 2 + 16 + 16;

struct Stamp {
  uint64_t seq = 0;
  uint64_t sent_ns = 0;  // CLOCK_MONOTONIC, same machine
};

// Writes the stamp into the first kStampSize bytes of out (the body of a JSON string).
void write_stamp(char* out, const Stamp& stamp);
// Reads a stamp from the body of a JSON string (padding after it is ignored).
bool read_stamp(std::string_view body, Stamp* out);
// The body of a data string of size bytes (at least kStampSize): stamp placeholder + padding.
std::string make_data_body(size_t size);

// ---- Commands (one JSON line each, without the trailing '\n'). ----

void append_connect(std::string& out, uint32_t id);
void append_subscribe(std::string& out, uint32_t id, std::string_view channel);
// since_epoch is the epoch as the server sent it (a JSON string body; escapes stay valid).
void append_subscribe_since(std::string& out, uint32_t id, std::string_view channel,
                            uint64_t since_offset, std::string_view since_epoch);
void append_publish(std::string& out, uint32_t id, std::string_view channel,
                    std::string_view data_body);
// The body of POST /api/publish.
void append_api_publish(std::string& out, std::string_view channel, std::string_view data_body);

// ---- What the server sends. ----

// One line from the server, as views into it.
struct ServerLine {
  enum class Kind : uint8_t { kReply, kPush, kOther };
  Kind kind = Kind::kOther;
  uint64_t id = 0;           // reply
  bool is_error = false;     // reply with "error"
  uint64_t error_code = 0;   // its "code"
  JsonValue result;          // reply: the result (an object on success)
  std::string_view push;     // push: its type ("message", "join", ...)
  std::string_view channel;  // push: its channel (string body)
  uint64_t offset = 0;       // message push
  std::string_view epoch;    // message push (string body)
  JsonValue data;            // message push
};

// Reads one line. Any malformed input is a JsonError (kWrongType when it is not an object).
JsonError parse_server_line(std::string_view line, ServerLine* out);

// The result of subscribe.
struct SubscribeResult {
  std::string_view epoch;
  uint64_t offset = 0;
  bool recoverable = false;
  bool recovered = false;
  JsonValue publications;  // an array
};
JsonError parse_subscribe_result(const JsonValue& result, SubscribeResult* out);

// One element of a publications list.
struct PublicationView {
  uint64_t offset = 0;
  std::string_view epoch;
  JsonValue data;
};
JsonError parse_publication(const JsonValue& value, PublicationView* out);

// The body of a long-poll answer (200 to the POST that creates a session, or to a poll): a first
// line {"cursor":N}, N the number of the last entry in it, then the protocol lines after the
// poll's cursor ('\n'-separated; *lines empty when there are none).
JsonError parse_poll_answer(std::string_view body, uint64_t* cursor, std::string_view* lines);

// Calls f(line) for every non-empty '\n'-separated line of a frame.
template <typename F>
void for_each_line(std::string_view frame, F&& f) {
  while (!frame.empty()) {
    size_t nl = frame.find('\n');
    std::string_view line = frame.substr(0, nl);
    if (!line.empty()) {
      f(line);
    }
    if (nl == std::string_view::npos) {
      break;
    }
    frame.remove_prefix(nl + 1);
  }
}

}  // namespace herald::bench
