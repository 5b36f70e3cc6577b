#include "pusher/frames.h"

#include "base/json_string.h"

namespace herald::pusher {

std::string_view describe(FrameError e) {
  switch (e) {
    case FrameError::kNone:
      return "ok";
    case FrameError::kNotJson:
      return "the message is not valid JSON";
    case FrameError::kNotObject:
      return "the message must be a JSON object";
    case FrameError::kNoEvent:
      return "the message has no valid \"event\" (a string of 1-200 bytes)";
    case FrameError::kBadData:
      return "the event's \"data\" must be a JSON object";
  }
  return "invalid message";
}

FrameError FrameDecoder::decode(std::string_view text, ClientFrame& out) {
  out = ClientFrame{};
  if (!frame_.parse(text)) {
    // Text that starts as an object but fails is broken JSON; anything else is not an object.
    size_t first = text.find_first_not_of(" \t\r\n");
    return first == std::string_view::npos || text[first] == '{' ? FrameError::kNotJson
                                                                  : FrameError::kNotObject;
  }
  std::optional<std::string_view> event = frame_.string("event");
  if (!event || event->empty() || event->size() > kMaxEventName) {
    return FrameError::kNoEvent;
  }
  out.event = *event;
  if (auto channel = frame_.string("channel")) {
    out.channel = *channel;
  }
  if (auto data = frame_.raw("data")) {
    out.data = *data;
  }
  if (!out.event.starts_with("pusher:")) {
    return FrameError::kNone;  // a client event: its data is forwarded as is
  }
  if (out.data.empty() || out.data == "null") {
    return FrameError::kNone;  // pusher:ping, pusher:pong
  }
  // The data of a pusher: event is an object, or (older clients) a string holding one.
  std::string_view object_text = out.data;
  if (auto s = frame_.string("data")) {
    data_text_.assign(*s);
    object_text = data_text_;
  }
  if (!data_.parse(object_text)) {
    return FrameError::kBadData;
  }
  if (auto channel = data_.string("channel")) {
    out.channel = *channel;
  }
  if (auto auth = data_.string("auth")) {
    out.auth = *auth;
  }
  if (auto cd = data_.string("channel_data")) {
    out.channel_data = *cd;
    out.has_channel_data = true;
  }
  if (auto ud = data_.string("user_data")) {
    out.user_data = *ud;
  }
  if (auto since = data_.raw("herald_since")) {
    out.herald_since = *since;
  }
  return FrameError::kNone;
}

void append_event(std::string& out, std::string_view event, std::string_view channel,
                  std::string_view raw_data, std::string_view user_id) {
  out += R"({"event":)";
  append_json_string(out, event);
  if (!channel.empty()) {
    out += R"(,"channel":)";
    append_json_string(out, channel);
  }
  out += R"(,"data":)";
  out += raw_data.empty() ? std::string_view("null") : raw_data;
  if (!user_id.empty()) {
    out += R"(,"user_id":)";
    append_json_string(out, user_id);
  }
  out += '}';
}

void append_event_string_data(std::string& out, std::string_view event, std::string_view channel,
                              std::string_view object_text) {
  std::string data;
  append_json_string(data, object_text);
  append_event(out, event, channel, data);
}

std::string connection_established(std::string_view socket_id, uint32_t activity_timeout_s) {
  std::string data = R"({"socket_id":)";
  append_json_string(data, socket_id);
  data += R"(,"activity_timeout":)";
  data += std::to_string(activity_timeout_s);
  data += '}';
  std::string out;
  append_event_string_data(out, "pusher:connection_established", {}, data);
  return out;
}

std::string error_event(uint16_t code, std::string_view message) {
  std::string out = R"({"event":"pusher:error","data":{"code":)";
  out += code == 0 ? std::string("null") : std::to_string(code);
  out += R"(,"message":)";
  append_json_string(out, message);
  out += "}}";
  return out;
}

std::string subscription_error(std::string_view channel, std::string_view type,
                               std::string_view message, int status) {
  std::string data = R"({"type":)";
  append_json_string(data, type);
  data += R"(,"error":)";
  append_json_string(data, message);
  data += R"(,"status":)";
  data += std::to_string(status);
  data += '}';
  std::string out;
  append_event_string_data(out, "pusher:subscription_error", channel, data);
  return out;
}

std::string publication_data(std::string_view event, std::string_view raw_data,
                             std::string_view user_id) {
  std::string out = R"({"event":)";
  append_json_string(out, event);
  out += R"(,"data":)";
  out += raw_data.empty() ? std::string_view("null") : raw_data;
  if (!user_id.empty()) {
    out += R"(,"user_id":)";
    append_json_string(out, user_id);
  }
  out += '}';
  return out;
}

EventView read_publication(JsonObject& reader, std::string_view data) {
  if (reader.parse(data)) {
    auto event = reader.string("event");
    auto raw = reader.raw("data");
    if (event && !event->empty() && event->size() <= kMaxEventName && raw) {
      EventView v{*event, *raw, {}};
      if (auto user = reader.string("user_id")) {
        v.user_id = *user;
      }
      return v;
    }
  }
  return EventView{"message", data, {}};
}

}  // namespace herald::pusher
