#include "http/chunked_decoder.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace herald::http {
namespace {

using Status = ChunkedDecoder::Status;

struct Decoded {
  Status status = Status::kNeedMore;
  ParseError error = ParseError::kNone;
  size_t consumed = 0;  // total bytes used when kDone
  std::string body;
  bool operator==(const Decoded&) const = default;
};

Decoded feed(std::string_view in, const Limits& limits, const std::vector<size_t>& pieces) {
  ChunkedDecoder d(limits);
  Decoded r;
  size_t pos = 0;
  size_t k = 0;
  while (pos < in.size()) {
    size_t n = std::min(k < pieces.size() ? pieces[k++] : in.size(), in.size() - pos);
    size_t used = 0;
    r.status = d.feed(in.substr(pos, n), used, r.body);
    EXPECT_LE(used, n);
    if (r.status == Status::kNeedMore) {
      EXPECT_EQ(used, n);
    }
    pos += used;
    if (r.status != Status::kNeedMore) {
      break;
    }
  }
  r.error = d.error();
  r.consumed = r.status == Status::kDone ? pos : 0;
  return r;
}

Decoded decode_all_ways(std::string_view in, const Limits& limits = Limits{}) {
  Decoded whole = feed(in, limits, {in.size()});
  Decoded bytes = feed(in, limits, std::vector<size_t>(in.size(), 1));
  EXPECT_EQ(whole, bytes) << ::testing::PrintToString(in);
  std::mt19937 rng(static_cast<uint32_t>(in.size()));
  for (int round = 0; round < 8; ++round) {
    std::vector<size_t> pieces;
    for (size_t sum = 0; sum < in.size();) {
      pieces.push_back(std::uniform_int_distribution<size_t>(1, 1 + in.size() / 3)(rng));
      sum += pieces.back();
    }
    EXPECT_EQ(whole, feed(in, limits, pieces)) << ::testing::PrintToString(in);
  }
  return whole;
}

struct Case {
  const char* name;
  std::string in;
  Status status;
  ParseError error;
  std::string body;
};

class Chunked : public ::testing::TestWithParam<Case> {};

TEST_P(Chunked, DecodesTheSameInEveryChunking) {
  const Case& c = GetParam();
  Decoded r = decode_all_ways(c.in);
  EXPECT_EQ(r.status, c.status);
  EXPECT_EQ(r.error, c.error) << describe(r.error);
  if (c.status == Status::kDone) {
    EXPECT_EQ(r.body, c.body);
  }
}

const Case kCases[] = {
    // RFC 9112 7.1 shapes.
    {"OneChunk", "5\r\nhello\r\n0\r\n\r\n", Status::kDone, ParseError::kNone, "hello"},
    {"TwoChunks", "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n", Status::kDone, ParseError::kNone,
     "Wikipedia"},
    {"Empty", "0\r\n\r\n", Status::kDone, ParseError::kNone, ""},
    {"UpperHex", "A\r\n0123456789\r\n0\r\n\r\n", Status::kDone, ParseError::kNone, "0123456789"},
    {"LowerHex", "a\r\n0123456789\r\n0\r\n\r\n", Status::kDone, ParseError::kNone, "0123456789"},
    {"LeadingZeros", "0005\r\nhello\r\n000\r\n\r\n", Status::kDone, ParseError::kNone, "hello"},
    {"Extensions", "5;name=value;flag\r\nhello\r\n0;last\r\n\r\n", Status::kDone, ParseError::kNone,
     "hello"},
    {"ExtensionAfterBws", "5 \t;x=\"q\"\r\nhello\r\n0\r\n\r\n", Status::kDone, ParseError::kNone,
     "hello"},
    {"Trailers", "5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n", Status::kDone,
     ParseError::kNone, "hello"},
    {"BinaryData", std::string("3\r\n\0\r\n\r\n0\r\n\r\n", 13), Status::kDone, ParseError::kNone,
     std::string("\0\r\n", 3)},
    {"Incomplete", "5\r\nhel", Status::kNeedMore, ParseError::kNone, ""},
    {"IncompleteTrailer", "0\r\nX: y\r\n", Status::kNeedMore, ParseError::kNone, ""},
    {"NoDigits", "\r\n", Status::kError, ParseError::kBadChunk, ""},
    {"NotHex", "g\r\n", Status::kError, ParseError::kBadChunk, ""},
    {"NegativeSize", "-5\r\n", Status::kError, ParseError::kBadChunk, ""},
    {"BareLfAfterSize", "5\nhello\r\n0\r\n\r\n", Status::kError, ParseError::kBadChunk, ""},
    {"BareCrAfterSize", "5\rhello", Status::kError, ParseError::kBadChunk, ""},
    {"SpaceWithoutExtension", "5 \r\nhello\r\n", Status::kError, ParseError::kBadChunk, ""},
    {"SpaceInsideSize", "5 5\r\n", Status::kError, ParseError::kBadChunk, ""},
    {"DataTooLong", "5\r\nhelloX\r\n", Status::kError, ParseError::kBadChunk, ""},
    {"DataNoLf", "5\r\nhello\rX", Status::kError, ParseError::kBadChunk, ""},
    {"CtlInExtension", "5;a\x01\r\nhello\r\n0\r\n\r\n", Status::kError, ParseError::kBadChunk, ""},
    {"BareLfInTrailer", "0\r\nX: y\n\r\n", Status::kError, ParseError::kBadChunk, ""},
    {"CtlInTrailer", "0\r\nX: \x01\r\n\r\n", Status::kError, ParseError::kBadChunk, ""},
    {"BareLfEnd", "0\r\n\n", Status::kError, ParseError::kBadChunk, ""},
    {"FinalCrNoLf", "0\r\n\rX", Status::kError, ParseError::kBadChunk, ""},
    // 2^64 needs 17 hex digits: overflow is a 400, not a wrap-around.
    {"SizeOverflow", "10000000000000000\r\n", Status::kError, ParseError::kBadChunk, ""},
    {"SizeMaxUint64", "ffffffffffffffff\r\n", Status::kError, ParseError::kBodyTooLarge, ""},
};

INSTANTIATE_TEST_SUITE_P(Rfc, Chunked, ::testing::ValuesIn(kCases),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(ChunkedDecoder, LeavesTheNextRequestUnconsumed) {
  std::string in = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
  Decoded r = decode_all_ways(in);
  ASSERT_EQ(r.status, Status::kDone);
  EXPECT_EQ(r.consumed, in.find("GET"));
  EXPECT_EQ(r.body, "abc");
}

TEST(ChunkedDecoder, BodyCapAtAndPastLimit) {
  Limits l;
  l.max_body = 10;
  EXPECT_EQ(decode_all_ways("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", l).status, Status::kDone);
  Decoded past = decode_all_ways("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", l);
  EXPECT_EQ(past.error, ParseError::kBodyTooLarge);
  EXPECT_EQ(decode_all_ways("b\r\n", l).error, ParseError::kBodyTooLarge);
}

TEST(ChunkedDecoder, SizeLineBounded) {
  std::string at(ChunkedDecoder::kMaxSizeLine - 3, '0');  // + "5\r\n" is exactly the bound
  EXPECT_EQ(decode_all_ways(at + "5\r\nhello\r\n0\r\n\r\n").status, Status::kDone);
  EXPECT_EQ(decode_all_ways(at + "05\r\nhello\r\n0\r\n\r\n").error, ParseError::kBadChunk);
}

TEST(ChunkedDecoder, TrailerBounded) {
  Limits l;
  l.max_header_line = 16;
  // Trailer section counts its final CRLF: "X: 0123456789\r\n" (15) + "\r\n" would be 17.
  EXPECT_EQ(decode_all_ways("0\r\nX: 012345678\r\n\r\n", l).status, Status::kDone);
  EXPECT_EQ(decode_all_ways("0\r\nX: 0123456789\r\n\r\n", l).error, ParseError::kTrailerTooLarge);
}

TEST(ChunkedDecoder, StickyAndReset) {
  ChunkedDecoder d{Limits{}};
  std::string body;
  size_t used = 0;
  ASSERT_EQ(d.feed("2\r\nhi\r\n0\r\n\r\nrest", used, body), Status::kDone);
  EXPECT_EQ(used, 12u);
  EXPECT_EQ(d.body_size(), 2u);
  EXPECT_EQ(d.feed("more", used, body), Status::kDone);
  EXPECT_EQ(used, 0u);
  d.reset();
  ASSERT_EQ(d.feed("x", used, body), Status::kError);
  EXPECT_EQ(used, 0u);
  EXPECT_EQ(d.feed("0\r\n\r\n", used, body), Status::kError);
  d.reset();
  body.clear();
  EXPECT_EQ(d.feed("1\r\nz\r\n0\r\n\r\n", used, body), Status::kDone);
  EXPECT_EQ(body, "z");
}

}  // namespace
}  // namespace herald::http
