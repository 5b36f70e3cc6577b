#pragma once
// Appending JSON to a std::string without a DOM: correctly escaped strings and a small writer
// that places commas and colons, so replies and pushes are built without concatenation mistakes.
// Thread: any (JsonWriter: whoever owns the output string).

#include <cstdint>
#include <string>
#include <string_view>

#include "base/json_string.h"

namespace herald::protocol {

// Appends s as a quoted JSON string (base/json_string.h, shared with the other layers).
using herald::append_json_string;

// Appends the decimal form of v.
void append_uint(std::string& out, uint64_t v);
void append_int(std::string& out, int64_t v);

// Builds one JSON value into a string the caller owns. The caller keeps the grammar
// (keys only inside objects, balanced begin/end); the writer handles commas and escaping.
//   JsonWriter w(out);
//   w.begin_object().uint("offset", 5).str("epoch", "x7Fq").raw("data", data).end_object();
// Thread: whoever owns `out`.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);

  // Values (in an array, or after key()).
  JsonWriter& string_value(std::string_view s);
  JsonWriter& uint_value(uint64_t v);
  JsonWriter& int_value(int64_t v);
  JsonWriter& bool_value(bool v);
  JsonWriter& null_value();
  // json must be one valid JSON value (e.g. publication data kept verbatim).
  JsonWriter& raw_value(std::string_view json);

  // key + value shortcuts (distinct names: a const char* would silently pick a bool overload).
  JsonWriter& str(std::string_view k, std::string_view v) { return key(k).string_value(v); }
  JsonWriter& uint(std::string_view k, uint64_t v) { return key(k).uint_value(v); }
  JsonWriter& int64(std::string_view k, int64_t v) { return key(k).int_value(v); }
  JsonWriter& boolean(std::string_view k, bool v) { return key(k).bool_value(v); }
  JsonWriter& raw(std::string_view k, std::string_view json) { return key(k).raw_value(json); }
  JsonWriter& object(std::string_view k) { return key(k).begin_object(); }
  JsonWriter& array(std::string_view k) { return key(k).begin_array(); }

 private:
  void separate() {
    if (need_comma_) {
      out_.push_back(',');
    }
    need_comma_ = true;
  }

  std::string& out_;
  // A value was written at this level, so the next key or value needs a comma. One flag is
  // enough: after '{', '[' or a key nothing needs a comma; after any complete value something does.
  bool need_comma_ = false;
};

}  // namespace herald::protocol
