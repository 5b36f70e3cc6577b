#include "net/listener.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace herald::net {
namespace {

TEST(ParseEndpoint, Forms) {
  struct Case {
    const char* text;
    bool ok;
    const char* host;
    uint16_t port;
  } cases[] = {
      {"127.0.0.1:8080", true, "127.0.0.1", 8080}, {"localhost:1", true, "127.0.0.1", 1},
      {":9000", true, "0.0.0.0", 9000},             {"[::1]:443", true, "::1", 443},
      {"127.0.0.1:0", true, "127.0.0.1", 0},        {"127.0.0.1", false, "", 0},
      {"127.0.0.1:65536", false, "", 0},            {"127.0.0.1:80x", false, "", 0},
      {"[::1]443", false, "", 0},                   {"[::1", false, "", 0},
  };
  for (const Case& c : cases) {
    auto r = parse_endpoint(c.text);
    ASSERT_EQ(r.ok(), c.ok) << c.text;
    if (c.ok) {
      EXPECT_EQ(r->host, c.host) << c.text;
      EXPECT_EQ(r->port, c.port) << c.text;
    }
  }
}

TEST(Listener, TwoLoopsShareOnePortWithReusePort) {
  EventLoop a(0);
  EventLoop b(1);
  ASSERT_TRUE(a.init().ok());
  ASSERT_TRUE(b.init().ok());
  std::atomic<int> accepted{0};
  auto on_accept = [&](int fd, const sockaddr_storage&) {
    ::close(fd);
    ++accepted;
  };
  Listener la(a, on_accept);
  Listener lb(b, on_accept);
  ASSERT_TRUE(la.open({"127.0.0.1", 0}).ok());
  ASSERT_NE(la.bound_port(), 0);
  ASSERT_TRUE(lb.open({"127.0.0.1", la.bound_port()}).ok()) << "SO_REUSEPORT must allow this";
  std::thread ta([&] { a.run(); });
  std::thread tb([&] { b.run(); });
  for (int i = 0; i < 50; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(la.bound_port());
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);
  }
  for (int i = 0; i < 500 && accepted < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(accepted.load(), 50);
  a.post([&] { la.close(); });
  b.post([&] { lb.close(); });
  a.stop();
  b.stop();
  ta.join();
  tb.join();
}

TEST(Listener, BindErrorIsAResultNotACrash) {
  EventLoop a(0);
  ASSERT_TRUE(a.init().ok());
  Listener l(a, [](int, const sockaddr_storage&) {});
  auto r = l.open({"203.0.113.1", 0});  // TEST-NET address: not ours, bind fails
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error().find("bind"), std::string::npos);
}

TEST(EnsureAddressFree, RefusesAnAddressWithAListenerAndPassesAFreeOne) {
  EventLoop loop(0);
  ASSERT_TRUE(loop.init().ok());
  Listener l(loop, [](int fd, const sockaddr_storage&) { ::close(fd); });
  ASSERT_TRUE(l.open({"127.0.0.1", 0}).ok());
  uint16_t port = l.bound_port();
  auto used = ensure_address_free({"127.0.0.1", port});
  ASSERT_FALSE(used.ok());
  EXPECT_EQ(used.error(), "127.0.0.1:" + std::to_string(port) + " is already in use");
  // The wildcard address overlaps 127.0.0.1, so it is in use too.
  EXPECT_FALSE(ensure_address_free({"0.0.0.0", port}).ok());
  EXPECT_TRUE(ensure_address_free({"127.0.0.1", 0}).ok()) << "port 0 always passes";
  l.close();
  EXPECT_TRUE(ensure_address_free({"127.0.0.1", port}).ok()) << "free again once closed";
}

TEST(EnsureAddressFree, IPv6) {
  EventLoop loop(0);
  ASSERT_TRUE(loop.init().ok());
  Listener l(loop, [](int fd, const sockaddr_storage&) { ::close(fd); });
  if (!l.open({"::1", 0}).ok()) {
    GTEST_SKIP() << "no IPv6 loopback on this machine";
  }
  auto used = ensure_address_free({"::1", l.bound_port()});
  ASSERT_FALSE(used.ok());
  EXPECT_EQ(used.error(), "[::1]:" + std::to_string(l.bound_port()) + " is already in use");
}

TEST(EnsureAddressFree, BadAddressesAreErrors) {
  EXPECT_FALSE(ensure_address_free({"not-an-ip", 80}).ok());
  EXPECT_FALSE(ensure_address_free({"::zz", 80}).ok());
}

}  // namespace
}  // namespace herald::net
