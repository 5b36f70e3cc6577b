#include "auth/raw_json.h"

#include <simdjson.h>

namespace herald::auth {
namespace {

constexpr size_t kNpos = std::string_view::npos;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t skip_space(std::string_view s, size_t pos) {
  while (pos < s.size() && is_space(s[pos])) {
    ++pos;
  }
  return pos;
}

// pos at an opening quote; returns the position after the closing one, or kNpos.
size_t skip_string(std::string_view s, size_t pos) {
  for (++pos; pos < s.size(); ++pos) {
    if (s[pos] == '\\') {
      ++pos;  // the escaped character can be neither the end quote nor a second escape
    } else if (s[pos] == '"') {
      return pos + 1;
    }
  }
  return kNpos;
}

// pos at the first character of a value; returns the position just after it, or kNpos.
size_t skip_value(std::string_view s, size_t pos) {
  if (pos >= s.size()) {
    return kNpos;
  }
  char c = s[pos];
  if (c == '"') {
    return skip_string(s, pos);
  }
  if (c == '{' || c == '[') {
    size_t depth = 0;
    while (pos < s.size()) {
      char d = s[pos];
      if (d == '"') {
        pos = skip_string(s, pos);
        if (pos == kNpos) {
          return kNpos;
        }
        continue;
      }
      if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) {
          return pos + 1;
        }
      }
      ++pos;
    }
    return kNpos;
  }
  // A number, true, false or null: runs up to a delimiter.
  while (pos < s.size() && s[pos] != ',' && s[pos] != '}' && s[pos] != ']' && !is_space(s[pos])) {
    ++pos;
  }
  return pos;
}

}  // namespace

std::string_view raw_member_value(std::string_view object_text, size_t index) {
  std::string_view s = object_text;
  size_t pos = skip_space(s, 0);
  if (pos >= s.size() || s[pos] != '{') {
    return {};
  }
  ++pos;
  for (size_t i = 0;; ++i) {
    pos = skip_space(s, pos);
    if (pos >= s.size() || s[pos] != '"') {
      return {};
    }
    pos = skip_space(s, skip_string(s, pos));
    if (pos >= s.size() || s[pos] != ':') {
      return {};
    }
    size_t begin = skip_space(s, pos + 1);
    size_t end = skip_value(s, begin);
    if (end == kNpos || end == begin) {
      return {};
    }
    if (i == index) {
      return s.substr(begin, end - begin);
    }
    pos = skip_space(s, end);
    if (pos >= s.size() || s[pos] != ',') {
      return {};  // '}' before the index-th member
    }
    ++pos;
  }
}

bool minify_into(std::string_view json, std::string& out) {
  out.resize(json.size());
  size_t size = 0;
  if (simdjson::minify(json.data(), json.size(), out.data(), size) != simdjson::SUCCESS) {
    out.clear();
    return false;
  }
  out.resize(size);
  return true;
}

}  // namespace herald::auth
