#pragma once
// Test helper: runs RequestParser over one input fed whole, one byte at a time and in random
// chunk sizes, checks that every feeding gives the same outcome, and returns that outcome with
// the request copied out (views would point into the harness's buffers).

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "http/request_parser.h"

namespace herald::http::testing {

struct Outcome {
  RequestParser::Status status = RequestParser::Status::kNeedMore;
  ParseError error = ParseError::kNone;
  size_t head_size = 0;
  Method method = Method::kOther;
  std::string method_text, target, path, query;
  int version_minor = -1;
  std::vector<std::pair<std::string, std::string>> headers;
  bool keep_alive = false, has_content_length = false, chunked = false, upgrade = false;
  uint64_t content_length = 0;

  bool operator==(const Outcome&) const = default;
};

// Feeds `input` in pieces of the given sizes (the last piece takes the rest).
inline Outcome feed(std::string_view input, const Limits& limits,
                    const std::vector<size_t>& pieces) {
  RequestParser parser(limits);
  Request req;
  std::string buf;  // grows and reallocates, as a connection buffer would
  Outcome o;
  size_t pos = 0;
  size_t k = 0;
  for (;;) {
    size_t n = k < pieces.size() ? pieces[k++] : input.size() - pos;
    n = std::min(n, input.size() - pos);
    buf.append(input.substr(pos, n));
    pos += n;
    o.status = parser.parse(buf, req);
    if (o.status != RequestParser::Status::kNeedMore || pos == input.size()) {
      break;
    }
  }
  o.error = parser.error();
  if (o.status == RequestParser::Status::kComplete) {
    o.head_size = req.head_size;
    o.method = req.method;
    o.method_text = req.method_text;
    o.target = req.target;
    o.path = req.path;
    o.query = req.query;
    o.version_minor = req.version_minor;
    for (size_t i = 0; i < req.header_count; ++i) {
      o.headers.emplace_back(req.headers[i].name, req.headers[i].value);
    }
    o.keep_alive = req.keep_alive;
    o.has_content_length = req.has_content_length;
    o.content_length = req.content_length;
    o.chunked = req.chunked;
    o.upgrade = req.connection_upgrade;
  }
  return o;
}

// Whole, byte by byte, and several random chunkings; all must agree.
inline Outcome parse_all_ways(std::string_view input, const Limits& limits = Limits{}) {
  Outcome whole = feed(input, limits, {input.size()});
  Outcome bytes = feed(input, limits, std::vector<size_t>(input.size(), 1));
  EXPECT_EQ(whole, bytes) << "byte-at-a-time differs for: " << ::testing::PrintToString(input);
  std::mt19937 rng(static_cast<uint32_t>(input.size()) * 2654435761u);
  for (int round = 0; round < 8; ++round) {
    std::vector<size_t> pieces;
    for (size_t sum = 0; sum < input.size();) {
      size_t n = std::uniform_int_distribution<size_t>(1, 1 + input.size() / 3)(rng);
      pieces.push_back(n);
      sum += n;
    }
    Outcome random = feed(input, limits, pieces);
    EXPECT_EQ(whole, random) << "random chunking differs for: " << ::testing::PrintToString(input);
  }
  return whole;
}

}  // namespace herald::http::testing
