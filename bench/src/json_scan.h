#pragma once
// A small, allocation-free JSON reader for the load generator: it validates one value and walks
// the members of an object or the elements of an array, handing out views into the input. The
// generator reads the server's replies and pushes with it, so it shares no code with the
// server's decoder (a decoder bug must not hide in both). Input is untrusted: every malformed
// byte sequence is a JsonError, never a crash; nesting is capped at kMaxJsonDepth.
// Thread: stateless functions, any thread.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace herald::bench {

enum class JsonError : uint8_t {
  kNone = 0,
  kEnd,        // the input ended inside a value
  kBadToken,   // a byte that cannot start or continue a value here
  kBadString,  // a control byte or a bad escape inside a string
  kBadNumber,  // a malformed number
  kTooDeep,    // nested deeper than kMaxJsonDepth
  kTrailing,   // bytes after the value (other than whitespace)
  kWrongType,  // an object or array was expected
};
std::string_view to_string(JsonError error);

constexpr int kMaxJsonDepth = 64;

enum class JsonType : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

// One value: its type and its exact bytes (a string keeps its quotes and escapes).
struct JsonValue {
  JsonType type = JsonType::kNull;
  std::string_view raw;

  // The bytes between the quotes, escapes left as they are; empty for a non-string.
  std::string_view string_body() const {
    return type == JsonType::kString && raw.size() >= 2 ? raw.substr(1, raw.size() - 2)
                                                        : std::string_view();
  }
  // A non-negative JSON integer that fits 64 bits (no fraction, no exponent).
  bool to_u64(uint64_t* out) const;
};

// Reads one value starting at in[*pos] (leading whitespace skipped) and moves *pos past it.
JsonError read_value(std::string_view in, size_t* pos, JsonValue* out, int depth = 0);

// Parses in as exactly one value, whitespace allowed around it.
JsonError parse_value(std::string_view in, JsonValue* out);

// Calls f(key, value) for each member of object (a kObject value from above; the key is the
// string body, escapes kept). f returns false to stop early. The object was validated when it
// was read, so this walk cannot fail on it; it still checks and reports errors on any input.
template <typename F>
JsonError for_each_member(const JsonValue& object, F&& f);

// Calls f(value) for each element of array; f returns false to stop early.
template <typename F>
JsonError for_each_element(const JsonValue& array, F&& f);

// ---- implementation of the templates ----

namespace json_detail {
inline size_t skip_ws(std::string_view in, size_t pos) {
  while (pos < in.size() &&
         (in[pos] == ' ' || in[pos] == '\n' || in[pos] == '\r' || in[pos] == '\t')) {
    ++pos;
  }
  return pos;
}
}  // namespace json_detail

template <typename F>
JsonError for_each_member(const JsonValue& object, F&& f) {
  if (object.type != JsonType::kObject) {
    return JsonError::kWrongType;
  }
  std::string_view in = object.raw;
  size_t pos = json_detail::skip_ws(in, 1);
  if (pos < in.size() && in[pos] == '}') {
    return JsonError::kNone;
  }
  while (true) {
    JsonValue key;
    if (JsonError e = read_value(in, &pos, &key, 1); e != JsonError::kNone) {
      return e;
    }
    if (key.type != JsonType::kString) {
      return JsonError::kBadToken;
    }
    pos = json_detail::skip_ws(in, pos);
    if (pos >= in.size() || in[pos] != ':') {
      return JsonError::kBadToken;
    }
    ++pos;
    JsonValue value;
    if (JsonError e = read_value(in, &pos, &value, 1); e != JsonError::kNone) {
      return e;
    }
    if (!f(key.string_body(), value)) {
      return JsonError::kNone;
    }
    pos = json_detail::skip_ws(in, pos);
    if (pos >= in.size()) {
      return JsonError::kEnd;
    }
    if (in[pos] == '}') {
      return JsonError::kNone;
    }
    if (in[pos] != ',') {
      return JsonError::kBadToken;
    }
    ++pos;
  }
}

template <typename F>
JsonError for_each_element(const JsonValue& array, F&& f) {
  if (array.type != JsonType::kArray) {
    return JsonError::kWrongType;
  }
  std::string_view in = array.raw;
  size_t pos = json_detail::skip_ws(in, 1);
  if (pos < in.size() && in[pos] == ']') {
    return JsonError::kNone;
  }
  while (true) {
    JsonValue value;
    if (JsonError e = read_value(in, &pos, &value, 1); e != JsonError::kNone) {
      return e;
    }
    if (!f(value)) {
      return JsonError::kNone;
    }
    pos = json_detail::skip_ws(in, pos);
    if (pos >= in.size()) {
      return JsonError::kEnd;
    }
    if (in[pos] == ']') {
      return JsonError::kNone;
    }
    if (in[pos] != ',') {
      return JsonError::kBadToken;
    }
    ++pos;
  }
}

}  // namespace herald::bench
