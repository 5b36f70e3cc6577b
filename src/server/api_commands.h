#pragma once
// The server API's methods (docs/PROTOCOL.md, "Server API"), apart from HTTP: one decoded command
// in, one reply out, so that a single request and each command of a batch are run the same way.
// Thread: the loop of ctx.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/api_decoder.h"
#include "protocol/errors.h"

namespace herald::server {

class LoopContext;

// The outcome of one command: a result object, or an error.
struct ApiReply {
  std::optional<protocol::ErrorCode> error;  // empty: success
  std::string text;                          // the result JSON, or the error message

  static ApiReply result(std::string json) { return ApiReply{std::nullopt, std::move(json)}; }
  static ApiReply failure(protocol::ErrorCode code, std::string message = {}) {
    return ApiReply{code, std::move(message)};
  }
};

using ApiReplyCallback = std::function<void(ApiReply)>;

// Runs cmd; done gets its reply on ctx's loop, possibly before execute returns.
void execute(LoopContext& ctx, protocol::ApiCommand& cmd, ApiReplyCallback done);

// `*` in pattern matches any run of bytes (also none); every other byte matches itself.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace herald::server
