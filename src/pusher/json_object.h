#pragma once
// JsonObject: one JSON object from untrusted text, validated whole (simdjson DOM) before any
// member is read, with each member's value available unescaped (strings) or as its raw text
// (forwarded verbatim: re-serializing would change how numbers and escapes are written).
// Never throws. Reused: one per decoder, its buffers kept between calls. Thread: its owner's.

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

namespace herald::pusher {

class JsonObject {
 public:
  static constexpr size_t kMaxDepth = 32;

  JsonObject();
  // False if text is not valid JSON, nests deeper than kMaxDepth, or is not an object. The
  // members read below are valid until the next parse().
  bool parse(std::string_view text);

  bool has(std::string_view key) const;
  // A string member's value, unescaped; nullopt if absent or not a string.
  std::optional<std::string_view> string(std::string_view key) const;
  // A string, or an integer written as decimal (Pusher user ids come as either).
  std::optional<std::string> string_or_integer(std::string_view key) const;
  // A member's value as its source text (whitespace around it dropped); nullopt if absent.
  std::optional<std::string_view> raw(std::string_view key);
  // Whether a member is an object.
  bool is_object(std::string_view key) const;
  // The whole object text as given to parse().
  std::string_view text() const { return {buffer_.data(), size_}; }

 private:
  std::string buffer_;  // the text plus simdjson's padding
  size_t size_ = 0;
  simdjson::dom::parser dom_;
  simdjson::dom::object root_;
  simdjson::ondemand::parser ondemand_;
};

}  // namespace herald::pusher
