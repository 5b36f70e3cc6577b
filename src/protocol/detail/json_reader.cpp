#include "protocol/detail/json_reader.h"

#include <algorithm>
#include <cstring>

#include "protocol/channel.h"

namespace herald::protocol::detail {

namespace {

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// The scanners below run only over text simdjson has validated, so they need no error paths;
// they still never step outside `s`, whatever it holds.
size_t skip_space(std::string_view s, size_t pos) {
  while (pos < s.size() && is_json_space(s[pos])) {
    ++pos;
  }
  return pos;
}

// s[pos] is the opening quote; returns the position after the closing one. A quote is escaped
// iff an odd number of backslashes precedes it, so memchr can jump over long runs.
size_t skip_string(std::string_view s, size_t pos) {
  size_t body = pos + 1;
  size_t from = body;
  while (from < s.size()) {
    const void* q = std::memchr(s.data() + from, '"', s.size() - from);
    if (q == nullptr) {
      return s.size();
    }
    size_t quote = static_cast<size_t>(static_cast<const char*>(q) - s.data());
    size_t backslashes = 0;
    while (quote - backslashes > body && s[quote - backslashes - 1] == '\\') {
      ++backslashes;
    }
    if (backslashes % 2 == 0) {
      return quote + 1;
    }
    from = quote + 1;
  }
  return s.size();
}

size_t skip_value(std::string_view s, size_t pos) {
  if (pos >= s.size()) {
    return s.size();
  }
  char c = s[pos];
  if (c == '"') {
    return skip_string(s, pos);
  }
  if (c == '{' || c == '[') {
    size_t depth = 0;
    while (pos < s.size()) {
      c = s[pos];
      if (c == '"') {
        pos = skip_string(s, pos);
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          return pos + 1;
        }
      }
      ++pos;
    }
    return s.size();
  }
  while (pos < s.size() && !is_json_space(s[pos]) && s[pos] != ',' && s[pos] != '}' &&
         s[pos] != ']') {
    ++pos;
  }
  return pos;
}

void map_parse_error(simdjson::error_code e, size_t max_depth, FieldError& err) {
  switch (e) {
    case simdjson::UTF8_ERROR:
      err = {ErrorCode::kInvalidUtf8, "invalid UTF-8"};
      return;
    case simdjson::DEPTH_ERROR:
      err = {ErrorCode::kTooDeep, "nested too deep: over " + std::to_string(max_depth) + " levels"};
      return;
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
      err = {ErrorCode::kInvalidNumber,
             "invalid number: malformed, or beyond 64-bit integers and doubles"};
      return;
    case simdjson::UNESCAPED_CHARS:
      err = {ErrorCode::kBadRequest, "bad request: unescaped control character in a string"};
      return;
    case simdjson::STRING_ERROR:
      err = {ErrorCode::kBadRequest, "bad request: invalid escape in a string"};
      return;
    case simdjson::UNCLOSED_STRING:
      err = {ErrorCode::kBadRequest, "bad request: unclosed string"};
      return;
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
      err = {ErrorCode::kBadRequest, "bad request: invalid literal"};
      return;
    case simdjson::CAPACITY:
      err = {ErrorCode::kTooLarge, "too large"};
      return;
    case simdjson::MEMALLOC:
      err = {ErrorCode::kInternal, "internal error: out of memory"};
      return;
    default:
      err = {ErrorCode::kBadRequest, "bad request: invalid JSON"};
      return;
  }
}

}  // namespace

JsonParser::JsonParser(size_t max_depth, size_t max_capacity)
    : max_depth_(max_depth), parser_(max_capacity) {
  // simdjson's depth is the level of the deepest value, the root being level 1 (so "[[]]" and
  // "[1]" both have depth 2): exactly the rule the doc states. A failed allocation here is
  // retried (and reported) by the first parse.
  simdjson::error_code e = parser_.allocate(std::min<size_t>(max_capacity, 4096), max_depth);
  static_cast<void>(e);
}

std::string_view JsonParser::load(std::string_view text) {
  size_t need = text.size() + simdjson::SIMDJSON_PADDING;
  if (need > capacity_) {
    size_t grown = std::max(need, capacity_ * 2);
    buffer_ = std::make_unique<char[]>(grown);
    capacity_ = grown;
  }
  if (!text.empty()) {
    std::memcpy(buffer_.get(), text.data(), text.size());
  }
  // simdjson reads (never interprets) up to SIMDJSON_PADDING bytes past the end.
  std::memset(buffer_.get() + text.size(), 0, simdjson::SIMDJSON_PADDING);
  return {buffer_.get(), text.size()};
}

