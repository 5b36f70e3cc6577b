#pragma once
// Byte classes of RFC 9110/9112/3986 as 256-entry tables, shared by the http parsers. Internal to
// src/http; one table lookup per byte keeps the hot loops branch-light.

#include <array>
#include <cstdint>
#include <string_view>

namespace herald::http::chars {

enum : uint8_t {
  kTchar = 1,        // token character (RFC 9110 5.6.2)
  kFieldValue = 2,   // VCHAR, obs-text, SP, HTAB: allowed inside a field value
  kTarget = 4,       // allowed in a request-target: VCHAR except '#'
  kHost = 8,         // uri-host / port bytes: unreserved, sub-delims, ':', '[', ']', '%'
  kHex = 16,         // hex digit
  kSchemeTail = 32,  // ALPHA / DIGIT / "+" / "-" / "."
};

inline constexpr std::array<uint8_t, 256> kTable = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t v = 0;
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool digit = c >= '0' && c <= '9';
    if (alpha || digit ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
      v |= kTchar;
    }
    if (c == '\t' || (c >= 0x20 && c != 0x7f)) {
      v |= kFieldValue;
    }
    if (c > 0x20 && c < 0x7f && c != '#') {
      v |= kTarget;
    }
    if (alpha || digit ||
        std::string_view("-._~!$&'()*+,;=:[]%").find(static_cast<char>(c)) !=
            std::string_view::npos) {
      v |= kHost;
    }
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
      v |= kHex;
    }
    if (alpha || digit || c == '+' || c == '-' || c == '.') {
      v |= kSchemeTail;
    }
    t[static_cast<size_t>(c)] = v;
  }
  return t;
}();

inline bool is(char c, uint8_t cls) {
  return (kTable[static_cast<uint8_t>(c)] & cls) != 0;
}

inline bool all(std::string_view s, uint8_t cls) {
  for (char c : s) {
    if (!is(c, cls)) {
      return false;
    }
  }
  return true;
}

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

// Case-insensitive ASCII comparison; `lower_b` must already be lower case.
inline bool iequals(std::string_view a, std::string_view lower_b) {
  if (a.size() != lower_b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower_b[i]) {
      return false;
    }
  }
  return true;
}

inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace herald::http::chars
