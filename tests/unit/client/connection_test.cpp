#include "herald/client/connection.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <thread>

#include "herald/client/blocking_client.h"
#include "herald/client/deflate.h"
#include "herald/client/loop.h"
#include "test_util.h"

namespace herald::client {
namespace {

using test::bytes;
using test::server_frame;

// A scripted, blocking, one-connection WebSocket "server" on 127.0.0.1, run on its own thread.
// Every read has a deadline, so a broken client fails the test instead of hanging it.
class FakeServer {
 public:
  FakeServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_fd_, 16), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~FakeServer() {
    if (thread_.joinable()) {
      thread_.join();
    }
    if (fd_ >= 0) {
      ::close(fd_);
    }
    ::close(listen_fd_);
  }

  std::string url(const std::string& path = "/chat") const {
    return "ws://127.0.0.1:" + std::to_string(port_) + path;
  }
  void run(std::function<void(FakeServer&)> script) {
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
  // Reads the request head; returns it.
  std::string read_head() {
    std::string head;
    char c;
    while (head.find("\r\n\r\n") == std::string::npos && wait_readable(fd_) &&
           ::read(fd_, &c, 1) == 1) {
      head.push_back(c);
    }
    return head;
  }
  void handshake(const std::string& extra_headers = "") {
    accept_one();
    std::string head = read_head();
    size_t at = head.find("Sec-WebSocket-Key: ");
    ASSERT_NE(at, std::string::npos);
    std::string key = head.substr(at + 19, 24);
    request_ = head;
    write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " +
        compute_accept_key(key) + "\r\n" + extra_headers + "\r\n");
  }
  void write(const std::string& data) {
    ASSERT_EQ(::send(fd_, data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(data.size()));
  }
  bool read_exact(char* out, size_t n) {
    size_t got = 0;
    while (got < n) {
      if (!wait_readable(fd_)) {
        return false;
      }
      ssize_t r = ::read(fd_, out + got, n - got);
      if (r <= 0) {
        return false;
      }
      got += static_cast<size_t>(r);
    }
    return true;
  }
  struct ClientFrame {
    uint8_t first = 0;
    bool masked = false;
    std::string payload;
  };
  // Reads one client frame and unmasks it.
  ClientFrame read_frame() {
    ClientFrame f;
    unsigned char h[2];
    if (!read_exact(reinterpret_cast<char*>(h), 2)) {
      f.first = 0xFF;
      return f;
    }
    f.first = h[0];
    f.masked = (h[1] & 0x80) != 0;
    uint64_t len = h[1] & 0x7F;
    if (len >= 126) {
      unsigned char ext[8];
      size_t n = len == 126 ? 2 : 8;
      read_exact(reinterpret_cast<char*>(ext), n);
      len = 0;
      for (size_t i = 0; i < n; ++i) {
        len = (len << 8) | ext[i];
      }
    }
    uint32_t key = 0;
    if (f.masked) {
      read_exact(reinterpret_cast<char*>(&key), 4);
    }
    f.payload.resize(len);
    read_exact(f.payload.data(), len);
    mask_bytes(reinterpret_cast<uint8_t*>(f.payload.data()), len, key);
    return f;
  }
  bool peer_closed() {
    char c;
    return wait_readable(fd_) && ::read(fd_, &c, 1) == 0;
  }
  void close_socket() {
    ::close(fd_);
    fd_ = -1;
  }

  uint16_t port_ = 0;
  std::string request_;

 private:
  int listen_fd_ = -1;
  int fd_ = -1;
  std::thread thread_;
};

// Records what a Connection reports.
class Recorder : public ConnectionHandler {
 public:
  void on_open(Connection& conn) override {
    (void)conn;
    opened = true;
  }
  void on_message(Connection& conn, Opcode opcode, std::string_view payload) override {
    messages.emplace_back(opcode, std::string(payload));
    if (echo) {
      conn.send(opcode, payload);
    }
  }
  void on_pong(Connection& conn, std::string_view payload) override {
    (void)conn;
    pongs.emplace_back(payload);
  }
  void on_close(Connection& conn, const CloseInfo& info) override {
    (void)conn;
    ++closes;
    close_info = info;
    close_reason = std::string(info.reason);
  }
  bool opened = false;
  bool echo = false;
  int closes = 0;
  CloseInfo close_info;
  std::string close_reason;
  std::vector<std::pair<Opcode, std::string>> messages;
  std::vector<std::string> pongs;
};

void pump(Loop& loop, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    loop.run_once(10);
  }
}

bool start(Connection& conn, const std::string& text) {
  ServerUrl url;
  EXPECT_EQ(parse_ws_url(text, url), UrlError::kNone);
  auto ep = resolve(url);
  EXPECT_TRUE(ep.ok());
  return conn.start(*ep, url);
}

TEST(Connection, FullConversationAndCloseHandshake) {
  FakeServer server;
  server.run([](FakeServer& s) {
    s.handshake();
    s.write(server_frame(0x81, "from server"));
    auto f = s.read_frame();  // the client's echo
    EXPECT_EQ(f.first, 0x81);
    EXPECT_TRUE(f.masked);
    EXPECT_EQ(f.payload, "from server");
    s.write(server_frame(0x89, "ping!"));
    f = s.read_frame();
    EXPECT_EQ(f.first, 0x8A);
    EXPECT_TRUE(f.masked);
    EXPECT_EQ(f.payload, "ping!");
    s.write(server_frame(0x8A, "unsolicited"));
    // A fragmented binary message with a ping in the middle, written a byte at a time.
    std::string frag = server_frame(0x02, "ab") + server_frame(0x89, "") +
                       server_frame(0x80, std::string(300, 'c'));
    for (char c : frag) {
      s.write(std::string(1, c));
    }
    f = s.read_frame();
    EXPECT_EQ(f.first, 0x8A);
    f = s.read_frame();  // echo of the binary message
    EXPECT_EQ(f.first, 0x82);
    EXPECT_EQ(f.payload, "ab" + std::string(300, 'c'));
    s.write(server_frame(0x88, bytes({0x03, 0xE9}) + "going away"));
    f = s.read_frame();
    EXPECT_EQ(f.first, 0x88);
    EXPECT_EQ(f.payload, bytes({0x03, 0xE9}));
    s.close_socket();
  });
  Loop loop;
  Recorder rec;
  rec.echo = true;
  Connection conn(loop, rec);
  ASSERT_TRUE(start(conn, server.url()));
  pump(loop, [&] { return rec.closes > 0; });
  server.join();
  EXPECT_TRUE(rec.opened);
  EXPECT_NE(server.request_.find("GET /chat HTTP/1.1"), std::string::npos);
  ASSERT_EQ(rec.messages.size(), 2u);
  EXPECT_EQ(rec.messages[0].second, "from server");
  EXPECT_EQ(rec.messages[1].first, Opcode::kBinary);
  ASSERT_EQ(rec.pongs.size(), 1u);
  EXPECT_EQ(rec.pongs[0], "unsolicited");
  EXPECT_EQ(rec.closes, 1);
  EXPECT_EQ(rec.close_info.cause, CloseCause::kClosed);
  EXPECT_EQ(rec.close_info.code, 1001);
  EXPECT_EQ(rec.close_reason, "going away");
  EXPECT_EQ(conn.state(), Connection::State::kClosed);
  EXPECT_FALSE(conn.send_text("too late"));
}

TEST(Connection, ClientInitiatedClose) {
  FakeServer server;
  server.run([](FakeServer& s) {
    s.handshake();
    auto f = s.read_frame();
    EXPECT_EQ(f.first, 0x88);
    EXPECT_EQ(f.payload, bytes({0x0F, 0xA0}) + "bye");
    s.write(server_frame(0x88, bytes({0x0F, 0xA0})));
    s.close_socket();
  });
  Loop loop;
  Recorder rec;
  Connection conn(loop, rec);
  ASSERT_TRUE(start(conn, server.url()));
  pump(loop, [&] { return rec.opened; });
  conn.close(4000, "bye");
  EXPECT_FALSE(conn.send_text("after close"));
  pump(loop, [&] { return rec.closes > 0; });
  server.join();
  EXPECT_EQ(rec.close_info.cause, CloseCause::kClosed);
  EXPECT_EQ(rec.close_info.code, 4000);
}

TEST(Connection, HandshakeRejected) {
  FakeServer server;
  server.run([](FakeServer& s) {
    s.accept_one();
    s.read_head();
    s.write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    s.close_socket();
  });
  Loop loop;
  Recorder rec;
  Connection conn(loop, rec);
  ASSERT_TRUE(start(conn, server.url("/nope")));
  pump(loop, [&] { return rec.closes > 0; });
  server.join();
  EXPECT_FALSE(rec.opened);
  EXPECT_EQ(rec.close_info.cause, CloseCause::kHandshakeFailed);
  EXPECT_EQ(rec.close_info.handshake_error, HandshakeError::kNotSwitchingProtocols);
  EXPECT_EQ(rec.close_info.http_status, 404);
  EXPECT_NE(rec.close_info.describe().find("404"), std::string::npos);
}

TEST(Connection, ProtocolErrorSendsCloseAndFails) {
  FakeServer server;
  server.run([](FakeServer& s) {
    s.handshake();
    s.write(bytes({0x81, 0x81, 1, 2, 3, 4, 'x'}));  // masked: forbidden from a server
    auto f = s.read_frame();
    EXPECT_EQ(f.first, 0x88);
    ASSERT_GE(f.payload.size(), 2u);
    EXPECT_EQ(f.payload.substr(0, 2), bytes({0x03, 0xEA}));  // 1002
    EXPECT_TRUE(s.peer_closed());
  });
  Loop loop;
  Recorder rec;
  Connection conn(loop, rec);
  ASSERT_TRUE(start(conn, server.url()));
  pump(loop, [&] { return rec.closes > 0; });
  server.join();
  EXPECT_EQ(rec.close_info.cause, CloseCause::kProtocolError);
  EXPECT_EQ(rec.close_info.frame_error, FrameError::kMaskedFrame);
}

TEST(Connection, InvalidUtf8TextFails) {
  FakeServer server;
  server.run([](FakeServer& s) {
    s.handshake();
    s.write(server_frame(0x81, "\xC0\x80"));
    auto f = s.read_frame();
    EXPECT_EQ(f.payload.substr(0, 2), bytes({0x03, 0xEF}));  // 1007
  });
  Loop loop;
  Recorder rec;
  Connection conn(loop, rec);
  ASSERT_TRUE(start(conn, server.url()));
  pump(loop, [&] { return rec.closes > 0; });
  server.join();
  EXPECT_EQ(rec.close_info.frame_error, FrameError::kInvalidUtf8);
}

TEST(Connection, ConnectionLostWithoutClose) {
  FakeServer server;
  server.run([](FakeServer& s) {
    s.handshake();
    s.close_socket();
  });
  Loop loop;
  Recorder rec;
  Connection conn(loop, rec);
  ASSERT_TRUE(start(conn, server.url()));
  pump(loop, [&] { return rec.closes > 0; });
  server.join();
  EXPECT_TRUE(rec.opened);
  EXPECT_EQ(rec.close_info.cause, CloseCause::kConnectionLost);
  EXPECT_EQ(rec.close_info.code, 1006);
}

TEST(Connection, ConnectRefused) {
  uint16_t port;
  {
    FakeServer gone;  // bound then closed: nothing listens on the port afterwards
    port = gone.port_;
  }
  Loop loop;
  Recorder rec;
  Connection conn(loop, rec);
  ASSERT_TRUE(start(conn, "ws://127.0.0.1:" + std::to_string(port) + "/"));
  pump(loop, [&] { return rec.closes > 0; });
  EXPECT_EQ(rec.close_info.cause, CloseCause::kConnectFailed);
  EXPECT_EQ(rec.close_info.sys_errno, ECONNREFUSED);
  EXPECT_FALSE(conn.start(Endpoint{}, ServerUrl{}));  // not reusable
}

TEST(Connection, AbortCallsOnCloseOnce) {
  FakeServer server;
  server.run([](FakeServer& s) {
    s.handshake();
    s.peer_closed();
  });
  Loop loop;
  Recorder rec;
  Connection conn(loop, rec);
  ASSERT_TRUE(start(conn, server.url()));
  pump(loop, [&] { return rec.opened; });
  conn.abort();
  conn.abort();
  server.join();
  EXPECT_EQ(rec.closes, 1);
  EXPECT_EQ(rec.close_info.cause, CloseCause::kAborted);
}

TEST(Connection, PermessageDeflateBothWays) {
  FakeServer server;
  server.run([](FakeServer& s) {
    s.handshake("Sec-WebSocket-Extensions: permessage-deflate\r\n");
    EXPECT_NE(s.request_.find("permessage-deflate"), std::string::npos);
    // RFC 7692 7.2.3.1 compressed "Hello".
    s.write(bytes({0xC1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
    auto f = s.read_frame();  // the echo, compressed by the client
    EXPECT_EQ(f.first, 0xC1);
    Inflater inflater(15, false);
    std::string out;
    EXPECT_EQ(inflater.inflate_message(f.payload, 100, out), FrameError::kNone);
    EXPECT_EQ(out, "Hello");
    s.write(bytes({0xC1, 0x02, 0xff, 0xff}));  // corrupt
    f = s.read_frame();
    EXPECT_EQ(f.payload.substr(0, 2), bytes({0x03, 0xEF}));
  });
  Loop loop;
  Recorder rec;
  rec.echo = true;
  ConnectionOptions options;
  options.offer_deflate = true;
  Connection conn(loop, rec, options);
  ASSERT_TRUE(start(conn, server.url()));
  pump(loop, [&] { return rec.closes > 0; });
  server.join();
  ASSERT_EQ(rec.messages.size(), 1u);
  EXPECT_EQ(rec.messages[0].second, "Hello");
  EXPECT_EQ(rec.close_info.frame_error, FrameError::kInflateFailed);
}

TEST(Connection, MessageTooLarge) {
  FakeServer server;
  server.run([](FakeServer& s) {
    s.handshake();
    s.write(server_frame(0x82, std::string(101, 'x')));
    auto f = s.read_frame();
    EXPECT_EQ(f.payload.substr(0, 2), bytes({0x03, 0xF1}));  // 1009
  });
  Loop loop;
  Recorder rec;
  ConnectionOptions options;
  options.max_message_size = 100;
  Connection conn(loop, rec, options);
  ASSERT_TRUE(start(conn, server.url()));
  pump(loop, [&] { return rec.closes > 0; });
  server.join();
  EXPECT_EQ(rec.close_info.frame_error, FrameError::kMessageTooLarge);
}

TEST(Connection, SendRefusedWhenNotOpenOrOversized) {
  Loop loop;
  Recorder rec;
  Connection conn(loop, rec);
  EXPECT_FALSE(conn.send_text("idle"));
  EXPECT_FALSE(conn.ping(std::string(126, 'p')));
}

TEST(BlockingClient, ConnectSendReceiveClose) {
  FakeServer server;
  server.run([](FakeServer& s) {
    s.handshake();
    auto f = s.read_frame();
    EXPECT_EQ(f.payload, "hello");
    s.write(server_frame(0x81, "world"));
    s.write(server_frame(0x82, "bin"));
    f = s.read_frame();
    EXPECT_EQ(f.first, 0x88);
    s.write(server_frame(0x88, bytes({0x03, 0xE8})));
    s.close_socket();
  });
  auto client = BlockingClient::connect(server.url(), std::chrono::seconds(5));
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_TRUE((*client)->is_open());
  ASSERT_TRUE((*client)->send_text("hello").ok());
  auto m = (*client)->receive(std::chrono::seconds(5));
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->payload, "world");
  m = (*client)->receive(std::chrono::seconds(5));
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->opcode, Opcode::kBinary);
  m = (*client)->receive(std::chrono::milliseconds(50));
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->has_value());  // timeout
  (*client)->close();
  server.join();
  EXPECT_FALSE((*client)->is_open());
  EXPECT_NE((*client)->close_description().find("1000"), std::string::npos);
  EXPECT_FALSE((*client)->receive(std::chrono::milliseconds(10)).ok());
  EXPECT_FALSE((*client)->send_text("closed").ok());
}

TEST(BlockingClient, Errors) {
  EXPECT_FALSE(BlockingClient::connect("http://127.0.0.1/", std::chrono::seconds(1)).ok());
  FakeServer server;
  server.run([](FakeServer& s) {
    s.accept_one();
    s.read_head();
    s.write("HTTP/1.1 400 Bad Request\r\n\r\n");
    s.close_socket();
  });
  auto client = BlockingClient::connect(server.url(), std::chrono::seconds(5));
  server.join();
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.error().find("400"), std::string::npos);
}

TEST(BlockingClient, ConnectTimesOut) {
  FakeServer server;  // listens, never answers the upgrade
  server.run([](FakeServer& s) { s.accept_one(); });
  auto client = BlockingClient::connect(server.url(), std::chrono::milliseconds(200));
  server.join();
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.error().find("timed out"), std::string::npos);
}

}  // namespace
}  // namespace herald::client
