// Fuzzes bench::SseParser, the generator's reader of herald's event streams (GET
// /connection/sse). The first byte picks the size limit and the piece size; the rest is the
// stream, fed whole and in pieces. Both feedings must give the same events and the same error,
// every event's data must fit the limit, and the parser must never hold more than the limit.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sse_parser.h"

namespace {

using herald::bench::SseError;
using herald::bench::SseEvent;
using herald::bench::SseParser;

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) {       \
      std::abort();      \
    }                    \
  } while (0)

struct Outcome {
  std::vector<std::string> events;  // type '|' id '|' data
  SseError error = SseError::kNone;
  uint64_t comments = 0;
};

Outcome parse(std::string_view in, size_t piece, size_t max) {
  SseParser parser(max);
  Outcome o;
  for (size_t pos = 0; pos < in.size(); pos += piece) {
    bool ok = parser.feed(in.substr(pos, piece), [&](const SseEvent& e) {
      FUZZ_CHECK(e.data.size() < max);  // the data and its lines' '\n's fit
      o.events.push_back(std::string(e.type) + '|' + std::string(e.id) + '|' + std::string(e.data));
      return true;
    });
    if (!ok) {
      FUZZ_CHECK(parser.error() != SseError::kNone);
      break;
    }
  }
  o.error = parser.error();
  o.comments = parser.comments();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  const size_t max = 8 + (data[0] & 0x3f) * 4;  // 8 .. 260 bytes
  const size_t piece = (data[0] >> 6) == 0 ? 1 : (data[0] >> 6) * 5;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  Outcome whole = parse(in, in.size() + 1, max);
  Outcome pieces = parse(in, piece, max);
  FUZZ_CHECK(whole.events == pieces.events);
  FUZZ_CHECK(whole.error == pieces.error);
  if (whole.error == SseError::kNone) {
    FUZZ_CHECK(whole.comments == pieces.comments);
  }
  return 0;
}
