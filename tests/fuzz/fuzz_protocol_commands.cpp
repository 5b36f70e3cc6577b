// Fuzzes CommandDecoder on arbitrary frames, with the default limits and with tight ones (so
// every limit is reached often). For each result:
//  * a Command has a non-zero id, a valid channel where its method needs one, and data that is
//    valid JSON without newlines and within max_data; re-encoded with append_command it is valid
//    JSON and decodes to the same Command; its data in a message push is valid JSON;
//  * a DecodeError's reply (append_error) is valid JSON and its message starts with the code's.

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

#include "protocol/channel.h"
#include "protocol/command_decoder.h"
#include "protocol/command_encoder.h"
#include "protocol/messages.h"

namespace {

using herald::protocol::Command;
using herald::protocol::CommandDecoder;
using herald::protocol::DecodedCommand;
using herald::protocol::DecodeError;
using herald::protocol::Limits;
using herald::protocol::Method;

bool valid_json(std::string_view s) {
  static simdjson::dom::parser parser;
  simdjson::padded_string padded(s);
  simdjson::dom::element root;
  return parser.parse(padded).get(root) == simdjson::SUCCESS;
}

void check(CommandDecoder& decoder, const Limits& limits, std::string_view frame) {
  std::vector<DecodedCommand> out;
  decoder.decode(frame, out);
  for (const DecodedCommand& d : out) {
    std::string text;
    if (const auto* e = std::get_if<DecodeError>(&d)) {
      herald::protocol::append_error(text, e->id, e->code, e->message);
      if (!valid_json(text) || !e->message.starts_with(herald::protocol::error_message(e->code))) {
        std::abort();
      }
      continue;
    }
    const Command& c = std::get<Command>(d);
    bool needs_channel = c.method != Method::kConnect && c.method != Method::kPing &&
                         c.method != Method::kRefresh;
    if (c.id == 0 ||
        (needs_channel && !herald::protocol::is_valid_channel(c.channel, limits.max_channel))) {
      std::abort();
    }
    if (!c.data.empty() && (c.data.size() > limits.max_data ||
                            c.data.find('\n') != std::string::npos || !valid_json(c.data))) {
      std::abort();
    }
    if (c.method == Method::kPublish && c.data.empty()) {
      std::abort();
    }
    herald::protocol::append_command(text, c);
    if (!valid_json(text)) {
      std::abort();
    }
    // Round trip through a fresh decoder with generous limits (the encoding may be longer).
    static CommandDecoder again([] {
      Limits l;  // generous: the encoding may add "params":{} or "recover"
      l.max_frame = 4 << 20;
      l.max_command = 2 << 20;
      return l;
    }());
    std::vector<DecodedCommand> back;
    again.decode(text, back);
    if (back.size() != 1 || !std::holds_alternative<Command>(back[0]) ||
        !(std::get<Command>(back[0]) == c)) {
      std::abort();
    }
    if (c.method == Method::kPublish) {
      std::string push;
      herald::protocol::PublicationView pub{1, "e", c.data};
      herald::protocol::append_message_push(push, c.channel, pub);
      if (!valid_json(push) || push.find('\n') != std::string::npos) {
        std::abort();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view frame(reinterpret_cast<const char*>(data), size);
  static Limits defaults;
  static CommandDecoder decoder(defaults);
  check(decoder, defaults, frame);

  static Limits tight = [] {
    Limits l;
    l.max_frame = 2048;
    l.max_commands_per_frame = 4;
    l.max_command = 512;
    l.max_data = 48;
    l.max_channel = 16;
    l.max_token = 16;
    l.max_string = 8;
    l.max_depth = 5;
    return l;
  }();
  static CommandDecoder tight_decoder(tight);
  check(tight_decoder, tight, frame);
  return 0;
}
