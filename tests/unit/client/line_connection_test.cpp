#include "herald/client/line_connection.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "herald/client/blocking_client.h"
#include "herald/client/loop.h"

// LineConnection (the raw TCP transport's lines) against a scripted one-connection server on
// 127.0.0.1 that runs on its own thread; every read has a deadline, so a broken client fails the
// test instead of hanging it.

namespace herald::client {
namespace {

class LineServer {
 public:
  LineServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_fd_, 4), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~LineServer() {
    if (thread_.joinable()) {
      thread_.join();
    }
    if (fd_ >= 0) {
      ::close(fd_);
    }
    ::close(listen_fd_);
  }

  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  void run(std::function<void(LineServer&)> script) {
    thread_ = std::thread([this, script] { script(*this); });
  }
  void join() { thread_.join(); }

  bool wait_readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 5000) == 1;
  }
  void accept_one() {
    ASSERT_TRUE(wait_readable(listen_fd_));
    fd_ = ::accept(listen_fd_, nullptr, nullptr);
    ASSERT_GE(fd_, 0);
  }
  void write(const std::string& data) {
    ASSERT_EQ(::send(fd_, data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(data.size()));
  }
  // Reads until `n` bytes arrived, EOF or 5 s of silence.
  std::string read_bytes(size_t n) {
    std::string got;
    char buf[4096];
    while (got.size() < n && wait_readable(fd_)) {
      ssize_t r = ::read(fd_, buf, std::min(sizeof(buf), n - got.size()));
      if (r <= 0) {
        break;
      }
      got.append(buf, static_cast<size_t>(r));
    }
    return got;
  }
  bool peer_closed() {
    char c;
    return wait_readable(fd_) && ::read(fd_, &c, 1) == 0;
  }
  void close_socket() {
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int listen_fd_ = -1;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

class Recorder : public LineHandler {
 public:
  void on_open(LineConnection& /*conn*/) override { opened = true; }
  void on_line(LineConnection& /*conn*/, std::string_view line) override {
    lines.emplace_back(line);
  }
  void on_close(LineConnection& /*conn*/, const CloseInfo& info) override {
    ++closes;
    cause = info.cause;
    code = info.code;
    described = info.describe();
  }
  bool opened = false;
  int closes = 0;
  CloseCause cause = CloseCause::kNone;
  uint16_t code = 0;
  std::string described;
  std::vector<std::string> lines;
};

void pump(Loop& loop, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    loop.run_once(10);
  }
}

bool start(LineConnection& conn, const std::string& text) {
  ServerUrl url;
  EXPECT_EQ(parse_server_url(text, url), UrlError::kNone);
  auto ep = resolve(url);
  EXPECT_TRUE(ep.ok());
  return conn.start(*ep, url);
}

TEST(LineConnection, LinesBothWaysKeepalivesAnsweredAndAPoliteClose) {
  LineServer server;
  std::string from_client;
  bool saw_fin = false;
  server.run([&](LineServer& s) {
    s.accept_one();
    // What the client queued before the connect completed, then its answer to the keepalive.
    from_client = s.read_bytes(std::string("{\"id\":1}\n{\"id\":2}\n").size());
    s.write("{\"id\":1,\"res");
    s.write("ult\":{}}\r\n\n{\"push\":\"message\"}\n");
    from_client += s.read_bytes(1);
    saw_fin = s.peer_closed();
    s.close_socket();
  });
  Loop loop;
  Recorder rec;
  LineConnection conn(loop, rec);
  ASSERT_TRUE(start(conn, server.url()));
  EXPECT_TRUE(conn.send_lines("{\"id\":1}\n{\"id\":2}"));
  pump(loop, [&] { return rec.lines.size() == 2; });
  EXPECT_TRUE(rec.opened);
  ASSERT_EQ(rec.lines.size(), 2u);
  EXPECT_EQ(rec.lines[0], "{\"id\":1,\"result\":{}}");
  EXPECT_EQ(rec.lines[1], "{\"push\":\"message\"}");
  EXPECT_EQ(conn.keepalives(), 1u);
  pump(loop, [&] { return conn.buffered_bytes() == 0; });
  conn.close();
  EXPECT_FALSE(conn.send_lines("late"));
  pump(loop, [&] { return rec.closes > 0; });
  server.join();
  EXPECT_EQ(from_client, "{\"id\":1}\n{\"id\":2}\n\n");
  EXPECT_TRUE(saw_fin);
  EXPECT_EQ(rec.closes, 1);
  EXPECT_EQ(rec.cause, CloseCause::kClosed);
  EXPECT_EQ(rec.code, 1000);
}

TEST(LineConnection, AServerThatClosesUnaskedIsALostConnection) {
  LineServer server;
  server.run([](LineServer& s) {
    s.accept_one();
    s.write("{\"push\":\"disconnect\",\"code\":3001}\n");
    s.close_socket();
  });
  Loop loop;
  Recorder rec;
  LineConnection conn(loop, rec);
  ASSERT_TRUE(start(conn, server.url()));
  pump(loop, [&] { return rec.closes > 0; });
  server.join();
  ASSERT_EQ(rec.lines.size(), 1u);  // the line before the close is delivered
  EXPECT_EQ(rec.cause, CloseCause::kConnectionLost);
  EXPECT_EQ(rec.code, 1006);
}

TEST(LineConnection, ALineOverTheLimitIsAProtocolError) {
  LineServer server;
  server.run([](LineServer& s) {
    s.accept_one();
    s.write("{\"ok\":1}\n" + std::string(100, 'x'));
    s.peer_closed();
    s.close_socket();
  });
  Loop loop;
  Recorder rec;
  LineOptions o;
  o.max_line = 64;
  LineConnection conn(loop, rec, o);
  ASSERT_TRUE(start(conn, server.url()));
  pump(loop, [&] { return rec.closes > 0; });
  server.join();
  EXPECT_EQ(rec.lines.size(), 1u);
  EXPECT_EQ(rec.cause, CloseCause::kProtocolError);
  EXPECT_EQ(rec.described, "protocol error: message too large");
}

TEST(LineConnection, RefusedAndWrongUrls) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string url = "tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  ::close(fd);  // bound then released: nothing listens there

  Loop loop;
  Recorder rec;
  LineConnection conn(loop, rec);
  ASSERT_TRUE(start(conn, url));
  pump(loop, [&] { return rec.closes > 0; });
  EXPECT_EQ(rec.cause, CloseCause::kConnectFailed);
  EXPECT_EQ(rec.described, "connect failed: Connection refused");

  LineConnection tls(loop, rec);  // tls:// needs a context in its options
  EXPECT_FALSE(start(tls, "tls://127.0.0.1:1"));
  EXPECT_EQ(tls.last_errno(), EINVAL);
  LineConnection ws(loop, rec);
  ServerUrl ws_url;
  ASSERT_EQ(parse_server_url("ws://127.0.0.1:1/", ws_url), UrlError::kNone);
  EXPECT_FALSE(ws.start(Endpoint{}, ws_url));
  EXPECT_EQ(ws.last_errno(), EINVAL);
}

