#pragma once
// One decoded client command of the Herald protocol (docs/PROTOCOL.md, "Commands") and the
// limits the decoders enforce. Thread: any (plain data).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/errors.h"

namespace herald::protocol {

enum class Method : uint8_t {
  kConnect,
  kSubscribe,
  kUnsubscribe,
  kPublish,
  kPresence,
  kPresenceStats,
  kHistory,
  kPing,
  kRefresh,
};

// "connect", "presence_stats"...
std::string_view method_name(Method m);
std::optional<Method> method_from_name(std::string_view name);

// A client's position in a channel: everything up to `offset` of `epoch` was seen.
struct StreamPosition {
  uint64_t offset = 0;
  std::string epoch;
  bool operator==(const StreamPosition&) const = default;
};

// One decoded command. Strings are owned (copied out of the frame) so the hub may keep the
// command across asynchronous steps. Fields a method does not use stay empty.
struct Command {
  uint32_t id = 0;  // never 0 in a decoded command
  Method method = Method::kPing;
  std::string channel;  // subscribe, unsubscribe, publish, presence, presence_stats, history
  // Raw JSON text, validated and with whitespace outside strings removed; never re-serialized.
  // publish: the data (required); connect: the client's info (empty = absent).
  std::string data;
  std::optional<StreamPosition> since;  // subscribe, history
  bool recover = false;           // subscribe: recover from `since` (true whenever since is used)
  // connect: the connection token; refresh: its replacement (required); subscribe: a channel
  // token (empty = none).
  std::string token;
  std::string name;               // connect: client library name
  std::string version;            // connect: client library version
  std::string idempotency_key;    // publish (empty = none)
  std::optional<uint32_t> limit;  // history (absent = the server's default)
  bool reverse = false;           // history: newest first

  bool operator==(const Command&) const = default;
};

// A line that did not decode. id is the command's id when it could be read, else 0; the
// reply to send is append_error(out, id, code, message).
struct DecodeError {
  uint32_t id = 0;
  ErrorCode code = ErrorCode::kBadRequest;
  std::string message;
};

// What the decoders accept. Every limit has a documented error (docs/PROTOCOL.md, "Limits").
struct Limits {
  // A WebSocket frame (or HTTP body of /connection/...) holding several commands. Above it the
  // whole frame is answered with one {"id":0} too_large error: copying it is the cost we bound.
  size_t max_frame = 1 << 20;
  // Lines after this many in one frame are not decoded (one {"id":0} limit_exceeded error).
  size_t max_commands_per_frame = 128;
  // One command line; sized for max_data plus a JWT and the envelope.
  size_t max_command = 80 << 10;
  // Publication data and connect data (raw JSON bytes after minification).
  size_t max_data = 64 << 10;
  size_t max_channel = 255;
  size_t max_token = 8 << 10;
  // epoch, idempotency key, client name and version, user, pattern.
  size_t max_string = 255;
  // Nesting of one JSON document (a command line or an API body), the outer object being 1.
  size_t max_depth = 32;
  // Server API: request body, commands in a batch, channels of one broadcast.
  size_t max_api_body = 4 << 20;
  size_t max_batch_commands = 1000;
  size_t max_broadcast_channels = 1000;
};

}  // namespace herald::protocol
