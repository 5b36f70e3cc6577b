#pragma once
// The lines a Herald server sends over the protocol (docs/PROTOCOL.md): replies
// `{"id":N,"result":{...}}` / `{"id":N,"error":{...}}` and pushes `{"push":"<type>",...}`,
// reduced to the fields `herald sub` acts on. Unknown fields and push types are ignored, as the
// protocol asks; a line that is not JSON, or a known field of the wrong type, is refused.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace herald::app {

// A publication as the server sent it. data and info are raw JSON text: the protocol forwards
// data exactly as published, so the CLI must not re-serialize it (numbers, escapes, key order).
struct Publication {
  uint64_t offset = 0;
  std::string epoch;
  std::string data;
  std::string info;  // empty when the publication has none (absent or null)
};

// The fields of one server line that the subscriber acts on; everything else is ignored.
// One instance is reused for every line so that its strings and vector keep their capacity.
// Owned by the reader of the lines. Thread: the owner's.
struct ServerLine {
  bool has_id = false;
  uint64_t id = 0;
  bool has_result = false;
  bool has_error = false;
  uint64_t error_code = 0;
  bool error_temporary = false;
  std::string error_message;
  // result fields (connect: ping; history and subscribe: epoch, offset; subscribe: the rest)
  std::string epoch;
  uint64_t offset = 0;
  bool recovered = false;
  uint64_t ping = 0;
  std::vector<Publication> publications;  // [0, publication_count) are this line's
  size_t publication_count = 0;
  // push fields ("message": channel + message; "disconnect"/"unsubscribe": code, reason...)
  std::string push;
  std::string channel;
  uint64_t code = 0;
  std::string reason;
  bool reconnect = true;
  bool has_message = false;  // the line has a top-level "offset" (a message push)
  Publication message;

  // Back to the state of an empty line, keeping the capacity of every string.
  void clear();
};

// Parses server lines one at a time (simdjson ondemand). Owns the parser and the padded copy of
// the current line, both reused, so parsing allocates only when a line is longer than any
// before it. Owned by the reader of the lines (one per connection reader). Thread: the owner's.
class ServerLineParser {
 public:
  // Lines nested deeper than this (objects and arrays, the line itself counted) are refused.
  // The server refuses commands nested deeper than 32, so its lines stay far below.
  static constexpr size_t kMaxNesting = 250;

  ServerLineParser();
  ~ServerLineParser();
  ServerLineParser(const ServerLineParser&) = delete;
  ServerLineParser& operator=(const ServerLineParser&) = delete;

  // Fills `out` from one line (a reply or a push, without its '\n'). False when the text is not
  // one JSON object, data/info are not valid JSON, or a known field has the wrong type or is
  // out of range (ids, offsets and codes are unsigned 64-bit); `out` is then partly filled and
  // must not be acted on. Never throws.
  bool parse(std::string_view text, ServerLine& out);

 private:
  struct Impl;  // keeps simdjson out of this header
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::app
