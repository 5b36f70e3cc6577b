#pragma once
// Cuts a member's value out of JSON text verbatim, because simdjson's DOM does not keep source
// positions and re-serializing would change how numbers and escapes are written ("info" is
// forwarded exactly as the backend signed it, minus whitespace). Internal to the auth layer.
// Free functions, no state. Thread: any.

#include <cstddef>
#include <string>
#include <string_view>

namespace herald::auth {

// The text of the value of the index-th member (0-based, document order) of the JSON object
// `object_text`, which must already have been validated (e.g. parsed by simdjson). Returns ""
// if the text is not shaped as expected; never reads outside object_text.
std::string_view raw_member_value(std::string_view object_text, size_t index);

// Replaces out with `json` minus whitespace outside strings. False if simdjson's minifier
// refuses the text (e.g. an unterminated string).
bool minify_into(std::string_view json, std::string& out);

}  // namespace herald::auth
