#pragma once
// Helpers shared by the protocol unit tests: parsing encoder output back with simdjson.

#include <simdjson.h>

#include <string>
#include <string_view>

namespace herald::protocol::testing {

// True if s is exactly one valid JSON document.
inline bool is_valid_json(std::string_view s) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(s);
  simdjson::dom::element root;
  return parser.parse(padded).get(root) == simdjson::SUCCESS;
}

// Parses a JSON string literal (quotes included) back into its bytes; false if invalid.
inline bool parse_json_string(std::string_view json, std::string& out) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  std::string_view s;
  if (parser.parse(padded).get_string().get(s) != simdjson::SUCCESS) {
    return false;
  }
  out.assign(s);
  return true;
}

}  // namespace herald::protocol::testing
