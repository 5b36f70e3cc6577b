#include "transport/line_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace herald::transport {
namespace {

struct Outcome {
  std::vector<std::string> lines;
  LineReader::Error error = LineReader::Error::kNone;
  std::string kept;  // bytes left unconsumed at the end
};

// Feeds input in pieces of `chunk` bytes the way a Stream does: unconsumed bytes are kept and
// presented again with the next piece appended.
Outcome feed(std::string_view input, size_t chunk, size_t max_line = 16) {
  LineReader reader(max_line);
  Outcome out;
  std::string pending;
  for (size_t pos = 0; pos < input.size(); pos += chunk) {
    pending.append(input.substr(pos, chunk));
    size_t used = reader.consume(reinterpret_cast<const uint8_t*>(pending.data()), pending.size(),
                                 [&](std::string_view line) {
                                   out.lines.emplace_back(line);
                                   return true;
                                 });
    pending.erase(0, used);
    if (reader.error() != LineReader::Error::kNone) {
      break;
    }
  }
  out.error = reader.error();
  out.kept = pending;
  return out;
}

struct Case {
  const char* name;
  std::string input;
  std::vector<std::string> lines;
  LineReader::Error error;
  std::string kept;
};

const std::vector<Case>& cases() {
  using E = LineReader::Error;
  static const std::vector<Case> kCases = {
      {"one line", "{\"id\":1}\n", {"{\"id\":1}"}, E::kNone, ""},
      {"two lines", "a\nbb\n", {"a", "bb"}, E::kNone, ""},
      {"crlf loses the cr", "a\r\nb\r\n", {"a", "b"}, E::kNone, ""},
      {"blank lines are lines", "\n\r\n", {"", ""}, E::kNone, ""},
      {"partial line kept", "a\nbc", {"a"}, E::kNone, "bc"},
      {"exactly the limit", std::string(16, 'x') + "\n", {std::string(16, 'x')}, E::kNone, ""},
      {"limit plus cr", std::string(16, 'x') + "\r\n", {std::string(16, 'x')}, E::kNone, ""},
      {"one over the limit", std::string(17, 'x') + "\n", {}, E::kTooLong, ""},
      {"over the limit without newline", std::string(17, 'x'), {}, E::kTooLong, ""},
      // The limit fires at the byte that passes it: what comes after is never validated.
      {"over the limit, then a bad byte", std::string(18, 'x') + "\xff", {}, E::kTooLong, ""},
      {"over the limit, then a bad byte and newline", std::string(18, 'x') + "\xfd\n", {},
       E::kTooLong, ""},
      {"bad byte within the limit of a long line", "\xff" + std::string(20, 'x'), {},
       E::kInvalidUtf8, ""},
      {"utf-8 passes", "h\xc3\xa9llo \xe2\x82\xac\n", {"h\xc3\xa9llo \xe2\x82\xac"}, E::kNone, ""},
      {"invalid utf-8", "ok\n\xff\n", {"ok"}, E::kInvalidUtf8, ""},
      {"sequence cut by newline", "\xc3\n", {}, E::kInvalidUtf8, ""},
      {"overlong form", "\xc0\xaf\n", {}, E::kInvalidUtf8, ""},
      {"surrogate", "\xed\xa0\x80\n", {}, E::kInvalidUtf8, ""},
  };
  return kCases;
}

TEST(LineReader, TableWholeAndByteByByteAndChunked) {
  for (const Case& c : cases()) {
    for (size_t chunk : {c.input.size() == 0 ? size_t{1} : c.input.size(), size_t{1}, size_t{3}}) {
      Outcome o = feed(c.input, chunk);
      EXPECT_EQ(o.lines, c.lines) << c.name << " chunk " << chunk;
      EXPECT_EQ(o.error, c.error) << c.name << " chunk " << chunk;
      if (c.error == LineReader::Error::kNone) {
        EXPECT_EQ(o.kept, c.kept) << c.name << " chunk " << chunk;
      }
    }
  }
}

TEST(LineReader, StopsWhenTheCallbackSaysSo) {
  LineReader reader(100);
  std::string input = "a\nb\nc\n";
  std::vector<std::string> seen;
  size_t used = reader.consume(reinterpret_cast<const uint8_t*>(input.data()), input.size(),
                               [&](std::string_view line) {
                                 seen.emplace_back(line);
                                 return seen.size() < 2;
                               });
  EXPECT_EQ(used, 4u);  // "a\nb\n"
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

TEST(LineReader, LongPartialLineIsScannedOnce) {
  // A line arriving in many pieces is searched and validated only in its new bytes: the work
  // is linear. Here we check the result; the scanned_ bookkeeping is what makes it linear.
  std::string line(100000, 'y');
  Outcome o = feed(line + "\n", 7, 100000);
  ASSERT_EQ(o.lines.size(), 1u);
  EXPECT_EQ(o.lines[0].size(), 100000u);
}

}  // namespace
}  // namespace herald::transport
