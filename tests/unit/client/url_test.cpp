#include "herald/client/url.h"

#include <gtest/gtest.h>

namespace herald::client {
namespace {

struct UrlCase {
  const char* text;
  UrlError error;
  const char* host = "";
  uint16_t port = 0;
  const char* path = "";
  bool ipv6 = false;
};

TEST(Url, Table) {
  const UrlCase cases[] = {
      {"ws://127.0.0.1:8080/echo", UrlError::kNone, "127.0.0.1", 8080, "/echo"},
      {"ws://localhost/chat?x=1", UrlError::kNone, "localhost", 80, "/chat?x=1"},
      {"ws://[::1]:9000/", UrlError::kNone, "::1", 9000, "/", true},
      {"ws://[::1]", UrlError::kNone, "::1", 80, "/", true},
      {"WS://Host:1", UrlError::kNone, "Host", 1, "/"},
      {"ws://h?q=1", UrlError::kNone, "h", 80, "/?q=1"},
      {"ws://h:65535/a/b", UrlError::kNone, "h", 65535, "/a/b"},
      {"http://h/", UrlError::kUnsupportedScheme},
      {"tcp://h:1/", UrlError::kUnsupportedScheme},  // parse_server_url only
      {"wssx://h/", UrlError::kUnsupportedScheme},
      {"ws:/", UrlError::kUnsupportedScheme},
      {"ws://", UrlError::kEmptyHost},
      {"ws://:80/", UrlError::kEmptyHost},
      {"ws:///x", UrlError::kEmptyHost},
      {"ws://[::1/", UrlError::kBadIpv6Literal},
      {"ws://[]/", UrlError::kBadIpv6Literal},
      {"ws://[zz]:1/", UrlError::kBadIpv6Literal},
      {"ws://[::1]x/", UrlError::kBadIpv6Literal},
      {"ws://[::1]:/", UrlError::kBadPort},
      {"ws://h:0/", UrlError::kBadPort},
      {"ws://h:65536/", UrlError::kBadPort},
      {"ws://h:123456/", UrlError::kBadPort},
      {"ws://h:8x/", UrlError::kBadPort},
      {"ws://h:/", UrlError::kBadPort},
      {"ws://a b/", UrlError::kBadCharacter},
      {"ws://h/\n", UrlError::kBadCharacter},
      {"ws://user@h/", UrlError::kBadCharacter},
  };
  for (const UrlCase& c : cases) {
    ServerUrl url;
    url.host = "untouched";
    EXPECT_EQ(parse_ws_url(c.text, url), c.error) << c.text;
    if (c.error == UrlError::kNone) {
      EXPECT_EQ(url.host, c.host) << c.text;
      EXPECT_EQ(url.port, c.port) << c.text;
      EXPECT_EQ(url.path, c.path) << c.text;
      EXPECT_EQ(url.ipv6_literal, c.ipv6) << c.text;
    } else {
      EXPECT_EQ(url.host, "untouched") << c.text;  // left alone on error
      EXPECT_FALSE(to_string(c.error).empty());
    }
  }
}

TEST(Url, Schemes) {
  struct Case {
    const char* text;
    UrlError error;
    Scheme scheme = Scheme::kWs;
    uint16_t port = 0;
    const char* path = "/";
  };
  const Case cases[] = {
      {"ws://h/x", UrlError::kNone, Scheme::kWs, 80, "/x"},
      {"wss://h/x", UrlError::kNone, Scheme::kWss, 443, "/x"},
      {"WSS://h:8443", UrlError::kNone, Scheme::kWss, 8443, "/"},
      {"tcp://127.0.0.1:9090", UrlError::kNone, Scheme::kTcp, 9090},
      {"tcp://h:9090/", UrlError::kNone, Scheme::kTcp, 9090},
      {"TLS://[::1]:9091", UrlError::kNone, Scheme::kTls, 9091},
      {"tcp://h", UrlError::kMissingPort},
      {"tls://h/", UrlError::kMissingPort},
      {"tcp://h:9090/connection/websocket", UrlError::kUnexpectedPath},
      {"tcp://h:9090?x=1", UrlError::kUnexpectedPath},
      {"tcp://h:0", UrlError::kBadPort},
      {"tcp:/h:1", UrlError::kUnsupportedScheme},
      {"http://h:1", UrlError::kUnsupportedScheme},
      {"tcpx://h:1", UrlError::kUnsupportedScheme},
  };
  for (const Case& c : cases) {
    ServerUrl url;
    EXPECT_EQ(parse_server_url(c.text, url), c.error) << c.text;
    if (c.error == UrlError::kNone) {
      EXPECT_EQ(url.scheme, c.scheme) << c.text;
      EXPECT_EQ(url.port, c.port) << c.text;
      EXPECT_EQ(url.path, c.path) << c.text;
      EXPECT_EQ(url.tls(), c.scheme == Scheme::kWss || c.scheme == Scheme::kTls) << c.text;
      EXPECT_EQ(url.websocket(), c.scheme == Scheme::kWs || c.scheme == Scheme::kWss);
    }
    ServerUrl ws;
    bool is_ws = c.error == UrlError::kNone && url.websocket();
    EXPECT_EQ(parse_ws_url(c.text, ws) == UrlError::kNone, is_ws) << c.text;
  }
}

TEST(Url, HostHeader) {
  ServerUrl url;
  ASSERT_EQ(parse_ws_url("ws://[::1]:81/", url), UrlError::kNone);
  EXPECT_EQ(url.host_header(), "[::1]:81");
  ASSERT_EQ(parse_ws_url("ws://127.0.0.1/", url), UrlError::kNone);
  EXPECT_EQ(url.host_header(), "127.0.0.1:80");
}

TEST(Url, ResolveAndLoopback) {
  struct Case {
    const char* url;
    bool loopback;
    const char* printed;
  };
  const Case cases[] = {
      {"ws://127.0.0.1:8080/", true, "127.0.0.1:8080"},
      {"ws://127.9.8.7:1/", true, "127.9.8.7:1"},
      {"ws://localhost:2/", true, "127.0.0.1:2"},
      {"ws://[::1]:3/", true, "[::1]:3"},
      {"ws://[::ffff:127.0.0.1]:4/", true, "[::ffff:127.0.0.1]:4"},
      {"ws://10.0.0.1:5/", false, "10.0.0.1:5"},
      {"ws://[2001:db8::1]:6/", false, "[2001:db8::1]:6"},
      {"ws://128.0.0.1:7/", false, "128.0.0.1:7"},
  };
  for (const Case& c : cases) {
    ServerUrl url;
    ASSERT_EQ(parse_ws_url(c.url, url), UrlError::kNone) << c.url;
    auto ep = resolve(url);
    ASSERT_TRUE(ep.ok()) << c.url;
    EXPECT_EQ(ep->is_loopback(), c.loopback) << c.url;
    EXPECT_EQ(ep->to_string(), c.printed);
  }
}

TEST(Url, UnresolvableName) {
  ServerUrl url;
  ASSERT_EQ(parse_ws_url("ws://no-such-host.invalid/", url), UrlError::kNone);
  EXPECT_FALSE(resolve(url).ok());
}

}  // namespace
}  // namespace herald::client
