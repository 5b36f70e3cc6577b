#include "net/client_socket.h"
// ClientSocket against real peers on 127.0.0.1: the socket on an event loop in its own thread, a
// blocking peer (plain, or OpenSSL's server side) in the test thread. What RedisConnection and
// HttpPost rely on: writes queued before the connection opened follow it, every end is one
// on_closed with its End and reason, and a refused certificate never reaches on_open.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "net/tls_context.h"
#include "tls_test_util.h"
#include "run_on.h"

namespace herald::net {
namespace {

using testing::PemPair;
using testing::TempDir;

// What the owner was told, in order. Written on the loop thread, read by the test thread.
struct Record final : ClientSocket::Listener {
  std::mutex mutex;
  std::condition_variable changed;
  int opened = 0;
  std::string tls_version;  // at on_open
  std::string data;
  int closed = 0;
  ClientSocket::End end = ClientSocket::End::kIo;
  std::string why;
  bool close_on_data = false;

  void on_open(ClientSocket& s) override {
    std::lock_guard<std::mutex> lock(mutex);
    ++opened;
    tls_version = s.tls_version();
    changed.notify_all();
  }
  void on_data(ClientSocket& s, const uint8_t* bytes, size_t size) override {
    std::lock_guard<std::mutex> lock(mutex);
    data.append(reinterpret_cast<const char*>(bytes), size);
    if (close_on_data) {
      s.close();  // the owner is done: no on_closed follows
    }
    changed.notify_all();
  }
  void on_closed(ClientSocket& s, ClientSocket::End e, const std::string& reason) override {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(s.phase(), ClientSocket::Phase::kClosed);
    ++closed;
    end = e;
    why = reason;
    changed.notify_all();
  }
  template <typename Pred>
  bool wait(Pred pred) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(5), pred);
  }
};

class ClientSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop_.init().ok());
    thread_ = std::thread([this] { loop_.run(); });
    on_loop([this] { socket_ = std::make_unique<ClientSocket>(loop_, rec_); });
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(::listen(listen_fd_, 8), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  void TearDown() override {
    on_loop([this] { socket_.reset(); });
    loop_.stop();
    thread_.join();
    if (peer_ != nullptr) {
      SSL_free(peer_);
    }
    if (peer_fd_ >= 0) {
      ::close(peer_fd_);
    }
    ::close(listen_fd_);
  }

  // Runs fn on the loop thread and waits for it.
  template <typename Fn>
  void on_loop(Fn fn) {
    testing::run_on(loop_, fn);
  }

  bool connect(const std::string& host, const TlsContext* tls) {
    bool ok = false;
    on_loop([&] { ok = socket_->connect(host, port_, tls); });
    return ok;
  }
  void write(const std::string& bytes) {
    on_loop([&] { socket_->write(bytes); });
  }

  // Accepts the socket's connection (blocking, 5 s at most), with 5 s bounds on reads and writes.
  bool accept_peer() {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) {
      return false;
    }
    peer_fd_ = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    timeval tv{5, 0};
    setsockopt(peer_fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(peer_fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return peer_fd_ >= 0;
  }
  std::string peer_read(size_t n) {
    std::string out;
    char buf[4096];
    while (out.size() < n) {
      ssize_t r = ::recv(peer_fd_, buf, sizeof(buf), 0);
      if (r <= 0) {
        break;
      }
      out.append(buf, static_cast<size_t>(r));
    }
    return out;
  }
  // The TLS server side on the accepted socket, with the certificate and key of `pair`;
  // whether SSL_accept succeeded.
  bool tls_accept(const PemPair& pair) {
    auto ctx = TlsContext::load(dir_.write("s.pem", pair.cert), dir_.write("s.key", pair.key));
    EXPECT_TRUE(ctx.ok()) << ctx.error();
    server_ctx_ = *ctx;
    peer_ = SSL_new(server_ctx_->native());
    SSL_set_fd(peer_, peer_fd_);
    bool ok = SSL_accept(peer_) == 1;
    ERR_clear_error();
    return ok;
  }
  // A client context trusting exactly ca_pem, as load_client makes it for Herald.
  std::shared_ptr<const TlsContext> client_ctx(const std::string& ca_pem) {
    TlsContext::ClientFiles files;
    files.ca_file = dir_.write("ca.pem", ca_pem);
    files.setting_prefix = "test_";
    auto ctx = TlsContext::load_client(files);
    EXPECT_TRUE(ctx.ok()) << ctx.error();
    return ctx.ok() ? *ctx : nullptr;
  }

  EventLoop loop_{0};
  std::thread thread_;
  Record rec_;
  std::unique_ptr<ClientSocket> socket_;
  TempDir dir_;
  std::shared_ptr<const TlsContext> server_ctx_;
  int listen_fd_ = -1;
  int peer_fd_ = -1;
  uint16_t port_ = 0;
  SSL* peer_ = nullptr;
};

TEST_F(ClientSocketTest, PlainBytesBothWaysThenThePeerCloses) {
  ASSERT_TRUE(connect("127.0.0.1", nullptr));
  write("written while connecting;");
  ASSERT_TRUE(accept_peer());
  ASSERT_TRUE(rec_.wait([&] { return rec_.opened == 1; }));
  write("and after");
  EXPECT_EQ(peer_read(34), "written while connecting;and after");
  ASSERT_EQ(::send(peer_fd_, "answer", 6, 0), 6);
  ::shutdown(peer_fd_, SHUT_WR);
  ASSERT_TRUE(rec_.wait([&] { return rec_.closed == 1; }));
  EXPECT_EQ(rec_.data, "answer");
  EXPECT_EQ(rec_.end, ClientSocket::End::kPeerClosed);
  EXPECT_EQ(rec_.why, "closed by the peer");
  EXPECT_EQ(rec_.tls_version, "");
}

TEST_F(ClientSocketTest, ARefusedConnectIsNamed) {
  ::close(listen_fd_);  // nobody listens on port_ any more
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool ok = connect("127.0.0.1", nullptr);
  std::string why;
  if (ok) {
    ASSERT_TRUE(rec_.wait([&] { return rec_.closed == 1; }));
    EXPECT_EQ(rec_.end, ClientSocket::End::kConnect);
    why = rec_.why;
  } else {
    on_loop([&] { why = socket_->error(); });
  }
  EXPECT_EQ(why, "connect to 127.0.0.1:" + std::to_string(port_) + ": Connection refused");
  EXPECT_EQ(rec_.opened, 0);
}

TEST_F(ClientSocketTest, TlsVerifiedThenBytesBothWays) {
  PemPair peer = testing::make_cert("peer", 11);  // SAN IP:127.0.0.1, DNS:localhost
  auto client = client_ctx(peer.cert);            // self-signed: its own CA
  ASSERT_TRUE(connect("127.0.0.1", client.get()));
  write("ping before the handshake");
  ASSERT_TRUE(accept_peer());
  ASSERT_TRUE(tls_accept(peer));
  char buf[64];
  int n = SSL_read(peer_, buf, sizeof(buf));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "ping before the handshake");
  ASSERT_EQ(SSL_write(peer_, "pong", 4), 4);
  ASSERT_TRUE(rec_.wait([&] { return rec_.data == "pong"; }));
  EXPECT_EQ(rec_.opened, 1);
  EXPECT_EQ(rec_.tls_version, "TLSv1.3");
  SSL_shutdown(peer_);
  ASSERT_TRUE(rec_.wait([&] { return rec_.closed == 1; }));
  EXPECT_EQ(rec_.end, ClientSocket::End::kPeerClosed);
  EXPECT_EQ(rec_.why, "closed by the peer (TLS close_notify)");
}

