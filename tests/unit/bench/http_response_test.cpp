#include "http_response.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace herald::bench {
namespace {

struct Parsed {
  int status;
  std::string body;
  bool close;
  bool operator==(const Parsed& o) const {
    return status == o.status && body == o.body && close == o.close;
  }
};

// Feeds input to a growing buffer in the given chunk sizes (0: all at once), taking every
// complete response out of its front as soon as it is there, as ApiClient does.
std::vector<Parsed> feed(const std::string& input, const std::vector<size_t>& chunks,
                         HttpError* error) {
  std::vector<Parsed> out;
  std::string buffer;
  size_t pos = 0;
  size_t k = 0;
  *error = HttpError::kNone;
  while (pos < input.size()) {
    size_t n = chunks.empty() ? input.size() : chunks[k++ % chunks.size()];
    buffer.append(input, pos, n);
    pos += n;
    while (true) {
      HttpResponse r;
      size_t span = parse_http_response(buffer, &r, error);
      if (*error != HttpError::kNone) {
        return out;
      }
      if (span == 0) {
        break;
      }
      out.push_back({r.status, std::string(r.body), r.close});
      buffer.erase(0, span);
    }
  }
  return out;
}

std::vector<std::vector<size_t>> chunkings(uint32_t seed) {
  std::vector<std::vector<size_t>> out = {{}, {1}, {2}, {7}};
  std::mt19937 rng(seed);
  for (int i = 0; i < 3; ++i) {
    std::vector<size_t> sizes;
    for (int j = 0; j < 64; ++j) {
      sizes.push_back(std::uniform_int_distribution<size_t>(1, 13)(rng));
    }
    out.push_back(sizes);
  }
  return out;
}

struct ValidCase {
  std::string name;
  std::string input;
  std::vector<Parsed> responses;
};

// RFC 9112 section 4 (status line) and 6 (body length), as the server API answers.
const std::vector<ValidCase> kValid = {
    {"api reply",
     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n"
     "{\"result\":{\"offset\":1,\"epoch\":\"a4a5ab89ca363761\"}}",
     {{200, "{\"result\":{\"offset\":1,\"epoch\":\"a4a5ab89ca363761\"}}", false}}},
    {"error status",
     "HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\n{}",
     {{400, "{}", false}}},
    {"HTTP/1.0, case-insensitive names, OWS",
     "HTTP/1.0 404 Not Found\r\ncontent-LENGTH:\t 3 \r\nX-Other: a:b\r\n\r\nabc",
     {{404, "abc", false}}},
    {"no reason phrase", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", {{200, "", false}}},
    {"empty reason phrase", "HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\nx", {{200, "x", false}}},
    {"no headers at all", "HTTP/1.1 204 No Content\r\n\r\n", {{204, "", false}}},
    {"304 and 1xx have no body",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
     {{100, "", false}, {304, "", false}}},
    {"the same length twice",
     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nz",
     {{200, "z", false}}},
    {"connection close",
     "HTTP/1.1 503 Busy\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n",
     {{503, "", true}}},
    {"three pipelined",
     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nbb"
     "HTTP/1.1 413 Too Large\r\nContent-Length: 3\r\n\r\nccc",
     {{200, "a", false}, {200, "bb", false}, {413, "ccc", false}}},
};

TEST(HttpResponse, ValidResponsesInEveryChunking) {
  for (const auto& c : kValid) {
    for (const auto& chunks : chunkings(7)) {
      HttpError error;
      EXPECT_EQ(feed(c.input, chunks, &error), c.responses)
          << c.name << " in chunks of " << (chunks.empty() ? 0 : chunks[0]);
      EXPECT_EQ(error, HttpError::kNone) << c.name;
    }
  }
}

TEST(HttpResponse, PartialInputAsksForMore) {
  const std::string full = kValid[0].input;
  for (size_t n = 0; n < full.size(); ++n) {
    HttpResponse r;
    HttpError error;
    EXPECT_EQ(parse_http_response(std::string_view(full).substr(0, n), &r, &error), 0u) << n;
    EXPECT_EQ(error, HttpError::kNone) << n;
  }
  HttpResponse r;
  HttpError error;
  EXPECT_EQ(parse_http_response(full, &r, &error), full.size());
}

struct InvalidCase {
  std::string input;
  HttpError error;
};

TEST(HttpResponse, MalformedResponsesGiveTheirErrorInEveryChunking) {
  const std::vector<InvalidCase> cases = {
      {"HTTP/2 200 OK\r\n\r\n", HttpError::kBadStatusLine},
      {"HTTP/1.1 20 OK\r\n\r\n", HttpError::kBadStatusLine},
      {"HTTP/1.1 2000 OK\r\n\r\n", HttpError::kBadStatusLine},
      {"HTTP/1.1 099 Low\r\n\r\n", HttpError::kBadStatusLine},
      {"HTTP/1.1  200 OK\r\n\r\n", HttpError::kBadStatusLine},
      {"HTTP/1.2 200 OK\r\n\r\n", HttpError::kBadStatusLine},
      {"http/1.1 200 OK\r\n\r\n", HttpError::kBadStatusLine},
      {"ICY 200 OK\r\n\r\n", HttpError::kBadStatusLine},
      {"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", HttpError::kBadHeader},
      {"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", HttpError::kBadHeader},
      {"HTTP/1.1 200 OK\r\nX: a\x01z\r\nContent-Length: 0\r\n\r\n", HttpError::kBadHeader},
      {"HTTP/1.1 200 OK\r\nX: a\nY: b\r\nContent-Length: 0\r\n\r\n", HttpError::kBadHeader},
      {"HTTP/1.1 200 OK\r\n\r\nbody", HttpError::kNoLength},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", HttpError::kBadLength},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", HttpError::kBadLength},
      {"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", HttpError::kBadLength},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", HttpError::kBadLength},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
       HttpError::kBadLength},
      {"HTTP/1.1 200 OK\r\nContent-Length: 67108865\r\n\r\n", HttpError::kBodyTooLarge},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       HttpError::kUnsupportedCoding},
      {"HTTP/1.1 200 OK\r\nX: " + std::string(kMaxResponseHead, 'a') + "\r\n\r\n",
       HttpError::kHeadTooLarge},
  };
  for (const auto& c : cases) {
    for (const auto& chunks : chunkings(11)) {
      HttpError error;
      EXPECT_TRUE(feed(c.input, chunks, &error).empty()) << c.input.substr(0, 60);
      EXPECT_EQ(error, c.error) << c.input.substr(0, 60);
    }
  }
}

