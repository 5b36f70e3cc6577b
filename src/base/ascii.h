#pragma once
// ASCII helpers for protocol tokens (header names, extension parameters): locale-free and
// constexpr, because every parser needs them and none may depend on the C locale.
// Thread: any.

#include <array>
#include <cstdint>
#include <string_view>

namespace herald {

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

// Case-insensitive equality for ASCII tokens (RFC 9110 field names, WebSocket tokens).
constexpr bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) {
      return false;
    }
  }
  return true;
}

// Strips optional whitespace (SP and HTAB, RFC 9110 5.6.3) from both ends.
constexpr std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// A byte table for name alphabets (channel names): true for ASCII letters, digits and the
// bytes of `extra`. Built at compile time: `constexpr auto kByte = alnum_and(".-");`.
constexpr std::array<bool, 256> alnum_and(std::string_view extra) {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[static_cast<size_t>(c)] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9');
  }
  for (char c : extra) {
    t[static_cast<uint8_t>(c)] = true;
  }
  return t;
}

}  // namespace herald
