#include "server_lines.h"

#include <simdjson.h>

#include <utility>

namespace herald::app {
namespace {

namespace od = simdjson::ondemand;

// What the parser allocates up front; iterate() grows it for longer lines.
constexpr size_t kInitialCapacity = 4096;
// The parser's own depth limit, above kMaxNesting so that validate() refuses first.
constexpr size_t kParserDepth = ServerLineParser::kMaxNesting + 4;

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_json_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// RFC 8259 number grammar, with no limit on size: data is forwarded, not interpreted, so
// 123456789012345678901234567890 and 1e400 pass through as the server sent them.
bool is_json_number(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') {
    ++i;
  }
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (i < s.size() && is_digit(s[i])) {
    while (i < s.size() && is_digit(s[i])) {
      ++i;
    }
  } else {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    size_t first = ++i;
    while (i < s.size() && is_digit(s[i])) {
      ++i;
    }
    if (i == first) {
      return false;
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      ++i;
    }
    size_t first = i;
    while (i < s.size() && is_digit(s[i])) {
      ++i;
    }
    if (i == first) {
      return false;
    }
  }
  return i == s.size();
}

// Reads every part of v, because ondemand checks only what it is asked to read and skips the
// rest by counting brackets: without this walk `{"a":tru}` in data would reach stdout verbatim
// and an unknown field could hide text that is not JSON. Numbers are checked, not consumed (the
// enclosing iteration skips them). Nesting is bounded here because ondemand never returns
// DEPTH_ERROR; it asserts (SIMDJSON_DEVELOPMENT_CHECKS builds) when a container opens too deep.
bool validate(od::value& v) {
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) {
    return false;
  }
  bool container = type == od::json_type::object || type == od::json_type::array;
  // A container's depth is its nesting level: the line's own object is 1.
  if (container && v.current_depth() > static_cast<int32_t>(ServerLineParser::kMaxNesting)) {
    return false;
  }
  switch (type) {
    case od::json_type::object: {
      od::object obj;
      if (v.get_object().get(obj) != simdjson::SUCCESS) {
        return false;
      }
      for (auto field_result : obj) {
        od::field field;
        std::string_view key;
        if (std::move(field_result).get(field) != simdjson::SUCCESS ||
            field.unescaped_key().get(key) != simdjson::SUCCESS || !validate(field.value())) {
          return false;
        }
      }
      return true;
    }
    case od::json_type::array: {
      od::array arr;
      if (v.get_array().get(arr) != simdjson::SUCCESS) {
        return false;
      }
      for (auto item_result : arr) {
        od::value item;
        if (std::move(item_result).get(item) != simdjson::SUCCESS || !validate(item)) {
          return false;
        }
      }
      return true;
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s) == simdjson::SUCCESS;  // checks the escapes
    }
    case od::json_type::number:
      return is_json_number(trim_right(v.raw_json_token()));
    case od::json_type::boolean: {
      bool b = false;
      return v.get_bool().get(b) == simdjson::SUCCESS;
    }
    case od::json_type::null: {
      bool is_null = false;
      return v.is_null().get(is_null) == simdjson::SUCCESS && is_null;
    }
  }
  return false;
}

bool read_string(od::value& v, std::string& out) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) {
    return false;
  }
  out.assign(s);
  return true;
}

// Copies v's JSON text, byte for byte, into out, after checking that it is valid JSON.
bool read_raw(od::value& v, std::string& out) {
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) {
    return false;
  }
  // A token runs up to the next structural character, trailing whitespace included.
  std::string_view start = v.raw_json_token();
  std::string_view raw;
  if (type == od::json_type::object || type == od::json_type::array) {
    // Once the container is read the iterator stands on the ',' or '}' after it: that is its end.
    const char* end = nullptr;
    if (!validate(v) || v.current_location().get(end) != simdjson::SUCCESS || end < start.data()) {
      return false;
    }
    raw = std::string_view(start.data(), static_cast<size_t>(end - start.data()));
  } else {
    raw = start;
    if (!validate(v)) {
      return false;
    }
  }
  raw = trim_right(raw);
  out.assign(raw);
  return !raw.empty();
}

bool read_uint(od::value& v, uint64_t& out) {
  return v.get_uint64().get(out) == simdjson::SUCCESS;
}

bool read_bool(od::value& v, bool& out) {
  return v.get_bool().get(out) == simdjson::SUCCESS;
}

// Calls fn(key, value) for each field; false when the object is malformed or fn refuses.
template <typename Fn>
bool for_each_field(od::object obj, Fn&& fn) {
  for (auto field_result : obj) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) != simdjson::SUCCESS ||
        field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return false;
    }
    if (!fn(key, field.value())) {
      return false;
    }
  }
  return true;
}

void clear_publication(Publication& pub) {
  pub.offset = 0;
  pub.epoch.clear();
  pub.data.clear();
  pub.info.clear();
}

// An optional field set to null is absent.
void drop_null_info(Publication& pub) {
  if (pub.info == "null") {
    pub.info.clear();
  }
}

