#pragma once
// Internals shared by CommandDecoder and ApiDecoder: the padded buffer + simdjson DOM parser,
// the mapping of simdjson errors to ErrorCodes, typed field readers with the protocol's rules
// (null = absent, known fields at most once, unknown fields ignored), and recovery of a value's
// raw text so data is forwarded verbatim. Not part of the public API.
// Thread: owner of the decoder.

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/command.h"

namespace herald::protocol::detail {

struct FieldError {
  ErrorCode code = ErrorCode::kBadRequest;
  std::string message;
};

// A simdjson DOM parser and the padded copy of the input it parses.
class JsonParser {
 public:
  JsonParser(size_t max_depth, size_t max_capacity);

  // Copies text into the padded buffer (reused, grows as needed) and returns the copy.
  std::string_view load(std::string_view text);
  // Parses `span`, which must lie inside the last load(). The root stays valid until the next
  // parse. On failure fills err.
  bool parse(std::string_view span, simdjson::dom::element& root, FieldError& err);

 private:
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
  size_t max_depth_;
  simdjson::dom::parser parser_;
};

// The value of one known field of an object.
struct Field {
  simdjson::dom::element value;
  int index = -1;  // position among the object's fields; -1 = absent
  bool duplicate = false;
  bool present() const { return index >= 0 && !value.is_null(); }
};

// The known fields of one JSON object, plus its raw text to cut values out of.
// Up to kMaxNames known names per object.
class ObjectFields {
 public:
  static constexpr size_t kMaxNames = 12;

  // obj null: an absent object, read as {}. raw: the object's text, starting at its '{'.
  // path: prefix for error messages ("params.").
  ObjectFields(const simdjson::dom::object* obj, std::string_view raw,
               std::span<const std::string_view> names, std::string_view path);

  const Field& operator[](size_t k) const { return fields_[k]; }
  std::string_view name(size_t k) const { return names_[k]; }
  std::string_view path() const { return path_; }
  // The first known field that appears twice, as a kDuplicateField error.
  bool check_duplicates(FieldError& err) const;
  // The raw text of field k's value (k present). Fields must be asked in increasing index.
  std::string_view raw_value(size_t k);

 private:
  std::span<const std::string_view> names_;
  std::string_view path_;
  Field fields_[kMaxNames];
  std::string_view raw_;
  size_t raw_pos_ = 1;      // just after '{' or after the last value cut out
  int raw_next_field_ = 0;  // the field index raw_pos_ is before
};

// Field readers: false + err on a wrong type, range or size. An absent (or null) optional field
// leaves out unchanged; an absent required one is kMissingField.
bool read_string(const ObjectFields& o, size_t k, bool required, size_t max_size, std::string& out,
                 FieldError& err);
bool read_uint(const ObjectFields& o, size_t k, bool required, uint64_t max_value,
               std::optional<uint64_t>& out, FieldError& err);
bool read_bool(const ObjectFields& o, size_t k, bool& out, FieldError& err);
bool read_channel(const ObjectFields& o, size_t k, const Limits& limits, std::string& out,
                  FieldError& err);
// {offset, epoch}; both required inside.
bool read_since(ObjectFields& o, size_t k, const Limits& limits, std::optional<StreamPosition>& out,
                FieldError& err);
// An optional count up to UINT32_MAX (history's `limit`).
bool read_limit(const ObjectFields& o, size_t k, std::optional<uint32_t>& out, FieldError& err);
// Any JSON value (null included: present in the text means present), minified into out.
bool read_data(ObjectFields& o, size_t k, bool required, size_t max_size, std::string& out,
               FieldError& err);

// The enum value whose name is `name` in names (indexed by the enum), or nullopt.
template <typename Enum, size_t N>
std::optional<Enum> enum_from_name(const std::array<std::string_view, N>& names,
                                   std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) {
      return static_cast<Enum>(i);
    }
  }
  return std::nullopt;
}

// Cuts the next element out of the text of a validated array; pos starts at 1 (after '[').
std::string_view next_array_item(std::string_view array_raw, size_t& pos);

// Best effort for errors on lines that are not valid JSON: the id when the line starts with
// {"id":<1..4294967295>, else 0.
uint32_t sniff_id(std::string_view line);

// Skips JSON whitespace at both ends.
std::string_view trim_json_space(std::string_view s);

// Field-error helpers (messages like "missing field: params.channel").
void set_error(FieldError& err, ErrorCode code, std::string_view what, std::string_view path,
               std::string_view name);

}  // namespace herald::protocol::detail
