// Fuzzes ApiDecoder. Input: [method byte][body...]; the byte picks one of the eight methods or
// (9th) the batch endpoint. Every decoded ApiCommand must re-encode (append_api_body) to valid
// JSON that decodes to the same command; every error must give a valid JSON body and a 4xx/5xx.

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

#include "protocol/api_decoder.h"
#include "protocol/channel.h"
#include "protocol/command_encoder.h"
#include "protocol/messages.h"

namespace {

using herald::protocol::ApiCommand;
using herald::protocol::ApiDecoded;
using herald::protocol::ApiDecoder;
using herald::protocol::ApiError;
using herald::protocol::ApiMethod;

bool valid_json(std::string_view s) {
  static simdjson::dom::parser parser;
  simdjson::padded_string padded(s);
  simdjson::dom::element root;
  return parser.parse(padded).get(root) == simdjson::SUCCESS;
}

void check_error(const ApiError& e) {
  std::string body;
  herald::protocol::append_api_error(body, e.code, e.message);
  int status = herald::protocol::http_status(e.code);
  if (!valid_json(body) || status < 400 || status > 599) {
    std::abort();
  }
}

void check(const ApiDecoded& d) {
  if (const auto* e = std::get_if<ApiError>(&d)) {
    check_error(*e);
    return;
  }
  const ApiCommand& c = std::get<ApiCommand>(d);
  if (!c.data.empty() && (!valid_json(c.data) || c.data.find('\n') != std::string::npos)) {
    std::abort();
  }
  for (const std::string& ch : c.channels) {
    if (!herald::protocol::is_valid_channel(ch)) {
      std::abort();
    }
  }
  std::string body;
  herald::protocol::append_api_body(body, c);
  if (!valid_json(body)) {
    std::abort();
  }
  static ApiDecoder again;
  ApiDecoded back = again.decode(herald::protocol::api_method_name(c.method), body);
  if (!std::holds_alternative<ApiCommand>(back) || !(std::get<ApiCommand>(back) == c)) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  static ApiDecoder decoder;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  unsigned pick = data[0] % 9;
  if (pick == 8) {
    std::vector<ApiDecoded> out;
    if (auto whole = decoder.decode_batch(body, out)) {
      if (!out.empty()) {
        std::abort();
      }
      check_error(*whole);
      return 0;
    }
    for (const ApiDecoded& d : out) {
      check(d);
    }
    return 0;
  }
  auto method = static_cast<ApiMethod>(pick);
  check(decoder.decode(herald::protocol::api_method_name(method), body));
  return 0;
}
