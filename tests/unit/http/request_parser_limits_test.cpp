#include <string>

#include "gtest/gtest.h"
#include "http/request_parser.h"
#include "parse_harness.h"

// Every limit exactly at its boundary (accepted) and one byte past it (rejected), fed whole, byte
// by byte and in random chunks; and limits that must fire before the head is complete.

namespace herald::http {
namespace {

using testing::Outcome;
using testing::parse_all_ways;
using Status = RequestParser::Status;

Limits small() {
  Limits l;
  l.max_head_bytes = 256;
  l.max_headers = 4;
  l.max_request_line = 32;
  l.max_header_line = 40;
  l.max_body = 100;
  return l;
}

// "GET /aaa... HTTP/1.1\r\n" is 16 + n bytes including CRLF.
std::string request_line(size_t total) {
  return "GET /" + std::string(total - 16, 'a') + " HTTP/1.1\r\n";
}

TEST(RequestParserLimits, RequestLineAtAndPastLimit) {
  std::string at = request_line(32) + "Host: a\r\n\r\n";
  std::string past = request_line(33) + "Host: a\r\n\r\n";
  EXPECT_EQ(parse_all_ways(at, small()).status, Status::kComplete);
  EXPECT_EQ(parse_all_ways(past, small()).error, ParseError::kUriTooLong);
}

TEST(RequestParserLimits, RequestLineLimitFiresBeforeLineEnds) {
  std::string no_lf = "GET /" + std::string(26, 'a');  // 31 bytes, could still end in time
  EXPECT_EQ(parse_all_ways(no_lf, small()).status, Status::kNeedMore);
  no_lf += 'a';  // 32 bytes and no LF: the line must be longer than 32
  EXPECT_EQ(parse_all_ways(no_lf, small()).error, ParseError::kUriTooLong);
}

TEST(RequestParserLimits, HeaderLineAtAndPastLimit) {
  // "X: " + value + "\r\n" is 5 + n bytes.
  std::string at = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(35, 'v') + "\r\n\r\n";
  std::string past = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(36, 'v') + "\r\n\r\n";
  EXPECT_EQ(parse_all_ways(at, small()).status, Status::kComplete);
  EXPECT_EQ(parse_all_ways(past, small()).error, ParseError::kHeaderLineTooLong);
  // 40 bytes of a field line without its LF: it must end up longer than 40.
  std::string no_lf = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(37, 'v');
  EXPECT_EQ(parse_all_ways(no_lf, small()).error, ParseError::kHeaderLineTooLong);
  no_lf.pop_back();
  EXPECT_EQ(parse_all_ways(no_lf, small()).status, Status::kNeedMore);
}

TEST(RequestParserLimits, HeadAtAndPastLimit) {
  Limits l;
  l.max_head_bytes = 100;
  // 16 + 9 + (5 + n) + 2 = 32 + n bytes.
  std::string at = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(68, 'v') + "\r\n\r\n";
  std::string past = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(69, 'v') + "\r\n\r\n";
  ASSERT_EQ(at.size(), 100u);
  Outcome o = parse_all_ways(at, l);
  EXPECT_EQ(o.status, Status::kComplete);
  EXPECT_EQ(o.head_size, 100u);
  EXPECT_EQ(parse_all_ways(past, l).error, ParseError::kHeadTooLarge);
  // Incomplete: 99 bytes may still finish in time, 100 bytes without the blank line cannot.
  EXPECT_EQ(parse_all_ways(at.substr(0, 99), l).status, Status::kNeedMore);
  EXPECT_EQ(parse_all_ways(past.substr(0, 100), l).error, ParseError::kHeadTooLarge);
}

TEST(RequestParserLimits, HeadLimitCountsLeadingEmptyLines) {
  Limits l;
  l.max_head_bytes = 64;
  std::string crlfs;
  for (int i = 0; i < 31; ++i) {
    crlfs += "\r\n";
  }
  EXPECT_EQ(parse_all_ways(crlfs, l).status, Status::kNeedMore);  // 62 bytes
  EXPECT_EQ(parse_all_ways(crlfs + "\r\n", l).error, ParseError::kHeadTooLarge);
}

TEST(RequestParserLimits, TooManyHeaders) {
  std::string at = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  std::string past = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
  EXPECT_EQ(parse_all_ways(at, small()).status, Status::kComplete);
  EXPECT_EQ(parse_all_ways(past, small()).error, ParseError::kTooManyHeaders);
}

TEST(RequestParserLimits, MaxHeadersClampedToHardLimit) {
  Limits l;
  l.max_headers = 1000;
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (size_t i = 1; i < kMaxHeadersHard; ++i) {
    head += "X: " + std::to_string(i) + "\r\n";
  }
  EXPECT_EQ(parse_all_ways(head + "\r\n", l).status, Status::kComplete);
  EXPECT_EQ(parse_all_ways(head + "Y: z\r\n\r\n", l).error, ParseError::kTooManyHeaders);
}

TEST(RequestParserLimits, ContentLengthAtAndPastMaxBody) {
  EXPECT_EQ(
      parse_all_ways("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n", small()).status,
      Status::kComplete);
  EXPECT_EQ(
      parse_all_ways("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n", small()).error,
      ParseError::kBodyTooLarge);
}

TEST(RequestParserLimits, SlowlorisNeverBuffersPastTheHeadLimit) {
  // One byte at a time, an endless header section must be cut at exactly max_head_bytes.
  Limits l;  // defaults
  RequestParser parser(l);
  Request req;
  std::string buf = "GET / HTTP/1.1\r\nHost: a\r\n";
  const std::string line = "X-Pad: " + std::string(90, 'p') + "\r\n";
  RequestParser::Status status = RequestParser::Status::kNeedMore;
  for (size_t i = 0; status == RequestParser::Status::kNeedMore && buf.size() < 1'000'000; ++i) {
    buf.push_back(line[i % line.size()]);
    status = parser.parse(buf, req);
  }
  // 64 lines of ~100 bytes would pass 16 KiB only after the header count, so count comes first.
  EXPECT_EQ(status, RequestParser::Status::kError);
  EXPECT_EQ(parser.error(), ParseError::kTooManyHeaders);

  l.max_headers = kMaxHeadersHard;
  l.max_head_bytes = 4096;
  RequestParser p2(l);
  buf = "GET / HTTP/1.1\r\nHost: a\r\n";
  status = RequestParser::Status::kNeedMore;
  for (size_t i = 0; status == RequestParser::Status::kNeedMore && buf.size() < 1'000'000; ++i) {
    buf.push_back(line[i % line.size()]);
    status = p2.parse(buf, req);
  }
  EXPECT_EQ(p2.error(), ParseError::kHeadTooLarge);
  EXPECT_EQ(buf.size(), 4096u);
}

}  // namespace
}  // namespace herald::http
