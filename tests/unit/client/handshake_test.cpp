#include "herald/client/handshake.h"

#include <gtest/gtest.h>

#include <set>

#include "test_util.h"

namespace herald::client {
namespace {

// RFC 6455 1.3 sample nonce and its accept value.
constexpr const char* kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr const char* kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

TEST(Handshake, AcceptKeyFromRfc) {
  EXPECT_EQ(compute_accept_key(kKey), kAccept);
}

TEST(Handshake, KeysAreRandomBase64Of16Bytes) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    std::string key = make_websocket_key();
    EXPECT_EQ(key.size(), 24u);
    EXPECT_EQ(key.substr(22), "==");
    seen.insert(key);
  }
  EXPECT_EQ(seen.size(), 20u);
}

TEST(Handshake, UpgradeRequest) {
  ServerUrl url;
  ASSERT_EQ(parse_ws_url("ws://[::1]:9000/chat?room=1", url), UrlError::kNone);
  UpgradeOptions options;
  std::string req = build_upgrade_request(url, kKey, options);
  EXPECT_EQ(req.rfind("GET /chat?room=1 HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(req.find("\r\nHost: [::1]:9000\r\n"), std::string::npos);
  EXPECT_NE(req.find("\r\nUpgrade: websocket\r\n"), std::string::npos);
  EXPECT_NE(req.find("\r\nConnection: Upgrade\r\n"), std::string::npos);
  EXPECT_NE(req.find(std::string("\r\nSec-WebSocket-Key: ") + kKey + "\r\n"), std::string::npos);
  EXPECT_NE(req.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
  EXPECT_EQ(req.find("Extensions"), std::string::npos);
  EXPECT_EQ(req.substr(req.size() - 4), "\r\n\r\n");
  options.offer_deflate = true;
  options.origin = "http://127.0.0.1";
  req = build_upgrade_request(url, kKey, options);
  EXPECT_NE(req.find("Sec-WebSocket-Extensions: permessage-deflate"), std::string::npos);
  EXPECT_NE(req.find("\r\nOrigin: http://127.0.0.1\r\n"), std::string::npos);
}

std::string response(const std::string& extra,
                     const std::string& status = "101 Switching Protocols",
                     const std::string& accept = kAccept) {
  return "HTTP/1.1 " + status + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
         (accept.empty() ? "" : "Sec-WebSocket-Accept: " + accept + "\r\n") + extra + "\r\n";
}

struct ResponseCase {
  const char* name;
  std::string head;
  bool offer_deflate;
  HandshakeError error;
  int status = 101;
  bool deflate = false;
  DeflateParams params = {};
};

std::vector<ResponseCase> response_cases() {
  DeflateParams tuned;
  tuned.server_no_context_takeover = true;
  tuned.client_max_window_bits = 10;
  DeflateParams server_bits;
  server_bits.server_max_window_bits = 12;
  server_bits.client_no_context_takeover = true;
  return {
      {"rfc_example", response(""), false, HandshakeError::kNone},
      {"case_and_lists",
       "HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, Upgrade\r\n"
       "sec-websocket-accept:   " +
           std::string(kAccept) + "  \r\nServer: x\r\n\r\n",
       false, HandshakeError::kNone},
      {"http_1_0_status",
       "HTTP/1.0 101 X\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
       "Sec-WebSocket-Accept: " +
           std::string(kAccept) + "\r\n\r\n",
       false, HandshakeError::kNone},
      {"not_found", response("", "404 Not Found", ""), false,
       HandshakeError::kNotSwitchingProtocols, 404},
      {"upgrade_required", response("Sec-WebSocket-Version: 13\r\n", "426 Upgrade Required", ""),
       false, HandshakeError::kNotSwitchingProtocols, 426},
      {"bad_status_line", "HTTX/1.1 101 X\r\n\r\n", false, HandshakeError::kBadStatusLine, 0},
      {"status_not_digits", "HTTP/1.1 1O1 X\r\n\r\n", false, HandshakeError::kBadStatusLine, 0},
      {"status_too_short", "HTTP/1.1 10\r\n\r\n", false, HandshakeError::kBadStatusLine, 0},
      {"missing_upgrade",
       "HTTP/1.1 101 X\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + std::string(kAccept) +
           "\r\n\r\n",
       false, HandshakeError::kMissingUpgrade},
      {"missing_connection",
       "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + std::string(kAccept) +
           "\r\n\r\n",
       false, HandshakeError::kMissingConnection},
      {"wrong_accept", response("", "101 X", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="), false,
       HandshakeError::kBadAccept},
      {"missing_accept", response("", "101 X", ""), false, HandshakeError::kBadAccept},
      {"duplicate_accept", response("Sec-WebSocket-Accept: " + std::string(kAccept) + "\r\n"),
       false, HandshakeError::kBadAccept},
      {"no_colon", response("Broken header\r\n"), false, HandshakeError::kMalformedHeader},
      {"space_in_name", response("Bad Name: x\r\n"), false, HandshakeError::kMalformedHeader},
      {"obs_fold", response("X: a\r\n  folded\r\n"), false, HandshakeError::kMalformedHeader},
      {"extension_not_offered", response("Sec-WebSocket-Extensions: permessage-deflate\r\n"), false,
       HandshakeError::kUnexpectedExtension},
      {"deflate_plain", response("Sec-WebSocket-Extensions: permessage-deflate\r\n"), true,
       HandshakeError::kNone, 101, true},
      {"deflate_declined", response(""), true, HandshakeError::kNone, 101, false},
      {"deflate_params",
       response("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
                "client_max_window_bits=10\r\n"),
       true, HandshakeError::kNone, 101, true, tuned},
      {"deflate_quoted_bits",
       response("Sec-WebSocket-Extensions: permessage-deflate;server_max_window_bits=\"12\";"
                "client_no_context_takeover\r\n"),
       true, HandshakeError::kNone, 101, true, server_bits},
      {"deflate_bits_16",
       response("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=16\r\n"),
       true, HandshakeError::kBadExtensionParams},
      {"deflate_bits_7",
       response("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7\r\n"), true,
       HandshakeError::kBadExtensionParams},
      {"deflate_bits_missing",
       response("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits\r\n"), true,
       HandshakeError::kBadExtensionParams},
      {"deflate_duplicate_param",
       response("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
                "server_no_context_takeover\r\n"),
       true, HandshakeError::kBadExtensionParams},
      {"deflate_unknown_param", response("Sec-WebSocket-Extensions: permessage-deflate; x=1\r\n"),
       true, HandshakeError::kBadExtensionParams},
      {"deflate_takeover_with_value",
       response("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover=1\r\n"),
       true, HandshakeError::kBadExtensionParams},
      {"other_extension", response("Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n"), true,
       HandshakeError::kUnexpectedExtension},
      {"two_extensions",
       response("Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n"), true,
       HandshakeError::kUnexpectedExtension},
      {"two_extension_headers",
       response("Sec-WebSocket-Extensions: permessage-deflate\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
       true, HandshakeError::kUnexpectedExtension},
      {"subprotocol", response("Sec-WebSocket-Protocol: chat\r\n"), false,
       HandshakeError::kUnexpectedProtocol},
  };
}

class ResponseTest : public ::testing::TestWithParam<ResponseCase> {};

TEST_P(ResponseTest, WholeBytewiseAndRandomChunks) {
  const ResponseCase& c = GetParam();
  const std::string trailing = "\x81\x02hi";  // a frame right behind the head
  std::string input = c.head + trailing;
  int variant = 0;
  for (const auto& chunks : test::chunkings(input, 99)) {
    HandshakeResponseParser parser(kAccept, c.offer_deflate);
    auto status = HandshakeResponseParser::Status::kNeedMore;
    size_t total_used = 0;
    for (const std::string& chunk : chunks) {
      size_t used = 0;
      status = parser.parse(chunk, &used);
      total_used += used;
      if (status != HandshakeResponseParser::Status::kNeedMore) {
        break;
      }
      EXPECT_EQ(used, chunk.size());
    }
    SCOPED_TRACE(std::string(c.name) + " chunking " + std::to_string(variant++));
    if (c.error == HandshakeError::kNone) {
      ASSERT_EQ(status, HandshakeResponseParser::Status::kDone) << to_string(parser.error());
      EXPECT_EQ(total_used, c.head.size());  // the frame behind it is not eaten
      EXPECT_EQ(parser.deflate_accepted(), c.deflate);
      const DeflateParams& p = parser.deflate_params();
      EXPECT_EQ(p.server_no_context_takeover, c.params.server_no_context_takeover);
      EXPECT_EQ(p.client_no_context_takeover, c.params.client_no_context_takeover);
      EXPECT_EQ(p.server_max_window_bits, c.params.server_max_window_bits);
      EXPECT_EQ(p.client_max_window_bits, c.params.client_max_window_bits);
    } else {
      ASSERT_EQ(status, HandshakeResponseParser::Status::kError);
      EXPECT_EQ(parser.error(), c.error) << to_string(parser.error());
    }
    EXPECT_EQ(parser.status_code(), c.status);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, ResponseTest, ::testing::ValuesIn(response_cases()),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(Handshake, HeadTooLarge) {
  HandshakeResponseParser parser(kAccept, false);
  std::string filler = "HTTP/1.1 101 X\r\nX-Pad: " + std::string(kMaxResponseHead, 'a');
  size_t used = 0;
  EXPECT_EQ(parser.parse(filler, &used), HandshakeResponseParser::Status::kError);
  EXPECT_EQ(parser.error(), HandshakeError::kHeadTooLarge);
  EXPECT_LE(used, kMaxResponseHead);
  EXPECT_EQ(parser.parse("\r\n\r\n", &used), HandshakeResponseParser::Status::kError);
}

TEST(Handshake, HeadTooLargeBytewise) {
  HandshakeResponseParser parser(kAccept, false);
  size_t fed = 0;
  auto status = HandshakeResponseParser::Status::kNeedMore;
  while (status == HandshakeResponseParser::Status::kNeedMore && fed < 2 * kMaxResponseHead) {
    size_t used = 0;
    status = parser.parse("a", &used);
    ++fed;
  }
  EXPECT_EQ(status, HandshakeResponseParser::Status::kError);
  EXPECT_EQ(fed, kMaxResponseHead);
}

TEST(Handshake, ErrorNamesAreDistinct) {
  std::set<std::string_view> names;
  for (int e = 0; e <= static_cast<int>(HandshakeError::kUnexpectedProtocol); ++e) {
    names.insert(to_string(static_cast<HandshakeError>(e)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(HandshakeError::kUnexpectedProtocol) + 1);
}

}  // namespace
}  // namespace herald::client
