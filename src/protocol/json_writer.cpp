#include "protocol/json_writer.h"

#include <array>
#include <charconv>

namespace herald::protocol {

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  out_.push_back('{');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  out_.push_back('}');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  separate();
  out_.push_back('[');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  out_.push_back(']');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
  separate();
  append_json_string(out_, k);
  out_.push_back(':');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::string_value(std::string_view s) {
  separate();
  append_json_string(out_, s);
  return *this;
}

JsonWriter& JsonWriter::uint_value(uint64_t v) {
  separate();
  append_uint(out_, v);
  return *this;
}

JsonWriter& JsonWriter::int_value(int64_t v) {
  separate();
  append_int(out_, v);
  return *this;
}

JsonWriter& JsonWriter::bool_value(bool v) {
  separate();
  out_.append(v ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::null_value() {
  separate();
  out_.append("null");
  return *this;
}

JsonWriter& JsonWriter::raw_value(std::string_view json) {
  separate();
  out_.append(json);
  return *this;
}

}  // namespace herald::protocol