bool parse_publication(od::object obj, Publication& pub) {
  clear_publication(pub);
  bool ok = for_each_field(obj, [&pub](std::string_view key, od::value& v) {
    if (key == "offset") {
      return read_uint(v, pub.offset);
    }
    if (key == "epoch") {
      return read_string(v, pub.epoch);
    }
    if (key == "data") {
      return read_raw(v, pub.data);
    }
    if (key == "info") {
      return read_raw(v, pub.info);
    }
    return validate(v);  // unknown: skipped, but it must be JSON all the same
  });
  drop_null_info(pub);
  return ok && pub.offset > 0 && !pub.data.empty();
}

bool parse_publications(od::value& v, ServerLine& line) {
  od::array pubs;
  if (v.get_array().get(pubs) != simdjson::SUCCESS) {
    return false;
  }
  for (auto item : pubs) {
    od::object pub_obj;
    if (item.get_object().get(pub_obj) != simdjson::SUCCESS) {
      return false;
    }
    if (line.publication_count == line.publications.size()) {
      line.publications.emplace_back();
    }
    if (!parse_publication(pub_obj, line.publications[line.publication_count])) {
      return false;
    }
    ++line.publication_count;
  }
  return true;
}

bool parse_result(od::object obj, ServerLine& line) {
  return for_each_field(obj, [&line](std::string_view key, od::value& v) {
    if (key == "epoch") {
      return read_string(v, line.epoch);
    }
    if (key == "offset") {
      return read_uint(v, line.offset);
    }
    if (key == "recovered") {
      return read_bool(v, line.recovered);
    }
    if (key == "ping") {
      return read_uint(v, line.ping);
    }
    if (key == "publications") {
      return parse_publications(v, line);
    }
    return validate(v);  // unknown: skipped, but it must be JSON all the same
  });
}

bool parse_error(od::object obj, ServerLine& line) {
  return for_each_field(obj, [&line](std::string_view key, od::value& v) {
    if (key == "code") {
      return read_uint(v, line.error_code);
    }
    if (key == "message") {
      return read_string(v, line.error_message);
    }
    if (key == "temporary") {
      return read_bool(v, line.error_temporary);
    }
    return validate(v);  // unknown: skipped, but it must be JSON all the same
  });
}

bool parse_top(od::object top, ServerLine& line) {
  return for_each_field(top, [&line](std::string_view key, od::value& v) {
    if (key == "id") {
      line.has_id = true;
      return read_uint(v, line.id);
    }
    if (key == "result") {
      od::object obj;
      line.has_result = true;
      return v.get_object().get(obj) == simdjson::SUCCESS && parse_result(obj, line);
    }
    if (key == "error") {
      od::object obj;
      line.has_error = true;
      return v.get_object().get(obj) == simdjson::SUCCESS && parse_error(obj, line);
    }
    if (key == "push") {
      return read_string(v, line.push);
    }
    if (key == "channel") {
      return read_string(v, line.channel);
    }
    if (key == "offset") {
      line.has_message = true;
      return read_uint(v, line.message.offset);
    }
    if (key == "epoch") {
      return read_string(v, line.message.epoch);
    }
    if (key == "data") {
      return read_raw(v, line.message.data);
    }
    if (key == "info") {
      return read_raw(v, line.message.info);
    }
    if (key == "code") {
      return read_uint(v, line.code);
    }
    if (key == "reason") {
      return read_string(v, line.reason);
    }
    if (key == "reconnect") {
      return read_bool(v, line.reconnect);
    }
    return validate(v);  // unknown: skipped, but it must be JSON all the same
  });
}

}  // namespace

void ServerLine::clear() {
  has_id = has_result = has_error = error_temporary = recovered = has_message = false;
  reconnect = true;
  id = error_code = offset = ping = code = 0;
  publication_count = 0;
  error_message.clear();
  epoch.clear();
  clear_publication(message);
  push.clear();
  channel.clear();
  reason.clear();
}

struct ServerLineParser::Impl {
  od::parser parser;
  std::string padded;  // the current line plus simdjson's padding
};

ServerLineParser::ServerLineParser() : impl_(std::make_unique<Impl>()) {
  // Sets the depth limit. On failure (out of memory) iterate() allocates again, and fails then.
  if (impl_->parser.allocate(kInitialCapacity, kParserDepth) != simdjson::SUCCESS) {
    return;
  }
}

ServerLineParser::~ServerLineParser() = default;

bool ServerLineParser::parse(std::string_view text, ServerLine& out) {
  out.clear();
  std::string& padded = impl_->padded;
  padded.assign(text);
  padded.resize(text.size() + simdjson::SIMDJSON_PADDING, '\0');
  od::document doc;
  od::object top;
  if (impl_->parser.iterate(padded.data(), text.size(), padded.size()).get(doc) !=
          simdjson::SUCCESS ||
      doc.get_object().get(top) != simdjson::SUCCESS || !parse_top(top, out)) {
    return false;
  }
  drop_null_info(out.message);
  // Nothing may follow the object (OUT_OF_BOUNDS: the iterator is past the last token).
  const char* rest = nullptr;
  return doc.current_location().get(rest) == simdjson::OUT_OF_BOUNDS;
}

}  // namespace herald::app
