#pragma once
// The client side of the codec: encodes a Command as the line a client sends, and an
// ApiCommand as the body of POST /api/<method>. Used by the CLI and the C++ tools, and by the
// tests and fuzzers to check that decode(encode(x)) == x. Only the fields the method uses are
// written. Thread: any (pure functions over the caller's string).

#include <string>

#include "protocol/api_decoder.h"
#include "protocol/command.h"

namespace herald::protocol {

// {"id":N,"method":"..","params":{..}} (no trailing newline). cmd.data must be valid JSON.
void append_command(std::string& out, const Command& cmd);

// The params object of an API request; the method goes in the path (api_method_name).
void append_api_body(std::string& out, const ApiCommand& cmd);

}  // namespace herald::protocol
