#pragma once
// CommandDecoder: turns one transport frame of client commands (JSON objects separated by
// '\n') into Commands and per-line DecodeErrors, in order. Validation is complete: every line
// that decodes is valid JSON with well-typed fields and a valid channel name; everything else
// becomes a DecodeError with a documented code, and the following lines still decode.
// Sans-I/O, never throws (simdjson's error-code API). Reuses one padded buffer and one parser:
// an event loop owns one decoder and decodes every connection's frames with it.
// Thread: owning loop only.

#include <memory>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/command.h"

namespace herald::protocol {

namespace detail {
class JsonParser;
}

using DecodedCommand = std::variant<Command, DecodeError>;

class CommandDecoder {
 public:
  explicit CommandDecoder(const Limits& limits = {});
  ~CommandDecoder();
  CommandDecoder(const CommandDecoder&) = delete;
  CommandDecoder& operator=(const CommandDecoder&) = delete;

  // Appends one entry per non-blank line of `frame` to out (out is not cleared).
  void decode(std::string_view frame, std::vector<DecodedCommand>& out);

 private:
  void decode_line(std::string_view line, std::vector<DecodedCommand>& out);

  Limits limits_;
  std::unique_ptr<detail::JsonParser> parser_;  // simdjson stays out of this header
};

}  // namespace herald::protocol
