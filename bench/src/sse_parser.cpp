#include "sse_parser.h"

namespace herald::bench {

std::string_view to_string(SseError error) {
  switch (error) {
    case SseError::kNone:
      return "ok";
    case SseError::kLineTooLong:
      return "event stream line too long";
    case SseError::kEventTooLarge:
      return "event stream event too large";
  }
  return "?";
}

namespace {
constexpr size_t kKeepCapacity = 64 * 1024;
}  // namespace

bool SseParser::keep_partial(std::string_view piece) {
  if (partial_.size() + piece.size() > max_) {
    error_ = SseError::kLineTooLong;
    return false;
  }
  partial_.append(piece);
  return true;
}

void SseParser::release_partial() {
  partial_.clear();
  if (partial_.capacity() > kKeepCapacity) {
    partial_.shrink_to_fit();
  }
}

bool SseParser::on_line(std::string_view line) {
  if (first_line_) {
    first_line_ = false;
    if (line.starts_with("\xEF\xBB\xBF")) {
      line.remove_prefix(3);  // U+FEFF
    }
  }
  if (line.empty()) {
    if (data_.empty()) {
      type_.clear();  // an event without data is not dispatched
      return false;
    }
    return true;
  }
  if (line[0] == ':') {
    ++comments_;
    return false;
  }
  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') {
      value.remove_prefix(1);
    }
  }
  if (field == "data") {
    if (data_.size() + value.size() + 1 > max_) {
      error_ = SseError::kEventTooLarge;
      return false;
    }
    data_.append(value);
    data_.push_back('\n');
  } else if (field == "event") {
    type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) {
      id_.assign(value);
    }
  } else if (field == "retry") {
    uint64_t ms = 0;
    bool digits = !value.empty() && value.size() <= 18;
    for (char c : value) {
      digits = digits && c >= '0' && c <= '9';
      ms = ms * 10 + static_cast<uint64_t>(c - '0');
    }
    if (digits) {
      retry_ms_ = ms;
    }
  }
  // Any other field is ignored, as the standard says.
  return false;
}

SseEvent SseParser::event() const {
  SseEvent e;
  e.type = type_;
  e.data = std::string_view(data_).substr(0, data_.size() - 1);  // the last '\n' is not data
  e.id = id_;
  return e;
}

void SseParser::clear_event() {
  data_.clear();
  type_.clear();
  // A burst's large event should not stay pinned on each of thousands of idle streams.
  if (data_.capacity() > kKeepCapacity) {
    data_.shrink_to_fit();
  }
}

}  // namespace herald::bench
