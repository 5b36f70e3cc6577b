// Fuzzes transport::LineReader, the raw TCP transport's line splitter. Each input is read whole
// and in pieces of sizes derived from its first byte, the way a Stream presents input (the
// unconsumed rest again, with more appended); every feeding must give the same lines and the
// same error, every line must be UTF-8 and within the limit, and no line holds a '\n'.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "transport/line_reader.h"
#include "ws/utf8.h"

namespace {

using herald::transport::LineReader;

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) {       \
      std::abort();      \
    }                    \
  } while (0)

constexpr size_t kMaxLine = 64;

struct Outcome {
  std::vector<std::string> lines;
  LineReader::Error error = LineReader::Error::kNone;
};

Outcome read(std::string_view in, size_t piece) {
  LineReader reader(kMaxLine);
  Outcome o;
  std::string pending;
  for (size_t pos = 0; pos < in.size(); pos += piece) {
    pending.append(in.substr(pos, piece));
    size_t used = reader.consume(reinterpret_cast<const uint8_t*>(pending.data()), pending.size(),
                                 [&](std::string_view line) {
                                   o.lines.emplace_back(line);
                                   return true;
                                 });
    FUZZ_CHECK(used <= pending.size());
    pending.erase(0, used);
    if (reader.error() != LineReader::Error::kNone) {
      break;
    }
  }
  o.error = reader.error();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Outcome whole = read(in, in.empty() ? 1 : in.size());
  size_t piece = size == 0 ? 1 : 1 + data[0] % 13;
  Outcome pieces = read(in, piece);
  FUZZ_CHECK(whole.error == pieces.error);
  FUZZ_CHECK(whole.lines == pieces.lines);
  for (const std::string& line : whole.lines) {
    FUZZ_CHECK(line.size() <= kMaxLine);
    FUZZ_CHECK(line.find('\n') == std::string::npos);
    FUZZ_CHECK(herald::ws::is_valid_utf8(line));
  }
  return 0;
}
