#include "http/request_parser.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "parse_harness.h"

namespace herald::http {
namespace {

using testing::Outcome;
using testing::parse_all_ways;
using Status = RequestParser::Status;

// A string literal with embedded NULs kept.
template <size_t N>
std::string lit(const char (&s)[N]) {
  return std::string(s, N - 1);
}

struct ValidCase {
  const char* name;
  std::string input;
  Method method;
  std::string path;
  std::string query;
  int version_minor;
  bool keep_alive;
};

class ValidRequest : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidRequest, ParsesTheSameInEveryChunking) {
  const ValidCase& c = GetParam();
  Outcome o = parse_all_ways(c.input);
  ASSERT_EQ(o.status, Status::kComplete) << describe(o.error);
  EXPECT_EQ(o.error, ParseError::kNone);
  EXPECT_EQ(o.method, c.method);
  EXPECT_EQ(o.path, c.path);
  EXPECT_EQ(o.query, c.query);
  EXPECT_EQ(o.version_minor, c.version_minor);
  EXPECT_EQ(o.keep_alive, c.keep_alive);
  EXPECT_EQ(o.head_size, c.input.size());
}

const ValidCase kValid[] = {
    {"Minimal", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", Method::kGet, "/", "", 1, true},
    // RFC 9112 section 3 / RFC 9110 example request.
    {"Rfc9112Example",
     "GET /hello.txt HTTP/1.1\r\nUser-Agent: curl/7.64.1\r\nHost: www.example.com\r\n"
     "Accept-Language: en, mi\r\n\r\n",
     Method::kGet, "/hello.txt", "", 1, true},
    // RFC 9112 3.2.1 origin-form with a query.
    {"OriginFormQuery", "GET /where?q=now HTTP/1.1\r\nHost: www.example.org\r\n\r\n", Method::kGet,
     "/where", "q=now", 1, true},
    {"EmptyQuery", "GET /a? HTTP/1.1\r\nHost: h\r\n\r\n", Method::kGet, "/a", "", 1, true},
    // RFC 9112 3.2.2 absolute-form.
    {"AbsoluteForm",
     "GET http://www.example.org/pub/WWW/TheProject.html HTTP/1.1\r\nHost: www.example.org\r\n\r\n",
     Method::kGet, "/pub/WWW/TheProject.html", "", 1, true},
    {"AbsoluteFormNoPath", "GET http://www.example.org HTTP/1.1\r\nHost: h\r\n\r\n", Method::kGet,
     "/", "", 1, true},
    {"AbsoluteFormQueryNoPath", "GET https://h:8443?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", Method::kGet,
     "/", "x=1", 1, true},
    // RFC 9112 3.2.4 asterisk-form.
    {"AsteriskForm", "OPTIONS * HTTP/1.1\r\nHost: www.example.org:8001\r\n\r\n", Method::kOptions,
     "*", "", 1, true},
    {"Http10NoHost", "GET / HTTP/1.0\r\n\r\n", Method::kGet, "/", "", 0, false},
    {"Http10KeepAlive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", Method::kGet, "/", "",
     0, true},
    {"Http10KeepAliveAndClose", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
     Method::kGet, "/", "", 0, false},
    {"Http11Close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", Method::kGet, "/", "",
     1, false},
    {"BareLfTolerated", "GET / HTTP/1.1\nHost: a\n\n", Method::kGet, "/", "", 1, true},
    {"MixedLineEnds", "GET / HTTP/1.1\r\nHost: a\n\r\n", Method::kGet, "/", "", 1, true},
    {"LeadingEmptyLines", "\r\n\r\nPOST /api/publish HTTP/1.1\r\nHost: a\r\n\r\n", Method::kPost,
     "/api/publish", "", 1, true},
    {"Head", "HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n", Method::kHead, "/x", "", 1, true},
    {"Put", "PUT /x HTTP/1.1\r\nHost: a\r\n\r\n", Method::kPut, "/x", "", 1, true},
    {"Delete", "DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n", Method::kDelete, "/x", "", 1, true},
    {"Patch", "PATCH /x HTTP/1.1\r\nHost: a\r\n\r\n", Method::kPatch, "/x", "", 1, true},
    {"ExtensionMethod", "PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n", Method::kOther, "/x", "", 1, true},
    {"MethodsAreCaseSensitive", "get /x HTTP/1.1\r\nHost: a\r\n\r\n", Method::kOther, "/x", "", 1,
     true},
    {"ObsTextInValue", "GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9\r\n\r\n", Method::kGet,
     "/", "", 1, true},
    {"EmptyValue", "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n", Method::kGet, "/", "", 1, true},
    {"EmptyHostAllowed", "GET / HTTP/1.1\r\nHost:\r\n\r\n", Method::kGet, "/", "", 1, true},
    {"Ipv6Host", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", Method::kGet, "/", "", 1, true},
    {"SameContentLengthTwice",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", Method::kPost,
     "/", "", 1, true},
};

INSTANTIATE_TEST_SUITE_P(Rfc, ValidRequest, ::testing::ValuesIn(kValid),
                         [](const auto& p) { return std::string(p.param.name); });

struct InvalidCase {
  const char* name;
  std::string input;
  ParseError error;
};

class InvalidRequest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidRequest, FailsTheSameInEveryChunking) {
  const InvalidCase& c = GetParam();
  Outcome o = parse_all_ways(c.input);
  EXPECT_EQ(o.status, Status::kError);
  EXPECT_EQ(o.error, c.error) << "got " << describe(o.error);
}

#define H11 " HTTP/1.1\r\nHost: a\r\n"
const InvalidCase kInvalid[] = {
    {"DoubleSpace", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::kBadRequest},
    {"NoVersion", "GET /\r\nHost: a\r\n\r\n", ParseError::kBadRequest},
    {"OnlyMethod", "GET\r\n\r\n", ParseError::kBadRequest},
    {"LeadingSpace", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::kBadRequest},
    {"TrailingSpace", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", ParseError::kBadRequest},
    {"ExtraWord", "GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", ParseError::kBadRequest},
    {"BadMethodChar", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::kBadRequest},
    {"LowercaseVersion", "GET / http/1.1\r\nHost: a\r\n\r\n", ParseError::kBadRequest},
    {"TwoDigitMinor", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", ParseError::kBadRequest},
    {"NoDot", "GET / HTTP/11\r\nHost: a\r\n\r\n", ParseError::kBadRequest},
    {"Http2Preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ParseError::kVersionNotSupported},
    {"Http12", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", ParseError::kVersionNotSupported},
    {"Http09", "GET / HTTP/0.9\r\n\r\n", ParseError::kVersionNotSupported},
    {"Http31", "GET / HTTP/3.1\r\n\r\n", ParseError::kVersionNotSupported},
    {"RelativeTarget", "GET foo" H11 "\r\n", ParseError::kBadTarget},
    {"AsteriskNotOptions", "GET *" H11 "\r\n", ParseError::kBadTarget},
    {"Fragment", "GET /a#b" H11 "\r\n", ParseError::kBadTarget},
    {"DelInTarget", "GET /a\x7f" H11 "\r\n", ParseError::kBadTarget},
    {"NonAsciiTarget", "GET /caf\xc3\xa9" H11 "\r\n", ParseError::kBadTarget},
    {"AuthorityForm", "CONNECT example.com:443" H11 "\r\n", ParseError::kBadTarget},
    {"SchemeWithoutSlashes", "GET http:x" H11 "\r\n", ParseError::kBadTarget},
    {"AbsoluteNoHost", "GET http:///x" H11 "\r\n", ParseError::kBadTarget},
    {"SchemeStartsWithDigit", "GET 1ttp://h/" H11 "\r\n", ParseError::kBadTarget},
    {"NulInTarget", lit("GET /a\0b" H11 "\r\n"), ParseError::kBadTarget},
    {"NoColon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", ParseError::kBadHeader},
    {"EmptyName", "GET / HTTP/1.1\r\n: a\r\n\r\n", ParseError::kBadHeader},
    {"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", ParseError::kBadHeader},
    {"SpaceInName", "GET / HTTP/1.1\r\nHo st: a\r\n\r\n", ParseError::kBadHeader},
    {"CtlInValue", "GET /" H11 "X: a\x01z\r\n\r\n", ParseError::kBadHeader},
    {"NulInValue", lit("GET /" H11 "X: a\0z\r\n\r\n"), ParseError::kBadHeader},
    {"DelInValue", "GET /" H11 "X: a\x7f\r\n\r\n", ParseError::kBadHeader},
    {"ObsFold", "GET /" H11 "X: a\r\n  b\r\n\r\n", ParseError::kObsFold},
    {"TabFold", "GET /" H11 "X: a\r\n\tb\r\n\r\n", ParseError::kObsFold},
    {"WhitespaceAfterRequestLine", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", ParseError::kObsFold},
    {"BareCrInRequestLine", "GET / HTTP/1.1\rHost: a\r\n\r\n", ParseError::kBadLineEnding},
    {"BareCrInValue", "GET /" H11 "X: a\rb\r\n\r\n", ParseError::kBadLineEnding},
    {"CrCrLf", "GET /" H11 "\r\r\n", ParseError::kBadLineEnding},
    {"LeadingBareCr", "\r\r\nGET /" H11 "\r\n", ParseError::kBadLineEnding},
    {"ContentLengthLetters", "POST /" H11 "Content-Length: abc\r\n\r\n",
     ParseError::kBadContentLength},
    {"ContentLengthNegative", "POST /" H11 "Content-Length: -1\r\n\r\n",
     ParseError::kBadContentLength},
    {"ContentLengthPlus", "POST /" H11 "Content-Length: +1\r\n\r\n", ParseError::kBadContentLength},
    {"ContentLengthEmpty", "POST /" H11 "Content-Length:\r\n\r\n", ParseError::kBadContentLength},
    {"ContentLengthList", "POST /" H11 "Content-Length: 5, 5\r\n\r\n",
     ParseError::kBadContentLength},
    {"ContentLengthInnerSpace", "POST /" H11 "Content-Length: 1 2\r\n\r\n",
     ParseError::kBadContentLength},
    {"ContentLengthOverflow", "POST /" H11 "Content-Length: 18446744073709551616\r\n\r\n",
     ParseError::kBadContentLength},
    {"ContentLengthDiffers", "POST /" H11 "Content-Length: 1\r\nContent-Length: 2\r\n\r\n",
     ParseError::kBadContentLength},
    {"ContentLengthHuge", "POST /" H11 "Content-Length: 18446744073709551615\r\n\r\n",
     ParseError::kBodyTooLarge},
    {"ChunkedTwice", "POST /" H11 "Transfer-Encoding: chunked, chunked\r\n\r\n",
     ParseError::kBadTransferEncoding},
    {"ChunkedTwiceOverLines",
     "POST /" H11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
     ParseError::kBadTransferEncoding},
    {"ChunkedNotLast", "POST /" H11 "Transfer-Encoding: chunked, gzip\r\n\r\n",
     ParseError::kBadTransferEncoding},
    {"OnlyGzip", "POST /" H11 "Transfer-Encoding: gzip\r\n\r\n", ParseError::kBadTransferEncoding},
    {"EmptyTransferEncoding", "POST /" H11 "Transfer-Encoding:\r\n\r\n",
     ParseError::kBadTransferEncoding},
    {"CommasOnly", "POST /" H11 "Transfer-Encoding: , ,\r\n\r\n", ParseError::kBadTransferEncoding},
    {"ChunkedWithParameter", "POST /" H11 "Transfer-Encoding: chunked;q=1\r\n\r\n",
     ParseError::kBadTransferEncoding},
    {"BadCodingToken", "POST /" H11 "Transfer-Encoding: chu\"nked\r\n\r\n",
     ParseError::kBadTransferEncoding},
    {"TransferEncodingInHttp10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
     ParseError::kBadTransferEncoding},
    {"GzipThenChunked", "POST /" H11 "Transfer-Encoding: gzip, chunked\r\n\r\n",
     ParseError::kUnsupportedTransferEncoding},
    {"GzipThenChunkedOverLines",
     "POST /" H11 "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
     ParseError::kUnsupportedTransferEncoding},
    {"TransferEncodingAndContentLength",
     "POST /" H11 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
     ParseError::kLengthConflict},
    {"ContentLengthAndTransferEncoding",
     "POST /" H11 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
     ParseError::kLengthConflict},
    {"MissingHost", "GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n", ParseError::kMissingHost},
    {"TwoHosts", "GET /" H11 "Host: b\r\n\r\n", ParseError::kBadHost},
    {"HostWithSpace", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", ParseError::kBadHost},
    {"HostWithSlash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", ParseError::kBadHost},
    {"TlsClientHello", lit("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n"),
     ParseError::kBadRequest},
};
#undef H11

INSTANTIATE_TEST_SUITE_P(Rfc, InvalidRequest, ::testing::ValuesIn(kInvalid),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(RequestParser, HeadersAndDerivedFields) {
  Outcome o = parse_all_ways(
      "GET /connection/websocket?token=abc HTTP/1.1\r\n"
      "Host: localhost:8000\r\n"
      "Upgrade: websocket\r\n"
      "Connection: keep-alive, Upgrade\r\n"
      "Sec-WebSocket-Key:  dGhlIHNhbXBsZSBub25jZQ== \t\r\n"
      "\r\n");
  ASSERT_EQ(o.status, Status::kComplete);
  ASSERT_EQ(o.headers.size(), 4u);
  EXPECT_EQ(o.headers[0], (std::pair<std::string, std::string>("Host", "localhost:8000")));
  EXPECT_EQ(o.headers[3].second, "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(o.target, "/connection/websocket?token=abc");
  EXPECT_EQ(o.method_text, "GET");
  EXPECT_TRUE(o.upgrade);
  EXPECT_TRUE(o.keep_alive);
  EXPECT_FALSE(o.chunked);
  EXPECT_FALSE(o.has_content_length);
}

TEST(RequestParser, ContentLengthAndChunkedFlags) {
  Outcome cl = parse_all_ways("POST /p HTTP/1.1\r\nHost: a\r\ncontent-length: 0042\r\n\r\n");
  ASSERT_EQ(cl.status, Status::kComplete);
  EXPECT_TRUE(cl.has_content_length);
  EXPECT_EQ(cl.content_length, 42u);
  EXPECT_FALSE(cl.chunked);

  Outcome te = parse_all_ways("POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n");
  ASSERT_EQ(te.status, Status::kComplete);
  EXPECT_TRUE(te.chunked);
  EXPECT_FALSE(te.has_content_length);

  Outcome te_ows =
      parse_all_ways("POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,  chunked ,\r\n\r\n");
  ASSERT_EQ(te_ows.status, Status::kComplete);
  EXPECT_TRUE(te_ows.chunked);
}

TEST(RequestParser, BareLfRejectedWhenNotAllowed) {
  Limits strict;
  strict.allow_bare_lf = false;
  EXPECT_EQ(parse_all_ways("GET / HTTP/1.1\nHost: a\n\n", strict).error,
            ParseError::kBadLineEnding);
  EXPECT_EQ(parse_all_ways("GET / HTTP/1.1\r\nHost: a\n\r\n", strict).error,
            ParseError::kBadLineEnding);
  EXPECT_EQ(parse_all_ways("GET / HTTP/1.1\r\nHost: a\r\n\r\n", strict).status, Status::kComplete);
}

TEST(RequestParser, IncompleteInputNeedsMore) {
  const std::string full = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  for (size_t n = 0; n < full.size(); ++n) {
    Outcome o = parse_all_ways(full.substr(0, n));
    EXPECT_EQ(o.status, Status::kNeedMore) << n;
    EXPECT_EQ(o.error, ParseError::kNone);
  }
}

TEST(RequestParser, PipelinedRequests) {
  const std::string buf =
      "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
      "GET /b?x=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
      "GET /c HTTP/1.1\r\n";
  RequestParser parser{Limits{}};
  Request req;
  ASSERT_EQ(parser.parse(buf, req), Status::kComplete);
  EXPECT_EQ(req.path, "/a");
  EXPECT_EQ(req.content_length, 5u);
  size_t next = req.head_size + req.content_length;
  EXPECT_EQ(buf.substr(req.head_size, 5), "hello");
  // Sticky until reset.
  ASSERT_EQ(parser.parse(buf, req), Status::kComplete);
  EXPECT_EQ(req.path, "/a");

  parser.reset();
  std::string_view rest = std::string_view(buf).substr(next);
  ASSERT_EQ(parser.parse(rest, req), Status::kComplete);
  EXPECT_EQ(req.path, "/b");
  EXPECT_EQ(req.query, "x=1");
  EXPECT_FALSE(req.keep_alive);
  EXPECT_EQ(req.header_count, 2u);

  parser.reset();
  rest = rest.substr(req.head_size);
  EXPECT_EQ(parser.parse(rest, req), Status::kNeedMore);
}

TEST(RequestParser, ViewsPointIntoInput) {
  const std::string buf = "GET /x?y HTTP/1.1\r\nHost: h\r\n\r\nBODY";
  RequestParser parser{Limits{}};
  Request req;
  ASSERT_EQ(parser.parse(buf, req), Status::kComplete);
  auto inside = [&](std::string_view v) {
    return v.data() >= buf.data() && v.data() + v.size() <= buf.data() + req.head_size;
  };
  EXPECT_TRUE(inside(req.method_text));
  EXPECT_TRUE(inside(req.target));
  EXPECT_TRUE(inside(req.path));
  EXPECT_TRUE(inside(req.headers[0].name));
  EXPECT_TRUE(inside(req.headers[0].value));
  EXPECT_EQ(req.header("HOST"), "h");
}

TEST(RequestParser, ErrorIsStickyUntilReset) {
  RequestParser parser{Limits{}};
  Request req;
  std::string buf = "GET / HTTP/9.9\r\n";
  ASSERT_EQ(parser.parse(buf, req), Status::kError);
  buf += "Host: a\r\n\r\n";
  EXPECT_EQ(parser.parse(buf, req), Status::kError);
  EXPECT_EQ(parser.error(), ParseError::kVersionNotSupported);
  parser.reset();
  EXPECT_EQ(parser.error(), ParseError::kNone);
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", req), Status::kComplete);
}

TEST(ParseError, StatusAndDescriptionForEveryValue) {
  const std::pair<ParseError, int> kStatus[] = {
      {ParseError::kNone, 200},
      {ParseError::kBadRequest, 400},
      {ParseError::kBadTarget, 400},
      {ParseError::kBadHeader, 400},
      {ParseError::kObsFold, 400},
      {ParseError::kBadLineEnding, 400},
      {ParseError::kUriTooLong, 414},
      {ParseError::kHeadTooLarge, 431},
      {ParseError::kTooManyHeaders, 431},
      {ParseError::kHeaderLineTooLong, 431},
      {ParseError::kVersionNotSupported, 505},
      {ParseError::kBodyTooLarge, 413},
      {ParseError::kBadContentLength, 400},
      {ParseError::kBadTransferEncoding, 400},
      {ParseError::kUnsupportedTransferEncoding, 501},
      {ParseError::kLengthConflict, 400},
      {ParseError::kMissingHost, 400},
      {ParseError::kBadHost, 400},
      {ParseError::kBadChunk, 400},
      {ParseError::kTrailerTooLarge, 431},
  };
  for (const auto& [error, status] : kStatus) {
    EXPECT_EQ(status_for(error), status) << describe(error);
    EXPECT_FALSE(describe(error).empty());
    EXPECT_EQ(describe(error).find('"'), std::string_view::npos);  // safe inside JSON
  }
}

}  // namespace
}  // namespace herald::http