bool JsonParser::parse(std::string_view span, simdjson::dom::element& root, FieldError& err) {
  simdjson::error_code e = parser_.parse(span.data(), span.size(), false).get(root);
  if (e != simdjson::SUCCESS) {
    map_parse_error(e, max_depth_, err);
    return false;
  }
  return true;
}

ObjectFields::ObjectFields(const simdjson::dom::object* obj, std::string_view raw,
                           std::span<const std::string_view> names, std::string_view path)
    : names_(names), path_(path), raw_(raw) {
  if (obj == nullptr) {
    return;
  }
  int index = 0;
  for (simdjson::dom::key_value_pair kv : *obj) {
    for (size_t k = 0; k < names_.size() && k < kMaxNames; ++k) {
      if (kv.key == names_[k]) {
        Field& f = fields_[k];
        if (f.index >= 0) {
          f.duplicate = true;
        } else {
          f.index = index;
          f.value = kv.value;
        }
        break;
      }
    }
    ++index;
  }
}

bool ObjectFields::check_duplicates(FieldError& err) const {
  for (size_t k = 0; k < names_.size() && k < kMaxNames; ++k) {
    if (fields_[k].duplicate) {
      set_error(err, ErrorCode::kDuplicateField, {}, path_, names_[k]);
      return false;
    }
  }
  return true;
}

std::string_view ObjectFields::raw_value(size_t k) {
  int target = fields_[k].index;
  size_t pos = raw_pos_;
  while (raw_next_field_ <= target && pos < raw_.size()) {
    pos = skip_space(raw_, pos);
    if (pos < raw_.size() && raw_[pos] == ',') {
      pos = skip_space(raw_, pos + 1);
    }
    pos = skip_space(raw_, skip_string(raw_, pos));  // the key
    if (pos < raw_.size() && raw_[pos] == ':') {
      ++pos;
    }
    size_t start = skip_space(raw_, pos);
    pos = skip_value(raw_, start);
    if (raw_next_field_++ == target) {
      raw_pos_ = pos;
      return raw_.substr(start, pos - start);
    }
  }
  raw_pos_ = pos;
  return {};
}

void set_error(FieldError& err, ErrorCode code, std::string_view what, std::string_view path,
               std::string_view name) {
  err.code = code;
  err.message.assign(error_message(code));
  err.message.append(": ");
  err.message.append(path);
  err.message.append(name);
  err.message.append(what);
}

namespace {

bool check_required(const ObjectFields& o, size_t k, bool required, FieldError& err) {
  if (!o[k].present() && required) {
    set_error(err, ErrorCode::kMissingField, {}, o.path(), o.name(k));
    return false;
  }
  return true;
}

}  // namespace

bool read_string(const ObjectFields& o, size_t k, bool required, size_t max_size, std::string& out,
                 FieldError& err) {
  if (!o[k].present()) {
    return check_required(o, k, required, err);
  }
  std::string_view s;
  if (o[k].value.get_string().get(s) != simdjson::SUCCESS) {
    set_error(err, ErrorCode::kWrongType, " (expected a string)", o.path(), o.name(k));
    return false;
  }
  if (s.size() > max_size) {
    set_error(err, ErrorCode::kTooLarge, " (over " + std::to_string(max_size) + " bytes)", o.path(),
              o.name(k));
    return false;
  }
  out.assign(s);
  return true;
}

bool read_uint(const ObjectFields& o, size_t k, bool required, uint64_t max_value,
               std::optional<uint64_t>& out, FieldError& err) {
  if (!o[k].present()) {
    return check_required(o, k, required, err);
  }
  uint64_t v = 0;
  if (o[k].value.get_uint64().get(v) != simdjson::SUCCESS || v > max_value) {
    set_error(err, ErrorCode::kWrongType,
              " (expected an integer 0.." + std::to_string(max_value) + ")", o.path(), o.name(k));
    return false;
  }
  out = v;
  return true;
}

bool read_limit(const ObjectFields& o, size_t k, std::optional<uint32_t>& out, FieldError& err) {
  std::optional<uint64_t> value;
  if (!read_uint(o, k, false, UINT32_MAX, value, err)) {
    return false;
  }
  if (value) {
    out = static_cast<uint32_t>(*value);
  }
  return true;
}

bool read_bool(const ObjectFields& o, size_t k, bool& out, FieldError& err) {
  if (!o[k].present()) {
    return true;
  }
  if (o[k].value.get_bool().get(out) != simdjson::SUCCESS) {
    set_error(err, ErrorCode::kWrongType, " (expected true or false)", o.path(), o.name(k));
    return false;
  }
  return true;
}

