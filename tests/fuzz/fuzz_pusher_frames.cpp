// Fuzzes pusher::FrameDecoder on arbitrary client frames. For each frame that decodes:
//  * the event is 1-200 bytes; the data, when present, is valid JSON;
//  * the publication it would become (publication_data) is valid JSON, and reading it back
//    (read_publication) gives the same event, data and user id;
//  * the frame sent to other clients (append_event) is valid JSON;
//  * a channel name that passes valid_channel_name maps to a Herald channel and back.
// The frame is also read as a publication of another shape (Herald's own data), which must give
// a frame that is valid JSON whenever the input is.

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "pusher/channels.h"
#include "pusher/frames.h"

namespace {

bool valid_json(std::string_view s) {
  static simdjson::dom::parser parser;
  simdjson::padded_string padded(s);
  simdjson::dom::element root;
  return parser.parse(padded).get(root) == simdjson::SUCCESS;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herald::pusher;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static FrameDecoder decoder;
  static JsonObject reader;
  ClientFrame f;
  FrameError e = decoder.decode(text, f);
  if (e == FrameError::kNone) {
    if (f.event.empty() || f.event.size() > kMaxEventName) {
      std::abort();
    }
    if (!f.data.empty() && !valid_json(f.data)) {
      std::abort();
    }
    std::string pub = publication_data(f.event, f.data, f.channel);
    if (!valid_json(pub)) {
      std::abort();
    }
    EventView back = read_publication(reader, pub);
    std::string_view want_data = f.data.empty() ? std::string_view("null") : f.data;
    if (back.event != f.event || back.data != want_data || back.user_id != f.channel) {
      std::abort();
    }
    std::string out;
    append_event(out, back.event, f.channel, back.data, back.user_id);
    if (!valid_json(out)) {
      std::abort();
    }
    if (valid_channel_name(f.channel)) {
      std::string herald = herald_channel("pusher-1", f.channel);
      if (pusher_channel("pusher-1", herald) != f.channel) {
        std::abort();
      }
    }
  } else if (describe(e).empty()) {
    std::abort();
  }
  if (valid_json(text)) {
    EventView v = read_publication(reader, text);
    std::string out;
    append_event(out, v.event, "c", v.data, v.user_id);
    if (!valid_json(out)) {
      std::abort();
    }
  }
  return 0;
}
