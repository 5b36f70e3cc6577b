// Fuzzes the wire of pusher-js's HTTP fallbacks (pusher/xhr_frames.h) with arbitrary bytes:
//  * as a request path: a path that parses has a key of 1-100 bytes and a session path that is
//    "<key>/<server>/<session>", a prefix of what follows /pusher/app/;
//  * as an xhr_send body: every event of a body that decodes, quoted into an "a[...]" frame as
//    the server would send it back, reads back as the same string (the frame is valid JSON);
//  * the close and refusal frames built from the bytes as a reason are valid JSON after their
//    one-letter type.

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "pusher/xhr_frames.h"

namespace {

simdjson::dom::parser& parser() {
  static simdjson::dom::parser p;
  return p;
}

bool valid_json(std::string_view s) {
  simdjson::padded_string padded(s);
  simdjson::dom::element root;
  return parser().parse(padded).get(root) == simdjson::SUCCESS;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herald::pusher;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  XhrPath path;
  if (parse_xhr_path(text, path)) {
    std::string_view after = text.substr(std::string_view("/pusher/app/").size());
    if (path.key.empty() || path.key.size() > 100 || !after.starts_with(path.session_path) ||
        !path.session_path.starts_with(path.key) || path.session_path.size() <= path.key.size()) {
      std::abort();
    }
  }

  static SendDecoder decoder;
  std::vector<std::string_view> events;
  if (decoder.decode(text, events)) {
    std::vector<std::string> copies(events.begin(), events.end());
    std::string frame = "[";
    for (size_t i = 0; i < copies.size(); ++i) {
      frame += i == 0 ? "" : ",";
      frame += quote_event(copies[i]);
    }
    frame += "]";
    simdjson::padded_string padded(frame);
    simdjson::dom::array array;
    if (parser().parse(padded).get_array().get(array) != simdjson::SUCCESS ||
        array.size() != copies.size()) {
      std::abort();
    }
    size_t i = 0;
    for (simdjson::dom::element e : array) {
      std::string_view back;
      if (e.get_string().get(back) != simdjson::SUCCESS || back != copies[i++]) {
        std::abort();
      }
    }
  }

  std::string close = close_frame(4000, text);
  if (close.size() < 3 || close[0] != 'c' || close.back() != '\n' ||
      !valid_json(std::string_view(close).substr(1, close.size() - 2))) {
    std::abort();
  }
  std::string refused = refusal_frames(4001, text);
  size_t a = refused.find('\n');
  size_t c = refused.find('\n', a + 1);
  if (!refused.starts_with("o\na[") ||
      !valid_json(std::string_view(refused).substr(a + 2, c - a - 2))) {
    std::abort();
  }
  return 0;
}