bool read_channel(const ObjectFields& o, size_t k, const Limits& limits, std::string& out,
                  FieldError& err) {
  if (!check_required(o, k, true, err)) {
    return false;
  }
  std::string_view s;
  if (o[k].value.get_string().get(s) != simdjson::SUCCESS) {
    set_error(err, ErrorCode::kWrongType, " (expected a string)", o.path(), o.name(k));
    return false;
  }
  if (!is_valid_channel(s, limits.max_channel)) {
    set_error(err, ErrorCode::kInvalidChannel,
              " (1-" + std::to_string(limits.max_channel) +
                  " bytes of A-Z a-z 0-9 _-.:@/=,!~#, not starting with ':')",
              o.path(), o.name(k));
    return false;
  }
  out.assign(s);
  return true;
}

bool read_since(ObjectFields& o, size_t k, const Limits& limits, std::optional<StreamPosition>& out,
                FieldError& err) {
  if (!o[k].present()) {
    return true;
  }
  simdjson::dom::object obj;
  if (o[k].value.get_object().get(obj) != simdjson::SUCCESS) {
    set_error(err, ErrorCode::kWrongType, " (expected {\"offset\":N,\"epoch\":\"..\"})", o.path(),
              o.name(k));
    return false;
  }
  static constexpr std::string_view kNames[] = {"offset", "epoch"};
  std::string path(o.path());
  path.append(o.name(k)).push_back('.');
  ObjectFields since(&obj, {}, kNames, path);
  if (!since.check_duplicates(err)) {
    return false;
  }
  std::optional<uint64_t> offset;
  StreamPosition pos;
  if (!read_uint(since, 0, true, UINT64_MAX, offset, err) ||
      !read_string(since, 1, true, limits.max_string, pos.epoch, err)) {
    return false;
  }
  pos.offset = *offset;
  out = std::move(pos);
  return true;
}

bool read_data(ObjectFields& o, size_t k, bool required, size_t max_size, std::string& out,
               FieldError& err) {
  if (o[k].index < 0) {  // null is data too: only a missing field is absent
    return check_required(o, k, required, err);
  }
  std::string_view raw = o.raw_value(k);
  // The value was validated by the parse; minify only drops whitespace outside strings, so the
  // text stays exactly what the client sent and holds no newline (our line delimiter).
  out.resize(raw.size() + simdjson::SIMDJSON_PADDING);
  size_t n = 0;
  if (raw.empty() || simdjson::minify(raw.data(), raw.size(), out.data(), n) != simdjson::SUCCESS) {
    out.clear();
    set_error(err, ErrorCode::kBadRequest, " (invalid JSON)", o.path(), o.name(k));
    return false;
  }
  out.resize(n);
  if (n > max_size) {
    out.clear();
    set_error(err, ErrorCode::kTooLarge, " (over " + std::to_string(max_size) + " bytes)", o.path(),
              o.name(k));
    return false;
  }
  return true;
}

std::string_view next_array_item(std::string_view array_raw, size_t& pos) {
  pos = skip_space(array_raw, pos);
  if (pos < array_raw.size() && array_raw[pos] == ',') {
    pos = skip_space(array_raw, pos + 1);
  }
  size_t start = pos;
  pos = skip_value(array_raw, start);
  return array_raw.substr(start, pos - start);
}

uint32_t sniff_id(std::string_view line) {
  size_t pos = skip_space(line, 0);
  auto expect = [&](std::string_view token) {
    pos = skip_space(line, pos);
    if (line.substr(pos, token.size()) != token) {
      return false;
    }
    pos += token.size();
    return true;
  };
  if (!expect("{") || !expect("\"id\"") || !expect(":")) {
    return 0;
  }
  pos = skip_space(line, pos);
  uint64_t v = 0;
  size_t digits = 0;
  while (pos < line.size() && line[pos] >= '0' && line[pos] <= '9' && digits <= 10) {
    v = v * 10 + static_cast<uint64_t>(line[pos] - '0');
    ++pos;
    ++digits;
  }
  if (digits == 0 || digits > 10 || (digits > 1 && line[pos - digits] == '0') || v == 0 ||
      v > UINT32_MAX) {
    return 0;
  }
  pos = skip_space(line, pos);
  if (pos >= line.size() || (line[pos] != ',' && line[pos] != '}')) {
    return 0;
  }
  return static_cast<uint32_t>(v);
}

std::string_view trim_json_space(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && is_json_space(s[b])) {
    ++b;
  }
  while (e > b && is_json_space(s[e - 1])) {
    --e;
  }
  return s.substr(b, e - b);
}

}  // namespace herald::protocol::detail
