#include "pusher/xhr_frames.h"

#include "base/json_string.h"
#include "pusher/frames.h"

namespace herald::pusher {
namespace {

constexpr std::string_view kPrefix = "/pusher/app/";

bool is_id_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == '-';
}

bool valid_id(std::string_view s) {
  if (s.empty() || s.size() > 64) {
    return false;
  }
  for (char c : s) {
    if (!is_id_char(c)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool parse_xhr_path(std::string_view path, XhrPath& out) {
  if (!path.starts_with(kPrefix)) {
    return false;
  }
  std::string_view rest = path.substr(kPrefix.size());
  std::string_view parts[4];
  for (int i = 0; i < 4; ++i) {
    size_t slash = rest.find('/');
    if ((i < 3) == (slash == std::string_view::npos)) {
      return false;  // a part missing, or one too many
    }
    parts[i] = rest.substr(0, slash);
    rest = i < 3 ? rest.substr(slash + 1) : std::string_view{};
  }
  if (parts[0].empty() || parts[0].size() > 100 || !valid_id(parts[1]) || !valid_id(parts[2])) {
    return false;
  }
  if (parts[3] == "xhr_streaming") {
    out.kind = XhrKind::kStreaming;
  } else if (parts[3] == "xhr") {
    out.kind = XhrKind::kPolling;
  } else if (parts[3] == "xhr_send") {
    out.kind = XhrKind::kSend;
  } else {
    return false;
  }
  out.key = parts[0];
  out.session_path = path.substr(kPrefix.size(), parts[0].size() + parts[1].size() +
                                                     parts[2].size() + 2);
  return true;
}

bool SendDecoder::decode(std::string_view body, std::vector<std::string_view>& events) {
  events.clear();
  padded_ = simdjson::padded_string(body);
  simdjson::dom::array array;
  if (parser_.parse(padded_).get_array().get(array) != simdjson::SUCCESS ||
      array.size() > kMaxEventsPerSend) {
    return false;
  }
  for (simdjson::dom::element e : array) {
    std::string_view text;
    if (e.get_string().get(text) != simdjson::SUCCESS) {
      events.clear();
      return false;
    }
    events.push_back(text);
  }
  return true;
}

std::string quote_event(std::string_view event) {
  std::string out;
  out.reserve(event.size() + event.size() / 8 + 2);
  append_json_string(out, event);
  return out;
}

std::string close_frame(uint16_t code, std::string_view reason) {
  std::string out = "c[" + std::to_string(code) + ",";
  append_json_string(out, reason.substr(0, 123));
  out += "]\n";
  return out;
}

std::string refusal_frames(uint16_t code, std::string_view message) {
  std::string out = "o\na[";
  out += quote_event(error_event(code, message));
  out += "]\n";
  out += close_frame(code, message);
  return out;
}

}  // namespace herald::pusher