TEST(HttpResponse, AGoodResponseBeforeABadOneIsStillDelivered) {
  std::string input = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 xyz\r\n\r\n";
  for (const auto& chunks : chunkings(3)) {
    HttpError error;
    auto out = feed(input, chunks, &error);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], (Parsed{200, "a", false}));
    EXPECT_EQ(error, HttpError::kBadStatusLine);
  }
}

TEST(HttpResponse, EveryErrorHasAName) {
  for (int e = 0; e <= static_cast<int>(HttpError::kUnsupportedCoding); ++e) {
    EXPECT_NE(to_string(static_cast<HttpError>(e)), "?");
  }
}

// The head of herald's event stream (GET /connection/sse): no length, the body runs until the
// connection closes; parse_http_head takes it, parse_http_response does not.
TEST(HttpResponse, StreamHeadsWithoutLength) {
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
      "Cache-Control: no-cache, no-store\r\nConnection: close\r\n"
      "Herald-Session: 0-0123456789abcdef0123456789abcdef\r\n\r\n";
  const std::string input = head + "data: {\"id\":1}\n\n";
  for (size_t n = 0; n < head.size(); ++n) {
    HttpHead h;
    HttpError error;
    EXPECT_EQ(parse_http_head(std::string_view(input).substr(0, n), &h, &error), 0u) << n;
    EXPECT_EQ(error, HttpError::kNone) << n;
  }
  HttpHead h;
  HttpError error;
  ASSERT_EQ(parse_http_head(input, &h, &error), head.size());
  EXPECT_EQ(h.status, 200);
  EXPECT_TRUE(h.close);
  EXPECT_FALSE(h.has_length);
  EXPECT_EQ(find_header(h.headers, "herald-session"), "0-0123456789abcdef0123456789abcdef");
  EXPECT_EQ(find_header(h.headers, "Content-Type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(find_header(h.headers, "Content-Length"), "");
  EXPECT_EQ(find_header(h.headers, "Session"), "");  // a suffix of a name is not the name
  HttpResponse r;
  EXPECT_EQ(parse_http_response(input, &r, &error), 0u);
  EXPECT_EQ(error, HttpError::kNoLength);
}

TEST(HttpResponse, HeadersOfAResponse) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nHerald-Session:\t0-ab \r\n"
      "Content-Length: 12\r\n\r\n{\"cursor\":1}";
  HttpResponse r;
  HttpError error;
  ASSERT_EQ(parse_http_response(input, &r, &error), input.size());
  EXPECT_EQ(find_header(r.headers, "Herald-Session"), "0-ab");
  EXPECT_EQ(find_header(r.headers, "content-length"), "12");
  EXPECT_EQ(r.body, "{\"cursor\":1}");
  const std::string no_content = "HTTP/1.1 204 No Content\r\n\r\n";
  ASSERT_EQ(parse_http_response(no_content, &r, &error), no_content.size());
  EXPECT_EQ(r.headers, "");
  EXPECT_EQ(find_header(r.headers, "Herald-Session"), "");
}

}  // namespace
}  // namespace herald::bench
