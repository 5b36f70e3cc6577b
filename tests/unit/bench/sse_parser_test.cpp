#include "sse_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace herald::bench {
namespace {

struct Event {
  std::string type;
  std::string data;
  std::string id;
  bool operator==(const Event& o) const { return type == o.type && data == o.data && id == o.id; }
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << "{type=" << e.type << " data=" << e.data << " id=" << e.id << "}";
}

struct Fed {
  std::vector<Event> events;
  SseError error = SseError::kNone;
  uint64_t comments = 0;
  uint64_t retry = 0;
};

// Feeds input in pieces of the given sizes (empty: whole), collecting every event.
Fed feed(const std::string& input, const std::vector<size_t>& chunks, size_t max = 1024) {
  SseParser parser(max);
  Fed out;
  size_t pos = 0;
  size_t k = 0;
  while (pos < input.size()) {
    size_t n =
        chunks.empty() ? input.size() : std::min(chunks[k++ % chunks.size()], input.size() - pos);
    bool ok = parser.feed(std::string_view(input).substr(pos, n), [&](const SseEvent& e) {
      out.events.push_back({std::string(e.type), std::string(e.data), std::string(e.id)});
      return true;
    });
    pos += n;
    if (!ok) {
      break;
    }
  }
  out.error = parser.error();
  out.comments = parser.comments();
  out.retry = parser.retry_ms();
  return out;
}

std::vector<std::vector<size_t>> chunkings(uint32_t seed) {
  std::vector<std::vector<size_t>> out = {{}, {1}, {2}, {3}, {5}};
  std::mt19937 rng(seed);
  for (int i = 0; i < 4; ++i) {
    std::vector<size_t> sizes;
    for (int j = 0; j < 64; ++j) {
      sizes.push_back(std::uniform_int_distribution<size_t>(1, 17)(rng));
    }
    out.push_back(sizes);
  }
  return out;
}

struct Case {
  std::string name;
  std::string input;
  std::vector<Event> events;
};

// The examples of the HTML standard's section 9.2.6 ("Interpreting an event stream") and what
// herald's /connection/sse sends (a bidirectional stream: one event per send, a data line per
// protocol line; a comment as keepalive).
const std::vector<Case> kCases = {
    {"one data line", "data: hello\n\n", {{"", "hello", ""}}},
    {"herald batch: one data line per protocol line",
     "data: {\"id\":1,\"result\":{}}\ndata: {\"id\":2,\"result\":{}}\n\n",
     {{"", "{\"id\":1,\"result\":{}}\n{\"id\":2,\"result\":{}}", ""}}},
    {"keepalive comment between events",
     "data: a\n\n:\n\ndata: b\n\n",
     {{"", "a", ""}, {"", "b", ""}}},
    {"standard: YHOO stock ticker",
     "data: YHOO\ndata: +2\ndata: 10\n\n",
     {{"", "YHOO\n+2\n10", ""}}},
    {"standard: comment, ids that carry over",
     ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n",
     {{"", "first event", "1"}, {"", "second event", ""}, {"", " third event", ""}}},
    {"standard: empty data fields", "data\n\ndata\ndata\n\ndata:", {{"", "", ""}, {"", "\n", ""}}},
    {"standard: one space after the colon is dropped",
     "data:test\n\ndata: test\n\n",
     {{"", "test", ""}, {"", "test", ""}}},
    {"event type, reset after dispatch",
     "event: herald\ndata: x\n\ndata: y\n\n",
     {{"herald", "x", ""}, {"", "y", ""}}},
    {"an event without data is not dispatched and forgets its type",
     "event: a\nid: 7\n\ndata: z\n\n",
     {{"", "z", "7"}}},
    {"CRLF line ends", "data: a\r\ndata: b\r\n\r\n", {{"", "a\nb", ""}}},
    {"CR line ends", "data: a\rdata: b\r\r", {{"", "a\nb", ""}}},
    {"mixed line ends", "data: a\r\n\rdata: b\n\r\n", {{"", "a", ""}, {"", "b", ""}}},
    {"unknown fields and a line without a colon are ignored",
     "foo: bar\nretry: x\nwhatever\ndata: ok\n\n",
     {{"", "ok", ""}}},
    {"an id with NUL is ignored",
     std::string("id: 5\ndata: a\n\nid: 6\0\ndata: b\n\n", 31),
     {{"", "a", "5"}, {"", "b", "5"}}},
    {"unidirectional herald: id with position",
     "id: 3:8781aaf7c7344f80\ndata: {\"push\":1}\n\n",
     {{"", "{\"push\":1}", "3:8781aaf7c7344f80"}}},
    {"a byte order mark at the start",
     "\xEF\xBB\xBF"
     "data: bom\n\n",
     {{"", "bom", ""}}},
    {"a byte order mark later is data",
     "data: a\n\n\xEF\xBB\xBF"
     "data: b\n\n",
     {{"", "a", ""}}},
    {"an unfinished event at the end is not dispatched", "data: a\n\ndata: b\n", {{"", "a", ""}}},
    {"UTF-8 data passes as it is",
     "data: h\xC3\xA9llo \xE2\x82\xAC\n\n",
     {{"", "h\xC3\xA9llo \xE2\x82\xAC", ""}}},
};

TEST(SseParser, StandardAndHeraldStreamsInEveryChunking) {
  for (const Case& c : kCases) {
    for (const auto& chunks : chunkings(5)) {
      Fed f = feed(c.input, chunks);
      EXPECT_EQ(f.error, SseError::kNone) << c.name;
      EXPECT_EQ(f.events, c.events)
          << c.name << " in chunks of " << (chunks.empty() ? 0 : chunks[0]);
    }
  }
}

TEST(SseParser, CommentsAndRetryAreCounted) {
  for (const auto& chunks : chunkings(9)) {
    Fed f = feed(":\n: keepalive\nretry: 1000\ndata: x\n\nretry: 25x\n", chunks);
    EXPECT_EQ(f.comments, 2u);
    EXPECT_EQ(f.retry, 1000u);
    EXPECT_EQ(f.events.size(), 1u);
  }
}

TEST(SseParser, ALineOverTheLimitIsAnErrorWhereverItIsCut) {
  // max 16: "data: " + 10 bytes is a 16-byte line (allowed), one more byte is not.
  for (const auto& chunks : chunkings(13)) {
    Fed ok = feed("data: 0123456789\n\n", chunks, 16);
    EXPECT_EQ(ok.error, SseError::kNone);
    ASSERT_EQ(ok.events.size(), 1u);
    Fed bad = feed("data: 0123456789A\n\ndata: never\n\n", chunks, 16);
    EXPECT_TRUE(bad.events.empty());
    EXPECT_EQ(bad.error, SseError::kLineTooLong) << (chunks.empty() ? 0 : chunks[0]);
  }
}

TEST(SseParser, AnEventOverTheLimitIsAnError) {
  // Each line fits; together (with their '\n's) they pass 16 bytes of data.
  for (const auto& chunks : chunkings(17)) {
    Fed f = feed("data: 0123456\ndata: 0123456\ndata: 0\n\n", chunks, 16);
    EXPECT_EQ(f.error, SseError::kEventTooLarge);
    EXPECT_TRUE(f.events.empty());
    Fed fits = feed("data: 0123456\ndata: 0123456\n\n", chunks, 16);
    EXPECT_EQ(fits.error, SseError::kNone);
    EXPECT_EQ(fits.events.size(), 1u);
  }
}

TEST(SseParser, NothingIsParsedAfterAnError) {
  SseParser parser(8);
  int events = 0;
  auto count = [&](const SseEvent&) {
    ++events;
    return true;
  };
  EXPECT_FALSE(parser.feed("data: 0123456789\n\n", count));
  EXPECT_FALSE(parser.feed("data: a\n\n", count));
  EXPECT_EQ(events, 0);
  EXPECT_EQ(parser.error(), SseError::kLineTooLong);
}

TEST(SseParser, TheCallbackCanStopTheFeed) {
  SseParser parser;
  std::vector<std::string> seen;
  EXPECT_TRUE(parser.feed("data: a\n\ndata: b\n\n", [&](const SseEvent& e) {
    seen.emplace_back(e.data);
    return false;
  }));
  EXPECT_EQ(seen, std::vector<std::string>{"a"});
}

TEST(SseParser, EveryErrorHasAName) {
  for (int e = 0; e <= static_cast<int>(SseError::kEventTooLarge); ++e) {
    EXPECT_NE(to_string(static_cast<SseError>(e)), "?");
  }
}

}  // namespace
}  // namespace herald::bench
