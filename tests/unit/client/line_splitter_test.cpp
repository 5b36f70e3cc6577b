#include "herald/client/line_splitter.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace herald::client {
namespace {

struct Fed {
  std::vector<std::string> lines;
  bool ok = true;
};

// Feeds input in pieces of the given sizes (empty: whole), collecting every line.
Fed feed(const std::string& input, const std::vector<size_t>& chunks, size_t max = 64) {
  LineSplitter splitter(max);
  Fed out;
  size_t pos = 0;
  size_t k = 0;
  while (pos < input.size() && out.ok) {
    size_t n =
        chunks.empty() ? input.size() : std::min(chunks[k++ % chunks.size()], input.size() - pos);
    out.ok = splitter.feed(std::string_view(input).substr(pos, n), [&](std::string_view line) {
      out.lines.emplace_back(line);
      return true;
    });
    pos += n;
  }
  return out;
}

std::vector<std::vector<size_t>> chunkings(uint32_t seed) {
  std::vector<std::vector<size_t>> out = {{}, {1}, {2}, {3}};
  std::mt19937 rng(seed);
  for (int i = 0; i < 4; ++i) {
    std::vector<size_t> sizes;
    for (int j = 0; j < 64; ++j) {
      sizes.push_back(std::uniform_int_distribution<size_t>(1, 11)(rng));
    }
    out.push_back(sizes);
  }
  return out;
}

struct Case {
  std::string name;
  std::string input;
  std::vector<std::string> lines;
};

// docs/PROTOCOL.md, "Raw TCP": one JSON object per line, "\n" (a client may send "\r\n"), an
// empty line as keepalive.
const std::vector<Case> kCases = {
    {"one line", "{\"id\":1,\"result\":{}}\n", {"{\"id\":1,\"result\":{}}"}},
    {"two lines", "{\"a\":1}\n{\"b\":2}\n", {"{\"a\":1}", "{\"b\":2}"}},
    {"keepalive: an empty line", "\n{\"a\":1}\n\n", {"", "{\"a\":1}", ""}},
    {"CRLF: the CR is dropped", "{\"a\":1}\r\n\r\n", {"{\"a\":1}", ""}},
    {"a CR inside a line stays", "a\rb\n", {"a\rb"}},
    {"an unfinished line waits", "{\"a\":1}\n{\"b\"", {"{\"a\":1}"}},
    {"UTF-8 passes as it is", "{\"x\":\"\xC3\xA9\"}\n", {"{\"x\":\"\xC3\xA9\"}"}},
};

TEST(LineSplitter, LinesInEveryChunking) {
  for (const Case& c : kCases) {
    for (const auto& chunks : chunkings(3)) {
      Fed f = feed(c.input, chunks);
      EXPECT_TRUE(f.ok) << c.name;
      EXPECT_EQ(f.lines, c.lines) << c.name << " in chunks of " << (chunks.empty() ? 0 : chunks[0]);
    }
  }
}

TEST(LineSplitter, ALineOverTheLimitIsAnErrorWhereverItIsCut) {
  for (const auto& chunks : chunkings(7)) {
    Fed ok = feed(std::string(8, 'a') + "\nb\n", chunks, 8);
    EXPECT_TRUE(ok.ok);
    EXPECT_EQ(ok.lines, (std::vector<std::string>{"aaaaaaaa", "b"}));
    Fed bad = feed("x\n" + std::string(9, 'a') + "\nb\n", chunks, 8);
    EXPECT_FALSE(bad.ok);
    EXPECT_EQ(bad.lines, std::vector<std::string>{"x"});
    Fed unended = feed(std::string(9, 'a'), chunks, 8);  // no newline yet: still too long
    EXPECT_FALSE(unended.ok);
  }
}

TEST(LineSplitter, TheCallbackCanStopTheFeed) {
  LineSplitter splitter(64);
  std::vector<std::string> seen;
  EXPECT_TRUE(splitter.feed("a\nb\nc", [&](std::string_view line) {
    seen.emplace_back(line);
    return false;
  }));
  EXPECT_EQ(seen, std::vector<std::string>{"a"});
  EXPECT_EQ(splitter.buffered(), 0u);
}

TEST(LineSplitter, NothingIsParsedAfterAnError) {
  LineSplitter splitter(2);
  int lines = 0;
  auto count = [&](std::string_view) {
    ++lines;
    return true;
  };
  EXPECT_FALSE(splitter.feed("abc\n", count));
  EXPECT_FALSE(splitter.feed("a\n", count));
  EXPECT_TRUE(splitter.failed());
  EXPECT_EQ(lines, 0);
}

}  // namespace
}  // namespace herald::client