TEST_F(ClientSocketTest, TlsRefusesACertificateFromAnotherCa) {
  auto client = client_ctx(testing::make_cert("someone-else", 8).cert);
  ASSERT_TRUE(connect("127.0.0.1", client.get()));
  write("secret that must not leave");
  ASSERT_TRUE(accept_peer());
  EXPECT_FALSE(tls_accept(testing::make_cert("peer", 11)));
  ASSERT_TRUE(rec_.wait([&] { return rec_.closed == 1; }));
  EXPECT_EQ(rec_.opened, 0);
  EXPECT_EQ(rec_.end, ClientSocket::End::kTlsHandshake);
  EXPECT_NE(rec_.why.find("TLS handshake failed: certificate verify failed"), std::string::npos)
      << rec_.why;
}

TEST_F(ClientSocketTest, TlsRefusesACertificateForAnotherName) {
  // Trusted (its own CA), but it names only hooks.example: 127.0.0.1 is refused.
  PemPair named = testing::make_cert("named", 12, nullptr, "DNS:hooks.example");
  auto client = client_ctx(named.cert);
  ASSERT_TRUE(connect("127.0.0.1", client.get()));
  write("secret that must not leave");
  ASSERT_TRUE(accept_peer());
  EXPECT_FALSE(tls_accept(named));
  ASSERT_TRUE(rec_.wait([&] { return rec_.closed == 1; }));
  EXPECT_EQ(rec_.opened, 0);
  EXPECT_EQ(rec_.end, ClientSocket::End::kTlsHandshake);
  EXPECT_NE(rec_.why.find("IP address mismatch"), std::string::npos) << rec_.why;
}

TEST_F(ClientSocketTest, APeerThatClosesDuringTheHandshakeFailsIt) {
  auto client = client_ctx(testing::make_cert("any", 5).cert);
  ASSERT_TRUE(connect("127.0.0.1", client.get()));
  ASSERT_TRUE(accept_peer());
  EXPECT_GT(peer_read(1).size(), 0u);  // the ClientHello's first bytes
  ::close(peer_fd_);
  peer_fd_ = -1;
  ASSERT_TRUE(rec_.wait([&] { return rec_.closed == 1; }));
  EXPECT_EQ(rec_.opened, 0);
  EXPECT_EQ(rec_.end, ClientSocket::End::kTlsHandshake);
  EXPECT_EQ(rec_.why.rfind("TLS handshake failed: ", 0), 0u) << rec_.why;
}

TEST_F(ClientSocketTest, AnOwnerThatClosesInsideOnDataHearsNothingMore) {
  rec_.close_on_data = true;
  ASSERT_TRUE(connect("127.0.0.1", nullptr));
  ASSERT_TRUE(accept_peer());
  ASSERT_EQ(::send(peer_fd_, "x", 1, 0), 1);
  ASSERT_TRUE(rec_.wait([&] { return !rec_.data.empty(); }));
  ::shutdown(peer_fd_, SHUT_WR);
  EXPECT_EQ(peer_read(1), "");  // our side closed: EOF
  bool closed = false;
  on_loop([&] { closed = socket_->phase() == ClientSocket::Phase::kClosed; });
  EXPECT_TRUE(closed);
  EXPECT_EQ(rec_.closed, 0);
}

}  // namespace
}  // namespace herald::net