TEST(LineConnection, BlockingClientOverTcp) {
  LineServer server;
  server.run([](LineServer& s) {
    s.accept_one();
    s.read_bytes(std::string("{\"id\":1,\"method\":\"connect\"}\n").size());
    s.write("\n{\"id\":1,\"result\":{\"client\":\"c\"}}\n");
    s.read_bytes(1);  // the keepalive's answer
    s.peer_closed();
    s.close_socket();
  });
  auto client = BlockingClient::connect(server.url(), std::chrono::seconds(5));
  ASSERT_TRUE(client.ok()) << client.error();
  ASSERT_TRUE((*client)->send_text("{\"id\":1,\"method\":\"connect\"}").ok());
  EXPECT_FALSE((*client)->send_binary("x").ok());  // no binary on the TCP transport
  auto msg = (*client)->receive(std::chrono::seconds(5));
  ASSERT_TRUE(msg.ok());
  ASSERT_TRUE(msg->has_value());
  EXPECT_EQ((*msg)->payload, "{\"id\":1,\"result\":{\"client\":\"c\"}}");
  EXPECT_EQ((*client)->keepalives(), 1u);
  (*client)->close();
  EXPECT_FALSE((*client)->is_open());
  EXPECT_EQ((*client)->close_description(), "closed with code 1000");
  server.join();
}

}  // namespace
}  // namespace herald::client
