// Fuzzes client::LineSplitter, the C++ client's reader of herald's raw TCP transport. The first
// byte picks the line limit and the piece size; the rest is the stream, fed whole and in pieces.
// Both feedings must give the same lines and the same outcome; no line is over the limit or
// holds a '\n', and the splitter never holds more than the limit.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "herald/client/line_splitter.h"

namespace {

using herald::client::LineSplitter;

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) {       \
      std::abort();      \
    }                    \
  } while (0)

struct Outcome {
  std::vector<std::string> lines;
  bool ok = true;
};

Outcome split(std::string_view in, size_t piece, size_t max) {
  LineSplitter splitter(max);
  Outcome o;
  for (size_t pos = 0; pos < in.size() && o.ok; pos += piece) {
    o.ok = splitter.feed(in.substr(pos, piece), [&](std::string_view line) {
      FUZZ_CHECK(line.size() <= max);
      FUZZ_CHECK(line.find('\n') == std::string_view::npos);
      o.lines.emplace_back(line);
      return true;
    });
    FUZZ_CHECK(splitter.buffered() <= max);
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  const size_t max = 1 + (data[0] & 0x3f) * 4;  // 1 .. 253 bytes
  const size_t piece = (data[0] >> 6) == 0 ? 1 : (data[0] >> 6) * 7;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  Outcome whole = split(in, in.size() + 1, max);
  Outcome pieces = split(in, piece, max);
  FUZZ_CHECK(whole.lines == pieces.lines);
  FUZZ_CHECK(whole.ok == pieces.ok);
  return 0;
}
