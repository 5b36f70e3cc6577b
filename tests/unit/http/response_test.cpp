#include "http/response.h"

#include <string>

#include "gtest/gtest.h"
#include "http/chunked_decoder.h"
#include "http/request_parser.h"

namespace herald::http {
namespace {

TEST(Response, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(101), "Switching Protocols");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(299), "Unknown");
}

TEST(Response, KeepAlive) {
  std::string out = "previous";
  append_response(out, 200, "text/plain", "hi", true);
  EXPECT_EQ(out,
            "previousHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi");
}

TEST(Response, CloseAndExtraHeaders) {
  std::string out;
  append_response(out, 405, "", "", false, "Allow: GET, HEAD\r\n");
  EXPECT_EQ(out,
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n"
            "Allow: GET, HEAD\r\n\r\n");
}

TEST(Response, HeadReplyKeepsContentLength) {
  std::string out;
  append_response_head(out, 200, "application/json", 1234, true);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1234\r\n\r\n");
}

TEST(Response, NoContentLengthFor204And304And1xx) {
  std::string out;
  append_response(out, 204, "", "", true);
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\n\r\n");
  out.clear();
  append_response_head(out, 304, "", 1234, true, "ETag: \"a\"\r\n");
  EXPECT_EQ(out, "HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n");
  out.clear();
  append_response_head(out, 101, "", 0, true, "Upgrade: websocket\r\nConnection: Upgrade\r\n");
  EXPECT_EQ(
      out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
}

TEST(Response, ErrorResponses) {
  std::string out;
  append_error_response(out, ParseError::kHeadTooLarge);
  EXPECT_EQ(out,
            "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json\r\n"
            "Content-Length: 57\r\nConnection: close\r\n\r\n"
            "{\"error\":\"request header section too large\",\"status\":431}");
  // Every error yields a well-formed reply whose Content-Length matches its body.
  for (int e = 0; e <= static_cast<int>(ParseError::kTrailerTooLarge); ++e) {
    auto error = static_cast<ParseError>(e);
    out.clear();
    append_error_response(out, error);
    size_t body = out.find("\r\n\r\n") + 4;
    std::string len = "Content-Length: " + std::to_string(out.size() - body) + "\r\n";
    EXPECT_NE(out.find(len), std::string::npos) << out;
    EXPECT_EQ(out.rfind("HTTP/1.1 " + std::to_string(status_for(error)), 0), 0u);
    EXPECT_NE(out.find(describe(error)), std::string::npos);
  }
}

TEST(Response, StreamHeads) {
  std::string out;
  append_stream_head(out, 200, "text/event-stream", true, "Cache-Control: no-cache\r\n");
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
            "Cache-Control: no-cache\r\n\r\n");
  out.clear();
  append_stream_head(out, 200, "text/event-stream", false);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
}

TEST(Response, ChunksRoundTripThroughTheDecoder) {
  std::string out;
  append_chunk(out, "data: hi\n\n");
  append_chunk(out, "");  // nothing: an empty chunk would end the body
  append_chunk(out, std::string(300, 'x'));
  append_last_chunk(out);
  EXPECT_EQ(out.substr(0, 16), "a\r\ndata: hi\n\n\r\n1");
  EXPECT_NE(out.find("12c\r\n"), std::string::npos);
  ChunkedDecoder d{Limits{}};
  std::string body;
  size_t used = 0;
  ASSERT_EQ(d.feed(out, used, body), ChunkedDecoder::Status::kDone);
  EXPECT_EQ(used, out.size());
  EXPECT_EQ(body, "data: hi\n\n" + std::string(300, 'x'));
}

TEST(Response, ParsesBackAsHttp) {
  // Our own output must be acceptable to a strict reader of field lines.
  std::string out;
  append_response(out, 200, "text/plain", "ok", false, "X-A: 1\r\n");
  EXPECT_EQ(out.find('\n'), out.find("\r\n") + 1);
  EXPECT_NE(out.find("\r\n\r\nok"), std::string::npos);
}

}  // namespace
}  // namespace herald::http
