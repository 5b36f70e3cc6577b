#include "pusher/webhook_events.h"

#include <gtest/gtest.h>

#include "pusher/http_post.h"

namespace herald::pusher {
namespace {

TEST(PusherWebhookEvents, AsPusherSendsThem) {
  EXPECT_EQ(occupancy_hook(true, "orders"), R"({"name":"channel_occupied","channel":"orders"})");
  EXPECT_EQ(occupancy_hook(false, "orders"), R"({"name":"channel_vacated","channel":"orders"})");
  EXPECT_EQ(member_hook(true, "presence-a", "u\"1"),
            R"({"name":"member_added","channel":"presence-a","user_id":"u\"1"})");
  EXPECT_EQ(member_hook(false, "presence-a", "7"),
            R"({"name":"member_removed","channel":"presence-a","user_id":"7"})");
  // A client's object data is given as its text; a string stays the string it is.
  EXPECT_EQ(client_event_hook("private-a", "client-x", R"({"a":1})", "1.2", ""),
            R"({"name":"client_event","channel":"private-a","event":"client-x",)"
            R"("data":"{\"a\":1}","socket_id":"1.2"})");
  EXPECT_EQ(client_event_hook("presence-a", "client-x", R"("hi")", "1.2", "u"),
            R"({"name":"client_event","channel":"presence-a","event":"client-x",)"
            R"("data":"hi","socket_id":"1.2","user_id":"u"})");
}

TEST(PusherWebhookEvents, BodyAndSignature) {
  std::vector<std::string> events = {"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"};
  EXPECT_EQ(webhook_body(1327078148132, events, 0, 3),
            R"({"time_ms":1327078148132,"events":[{"a":1},{"b":2},{"c":3}]})");
  EXPECT_EQ(webhook_body(5, events, 1, 2), R"({"time_ms":5,"events":[{"b":2}]})");
  // Checked against Node: crypto.createHmac('sha256', 'secret').update(body).digest('hex').
  EXPECT_EQ(webhook_signature("secret", R"({"time_ms":5,"events":[{"b":2}]})"),
            "9d0f773cc5ca7385343af62c75316546696fea4040ae56be1af65306dec71317");
}

TEST(PusherWebhookEvents, Mask) {
  uint8_t mask = 0;
  std::string bad;
  EXPECT_TRUE(webhook_mask({}, &mask, &bad));
  EXPECT_EQ(mask, kAllHooks);
  EXPECT_TRUE(webhook_mask({"member_added", "client_event"}, &mask, &bad));
  EXPECT_EQ(mask, kHookMemberAdded | kHookClientEvent);
  EXPECT_FALSE(webhook_mask({"channel_occupied", "channel_existence"}, &mask, &bad));
  EXPECT_EQ(bad, "channel_existence");
}

TEST(PusherWebhookUrl, Parses) {
  auto u = parse_http_url("http://127.0.0.1:8080/hooks?a=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/hooks?a=1");
  EXPECT_EQ(u->authority, "127.0.0.1:8080");
  u = parse_http_url("http://example.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->path, "/");
  u = parse_http_url("http://[::1]:9/x");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9);
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->origin(), "http://[::1]:9");
  // https: TLS, port 443 unless given.
  u = parse_http_url("https://hooks.example.com/p?secret=1");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "hooks.example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/p?secret=1");
  EXPECT_EQ(u->authority, "hooks.example.com");
  EXPECT_EQ(u->origin(), "https://hooks.example.com");  // no path or query: they may be secret
  u = parse_http_url("https://127.0.0.1:8443");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->path, "/");
  for (const char* bad : {"ftp://a", "https://", "https://u:p@a/", "httpss://a/", "http://", "http://:80/", "http://a:0/",
                          "http://a:99999/", "http://u:p@a/", "http://a/b c", "http://[::1/x",
                          "http://a:8x/"}) {
    EXPECT_FALSE(parse_http_url(bad)) << bad;
  }
}

}  // namespace
}  // namespace herald::pusher
