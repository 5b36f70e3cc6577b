#include "ws/handshake.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace herald::ws {
namespace {

// Owns the strings a Request points into.
struct RequestBuilder {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Host", "server.example.com"},  {"Upgrade", "websocket"},
      {"Connection", "Upgrade"},       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
      {"Sec-WebSocket-Version", "13"},
  };
  http::Method method = http::Method::kGet;
  uint8_t minor = 1;

  RequestBuilder& set(const std::string& name, const std::string& value) {
    remove(name);
    headers.emplace_back(name, value);
    return *this;
  }
  RequestBuilder& add(const std::string& name, const std::string& value) {
    headers.emplace_back(name, value);
    return *this;
  }
  RequestBuilder& remove(const std::string& name) {
    std::erase_if(headers, [&](const auto& h) { return h.first == name; });
    return *this;
  }
  http::Request build() const {
    http::Request r;
    r.method = method;
    r.method_text = method == http::Method::kGet ? "GET" : "POST";
    r.target = "/chat";
    r.path = "/chat";
    r.version_minor = minor;
    for (const auto& [name, value] : headers) {
      r.headers[r.header_count++] = {name, value};
    }
    return r;
  }
};

TEST(Handshake, AcceptKeyRfc6455Example) {
  EXPECT_EQ(compute_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, Accepts) {
  RequestBuilder b;
  Handshake h = accept_upgrade(b.build(), HandshakeConfig{});
  EXPECT_EQ(h.error, HandshakeError::kNone);
  EXPECT_EQ(h.status, 101);
  EXPECT_FALSE(h.deflate);
  EXPECT_EQ(h.response,
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "\r\n");
  EXPECT_TRUE(is_websocket_upgrade(b.build()));
}

TEST(Handshake, SelectsTheFirstSubprotocolOfTheServersThatTheClientOffers) {
  HandshakeConfig config;
  config.subprotocols = {"herald.v1", "herald.v0"};
  RequestBuilder b;
  b.set("Sec-WebSocket-Protocol", "chat, herald.v0").add("Sec-WebSocket-Protocol", "herald.v1");
  Handshake h = accept_upgrade(b.build(), config);
  EXPECT_EQ(h.subprotocol, "herald.v1");  // the server's preference, across repeated headers
  EXPECT_NE(h.response.find("\r\nSec-WebSocket-Protocol: herald.v1\r\n"), std::string::npos);
  b.set("Sec-WebSocket-Protocol", "chat");
  b.remove("Sec-WebSocket-Protocol").add("Sec-WebSocket-Protocol", "chat,superchat");
  h = accept_upgrade(b.build(), config);
  EXPECT_EQ(h.status, 101);  // nothing in common: accepted without one (the client decides)
  EXPECT_TRUE(h.subprotocol.empty());
  EXPECT_EQ(h.response.find("Sec-WebSocket-Protocol"), std::string::npos);
  b.set("Sec-WebSocket-Protocol", "HERALD.V1");  // names are case-sensitive
  EXPECT_TRUE(accept_upgrade(b.build(), config).subprotocol.empty());
  b.remove("Sec-WebSocket-Protocol");
  h = accept_upgrade(b.build(), config);
  EXPECT_TRUE(h.subprotocol.empty());
  EXPECT_EQ(h.response.find("Sec-WebSocket-Protocol"), std::string::npos);
  b.set("Sec-WebSocket-Protocol", "herald.v1");
  EXPECT_TRUE(accept_upgrade(b.build(), HandshakeConfig{}).subprotocol.empty());  // route: none
}

TEST(Handshake, TokensAreCaseInsensitiveAndListed) {
  RequestBuilder b;
  b.set("Upgrade", "WebSocket").set("Connection", "keep-alive, Upgrade");
  EXPECT_EQ(accept_upgrade(b.build(), HandshakeConfig{}).status, 101);
  b.set("Connection", "keep-alive").add("Connection", "upgrade");
  EXPECT_EQ(accept_upgrade(b.build(), HandshakeConfig{}).status, 101);
}

TEST(Handshake, NegotiatesDeflate) {
  RequestBuilder b;
  b.add("Sec-WebSocket-Extensions", "x-webkit-deflate-frame")
      .add("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits");
  Handshake h = accept_upgrade(b.build(), HandshakeConfig{});
  ASSERT_EQ(h.status, 101);
  ASSERT_TRUE(h.deflate);
  EXPECT_NE(h.response.find("\r\nSec-WebSocket-Extensions: permessage-deflate; "
                            "server_no_context_takeover\r\n\r\n"),
            std::string::npos)
      << h.response;

  HandshakeConfig off;
  off.deflate.enabled = false;
  h = accept_upgrade(b.build(), off);
  EXPECT_FALSE(h.deflate);
  EXPECT_EQ(h.response.find("Extensions"), std::string::npos);

  b.set("Sec-WebSocket-Extensions", "permessage-deflate; bogus");
  h = accept_upgrade(b.build(), HandshakeConfig{});
  EXPECT_EQ(h.status, 101);
  EXPECT_FALSE(h.deflate);
}

struct ErrorCase {
  const char* name;
  RequestBuilder request;
  HandshakeError error;
  int status;
  const char* must_contain;
};

TEST(Handshake, Errors) {
  std::vector<ErrorCase> cases;
  auto add = [&](const char* name, RequestBuilder b, HandshakeError e, int status,
                 const char* must) {
    cases.push_back({name, std::move(b), e, status, must});
  };
  RequestBuilder b;
  b.method = http::Method::kPost;
  add("post", b, HandshakeError::kNotGet, 405, "Allow: GET\r\n");
  b = {};
  b.minor = 0;
  add("http10", b, HandshakeError::kBadHttpVersion, 400, "400 Bad Request");
  add("no_host", RequestBuilder{}.remove("Host"), HandshakeError::kNoHost, 400, "400");
  add("no_upgrade", RequestBuilder{}.remove("Upgrade"), HandshakeError::kNoUpgradeHeader, 426,
      "Upgrade: websocket\r\n");
  add("upgrade_h2c", RequestBuilder{}.set("Upgrade", "h2c"), HandshakeError::kNoUpgradeHeader, 426,
      "426 Upgrade Required");
  add("no_connection", RequestBuilder{}.remove("Connection"), HandshakeError::kNoConnectionUpgrade,
      400, "400");
  add("connection_close", RequestBuilder{}.set("Connection", "close"),
      HandshakeError::kNoConnectionUpgrade, 400, "400");
  add("no_version", RequestBuilder{}.remove("Sec-WebSocket-Version"), HandshakeError::kBadVersion,
      426, "Sec-WebSocket-Version: 13\r\n");
  add("version_8", RequestBuilder{}.set("Sec-WebSocket-Version", "8"), HandshakeError::kBadVersion,
      426, "Sec-WebSocket-Version: 13\r\n");
  add("no_key", RequestBuilder{}.remove("Sec-WebSocket-Key"), HandshakeError::kBadKey, 400, "400");
  add("short_key", RequestBuilder{}.set("Sec-WebSocket-Key", "dGhlIHNhbXBsZQ=="),
      HandshakeError::kBadKey, 400, "400");
  add("key_no_padding", RequestBuilder{}.set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQAA"),
      HandshakeError::kBadKey, 400, "400");
  add("key_bad_char", RequestBuilder{}.set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZ!=="),
      HandshakeError::kBadKey, 400, "400");
  add("two_keys", RequestBuilder{}.add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
      HandshakeError::kBadKey, 400, "400");
  for (const ErrorCase& c : cases) {
    Handshake h = accept_upgrade(c.request.build(), HandshakeConfig{});
    EXPECT_EQ(h.error, c.error) << c.name;
    EXPECT_EQ(h.status, c.status) << c.name;
    EXPECT_FALSE(h.deflate) << c.name;
    EXPECT_EQ(h.response.rfind("HTTP/1.1 " + std::to_string(c.status) + " ", 0), 0u) << c.name;
    EXPECT_NE(h.response.find(c.must_contain), std::string::npos) << c.name << h.response;
    EXPECT_NE(h.response.find("Connection: close\r\n"), std::string::npos) << c.name;
    // Content-Length matches the body.
    size_t body = h.response.find("\r\n\r\n");
    ASSERT_NE(body, std::string::npos);
    std::string len = std::to_string(h.response.size() - body - 4);
    EXPECT_NE(h.response.find("Content-Length: " + len + "\r\n"), std::string::npos) << c.name;
  }
  EXPECT_FALSE(is_websocket_upgrade(RequestBuilder{}.remove("Upgrade").build()));
}

}  // namespace
}  // namespace herald::ws
