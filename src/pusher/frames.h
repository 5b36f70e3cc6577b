#pragma once
// The Pusher protocol's messages (docs/PUSHER.md, "Messages"): what a client sends, decoded from
// one WebSocket text frame, and what the server sends, encoded. Every server message is one
// frame {"event":...,"channel":...,"data":...}; the data of the server's own events
// (pusher:*, pusher_internal:*) is always a JSON *string* holding a JSON object, as pusher-js
// and the server libraries expect. Sans-I/O, never throws. Thread: the decoder's owner.

#include <cstdint>
#include <string>
#include <string_view>

#include "pusher/json_object.h"

namespace herald::pusher {

inline constexpr size_t kMaxEventName = 200;

// One frame from a client. Views into the decoder: valid until its next decode().
struct ClientFrame {
  std::string_view event;
  std::string_view channel;  // the frame's "channel", or data.channel for pusher:subscribe
  std::string_view data;     // raw JSON text of "data" ("" when absent)
  // From data, when it is an object (pusher:subscribe, pusher:unsubscribe, pusher:signin).
  std::string_view auth;
  std::string_view channel_data;  // a JSON text given as a string
  std::string_view user_data;     // idem
  bool has_channel_data = false;
  // pusher:subscribe's "herald_since" (the history extension, docs/PUSHER.md): its raw JSON text,
  // "" when absent.
  std::string_view herald_since;
};

enum class FrameError : uint8_t {
  kNone,
  kNotJson,      // not valid JSON, or nested too deep
  kNotObject,    // valid JSON but not an object
  kNoEvent,      // "event" missing, not a string, empty or over 200 bytes
  kBadData,      // "data" of a pusher: event is neither an object nor a string holding one
};
std::string_view describe(FrameError e);

class FrameDecoder {
 public:
  FrameError decode(std::string_view text, ClientFrame& out);

 private:
  JsonObject frame_;
  JsonObject data_;
  std::string data_text_;  // data given as a JSON string, unescaped
};

// {"event":E,"channel":C,"data":D[,"user_id":U]} with D written as given (raw JSON text).
// channel "" and user_id "" are left out.
void append_event(std::string& out, std::string_view event, std::string_view channel,
                  std::string_view raw_data, std::string_view user_id = {});
// The same with data given as a JSON object text, sent as a JSON string holding it.
void append_event_string_data(std::string& out, std::string_view event, std::string_view channel,
                              std::string_view object_text);

// Server messages.
std::string connection_established(std::string_view socket_id, uint32_t activity_timeout_s);
// pusher:error {"code":C,"message":M} (code 0 is sent as null: an error that closes nothing).
std::string error_event(uint16_t code, std::string_view message);
std::string subscription_error(std::string_view channel, std::string_view type,
                               std::string_view message, int status);

// What a Herald publication is for Pusher clients, and the other way round (docs/PUSHER.md,
// "One engine"). A Pusher event is stored as the publication data
//   {"event":E,"data":D[,"user_id":U]}
// so Herald clients see the same event. A publication of another shape (published through
// Herald's API or protocol) reaches Pusher clients as event "message" with its data as "data".
struct EventView {
  std::string_view event;
  std::string_view data;     // raw JSON text
  std::string_view user_id;  // client events: the sender
};
std::string publication_data(std::string_view event, std::string_view raw_data,
                             std::string_view user_id);
// Reads a publication's data (valid JSON, as the broker keeps it); views into `reader`.
EventView read_publication(JsonObject& reader, std::string_view publication_data);

}  // namespace herald::pusher
