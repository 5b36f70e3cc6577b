#pragma once
// ApiDecoder: decodes request bodies of the server API for backends (docs/PROTOCOL.md, "Server
// API"): POST /api/<method> with the method's params object as the body, and POST /api/batch
// with {"commands":[{"method":..,"params":{..}},..]}. Same rules and error codes as the client
// commands; http_status(code) gives the status to answer with.
// Sans-I/O, never throws. Thread: owner only (one per event loop).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/command.h"

namespace herald::protocol {

namespace detail {
class JsonParser;
}

enum class ApiMethod : uint8_t {
  kPublish,
  kBroadcast,
  kPresence,
  kPresenceStats,
  kHistory,
  kChannels,
  kDisconnect,
  kInfo,
};

std::string_view api_method_name(ApiMethod m);
// "publish" -> kPublish; "batch" and unknown names -> nullopt.
std::optional<ApiMethod> api_method_from_name(std::string_view name);

struct ApiCommand {
  ApiMethod method = ApiMethod::kInfo;
  std::string channel;                  // publish, presence, presence_stats, history
  std::vector<std::string> channels;    // broadcast (1..max_broadcast_channels, each valid)
  std::string data;                     // publish, broadcast: raw JSON, minified
  std::string idempotency_key;          // publish, broadcast (empty = none)
  std::optional<StreamPosition> since;  // history
  std::optional<uint32_t> limit;        // history
  bool reverse = false;                 // history
  std::string pattern;                  // channels (empty = all)
  std::string user;                     // disconnect

  bool operator==(const ApiCommand&) const = default;
};

struct ApiError {
  ErrorCode code = ErrorCode::kBadRequest;
  std::string message;
};

using ApiDecoded = std::variant<ApiCommand, ApiError>;

class ApiDecoder {
 public:
  explicit ApiDecoder(const Limits& limits = {});
  ~ApiDecoder();
  ApiDecoder(const ApiDecoder&) = delete;
  ApiDecoder& operator=(const ApiDecoder&) = delete;

  // The body of POST /api/<method_name>. An empty (or all-whitespace) body reads as {}.
  ApiDecoded decode(std::string_view method_name, std::string_view body);

  // The body of POST /api/batch. If the body as a whole is not a batch (not JSON, no
  // "commands" array, too many commands...), returns that error and leaves out untouched;
  // otherwise appends one entry per command, in order, and returns nullopt.
  std::optional<ApiError> decode_batch(std::string_view body, std::vector<ApiDecoded>& out);

 private:
  Limits limits_;
  std::unique_ptr<detail::JsonParser> parser_;  // simdjson stays out of this header
};

}  // namespace herald::protocol
