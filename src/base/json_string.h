#pragma once
// One JSON string encoder for every layer that writes JSON by hand (the protocol's encoders, the
// SSE stream's commands built from a URL, token headers): escaped once and right, so no layer
// keeps a weaker copy. Header-only, like the rest of base. Thread: any.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace herald {
namespace json_detail {

// 0: copy; 1: needs escaping; 2: non-ASCII (validate the UTF-8 sequence).
constexpr std::array<uint8_t, 256> make_json_class_table() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) {
    t[static_cast<size_t>(c)] = 1;
  }
  t['"'] = 1;
  t['\\'] = 1;
  for (int c = 0x80; c < 0x100; ++c) {
    t[static_cast<size_t>(c)] = 2;
  }
  return t;
}

inline constexpr std::array<uint8_t, 256> kJsonClass = make_json_class_table();

// Length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF), or 0 if the bytes there do not start one.
inline size_t utf8_sequence(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (at(k) & 0xC0) == 0x80; };
  uint8_t b = at(i);
  if (b >= 0xC2 && b <= 0xDF) {
    return cont(i + 1) ? 2 : 0;
  }
  if (b >= 0xE0 && b <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) {
      return 0;
    }
    uint8_t b1 = at(i + 1);
    if ((b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 > 0x9F)) {
      return 0;
    }
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) {
      return 0;
    }
    uint8_t b1 = at(i + 1);
    if ((b == 0xF0 && b1 < 0x90) || (b == 0xF4 && b1 > 0x8F)) {
      return 0;
    }
    return 4;
  }
  return 0;
}

inline void append_json_escape(std::string& out, uint8_t c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      out.append("\\\"");
      return;
    case '\\':
      out.append("\\\\");
      return;
    case '\b':
      out.append("\\b");
      return;
    case '\f':
      out.append("\\f");
      return;
    case '\n':
      out.append("\\n");
      return;
    case '\r':
      out.append("\\r");
      return;
    case '\t':
      out.append("\\t");
      return;
    default: {
      char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out.append(u, sizeof(u));
      return;
    }
  }
}

// Appends s as a quoted JSON string. '"', '\\' and control bytes are escaped (\n, \t... or
// \u00XX); valid UTF-8 is copied as is; each byte of an invalid UTF-8 sequence becomes \ufffd,
// so the output is always valid JSON whatever s holds.
}  // namespace json_detail

inline void append_json_string(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  size_t run = 0;  // start of the pending run of bytes copied verbatim
  size_t i = 0;
  while (i < s.size()) {
    uint8_t cls = json_detail::kJsonClass[static_cast<uint8_t>(s[i])];
    if (cls == 0) {
      ++i;
      continue;
    }
    if (cls == 2) {
      size_t n = json_detail::utf8_sequence(s, i);
      if (n != 0) {
        i += n;
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    if (cls == 1) {
      json_detail::append_json_escape(out, static_cast<uint8_t>(s[i]));
    } else {
      out.append("\\ufffd");
    }
    ++i;
    run = i;
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

}  // namespace herald
