#include "json_scan.h"

#include <cstring>

namespace herald::bench {

std::string_view to_string(JsonError error) {
  switch (error) {
    case JsonError::kNone:
      return "ok";
    case JsonError::kEnd:
      return "unexpected end of JSON";
    case JsonError::kBadToken:
      return "unexpected byte in JSON";
    case JsonError::kBadString:
      return "malformed JSON string";
    case JsonError::kBadNumber:
      return "malformed JSON number";
    case JsonError::kTooDeep:
      return "JSON nested too deep";
    case JsonError::kTrailing:
      return "bytes after the JSON value";
    case JsonError::kWrongType:
      return "JSON value of the wrong type";
  }
  return "?";
}

namespace {

using json_detail::skip_ws;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// pos is at the opening quote; on success pos is past the closing one. Bytes >= 0x80 are passed
// through (the generator does not need UTF-8 validation to find its fields).
JsonError read_string(std::string_view in, size_t* pos) {
  size_t p = *pos + 1;
  while (true) {
    // memchr-style scan for the two bytes that matter; control bytes are checked on the way.
    while (p < in.size()) {
      char c = in[p];
      if (c == '"' || c == '\\') {
        break;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return JsonError::kBadString;
      }
      ++p;
    }
    if (p >= in.size()) {
      return JsonError::kEnd;
    }
    if (in[p] == '"') {
      *pos = p + 1;
      return JsonError::kNone;
    }
    // A backslash.
    if (p + 1 >= in.size()) {
      return JsonError::kEnd;
    }
    char e = in[p + 1];
    if (e == 'u') {
      if (p + 6 > in.size()) {
        return JsonError::kEnd;
      }
      for (size_t i = p + 2; i < p + 6; ++i) {
        if (!is_hex(in[i])) {
          return JsonError::kBadString;
        }
      }
      p += 6;
    } else if (std::strchr("\"\\/bfnrt", e) != nullptr && e != '\0') {
      p += 2;
    } else {
      return JsonError::kBadString;
    }
  }
}

JsonError read_number(std::string_view in, size_t* pos) {
  size_t p = *pos;
  if (p < in.size() && in[p] == '-') {
    ++p;
  }
  if (p >= in.size()) {
    return JsonError::kEnd;
  }
  if (in[p] == '0') {
    ++p;
  } else if (is_digit(in[p])) {
    while (p < in.size() && is_digit(in[p])) {
      ++p;
    }
  } else {
    return JsonError::kBadNumber;
  }
  if (p < in.size() && in[p] == '.') {
    ++p;
    if (p >= in.size() || !is_digit(in[p])) {
      return p >= in.size() ? JsonError::kEnd : JsonError::kBadNumber;
    }
    while (p < in.size() && is_digit(in[p])) {
      ++p;
    }
  }
  if (p < in.size() && (in[p] == 'e' || in[p] == 'E')) {
    ++p;
    if (p < in.size() && (in[p] == '+' || in[p] == '-')) {
      ++p;
    }
    if (p >= in.size() || !is_digit(in[p])) {
      return p >= in.size() ? JsonError::kEnd : JsonError::kBadNumber;
    }
    while (p < in.size() && is_digit(in[p])) {
      ++p;
    }
  }
  *pos = p;
  return JsonError::kNone;
}

JsonError read_literal(std::string_view in, size_t* pos, std::string_view word) {
  if (in.size() - *pos < word.size()) {
    return in.substr(*pos) == word.substr(0, in.size() - *pos) ? JsonError::kEnd
                                                               : JsonError::kBadToken;
  }
  if (in.substr(*pos, word.size()) != word) {
    return JsonError::kBadToken;
  }
  *pos += word.size();
  return JsonError::kNone;
}

// pos is at '{' or '['; reads the members/elements, recursing with depth + 1.
JsonError read_container(std::string_view in, size_t* pos, int depth) {
  bool object = in[*pos] == '{';
  char close = object ? '}' : ']';
  size_t p = skip_ws(in, *pos + 1);
  if (p < in.size() && in[p] == close) {
    *pos = p + 1;
    return JsonError::kNone;
  }
  while (true) {
    JsonValue v;
    if (object) {
      p = skip_ws(in, p);
      if (p >= in.size()) {
        return JsonError::kEnd;
      }
      if (in[p] != '"') {
        return JsonError::kBadToken;
      }
      if (JsonError e = read_string(in, &p); e != JsonError::kNone) {
        return e;
      }
      p = skip_ws(in, p);
      if (p >= in.size()) {
        return JsonError::kEnd;
      }
      if (in[p] != ':') {
        return JsonError::kBadToken;
      }
      ++p;
    }
    if (JsonError e = read_value(in, &p, &v, depth + 1); e != JsonError::kNone) {
      return e;
    }
    p = skip_ws(in, p);
    if (p >= in.size()) {
      return JsonError::kEnd;
    }
    if (in[p] == close) {
      *pos = p + 1;
      return JsonError::kNone;
    }
    if (in[p] != ',') {
      return JsonError::kBadToken;
    }
    ++p;
  }
}

}  // namespace

bool JsonValue::to_u64(uint64_t* out) const {
  if (type != JsonType::kNumber || raw.empty() || raw.size() > 20) {
    return false;
  }
  uint64_t v = 0;
  for (char c : raw) {
    if (!is_digit(c)) {
      return false;  // sign, fraction or exponent
    }
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) {
      return false;
    }
    v = v * 10 + d;
  }
  if (raw.size() > 1 && raw[0] == '0') {
    return false;
  }
  *out = v;
  return true;
}

JsonError read_value(std::string_view in, size_t* pos, JsonValue* out, int depth) {
  if (depth > kMaxJsonDepth) {
    return JsonError::kTooDeep;
  }
  size_t p = skip_ws(in, *pos);
  if (p >= in.size()) {
    return JsonError::kEnd;
  }
  size_t start = p;
  JsonError e = JsonError::kNone;
  switch (in[p]) {
    case '{':
      out->type = JsonType::kObject;
      e = read_container(in, &p, depth);
      break;
    case '[':
      out->type = JsonType::kArray;
      e = read_container(in, &p, depth);
      break;
    case '"':
      out->type = JsonType::kString;
      e = read_string(in, &p);
      break;
    case 't':
      out->type = JsonType::kBool;
      e = read_literal(in, &p, "true");
      break;
    case 'f':
      out->type = JsonType::kBool;
      e = read_literal(in, &p, "false");
      break;
    case 'n':
      out->type = JsonType::kNull;
      e = read_literal(in, &p, "null");
      break;
    default:
      if (in[p] == '-' || is_digit(in[p])) {
        out->type = JsonType::kNumber;
        e = read_number(in, &p);
      } else {
        e = JsonError::kBadToken;
      }
  }
  if (e != JsonError::kNone) {
    return e;
  }
  out->raw = in.substr(start, p - start);
  *pos = p;
  return JsonError::kNone;
}

JsonError parse_value(std::string_view in, JsonValue* out) {
  size_t pos = 0;
  if (JsonError e = read_value(in, &pos, out, 0); e != JsonError::kNone) {
    return e;
  }
  if (skip_ws(in, pos) != in.size()) {
    return JsonError::kTrailing;
  }
  return JsonError::kNone;
}

}  // namespace herald::bench
