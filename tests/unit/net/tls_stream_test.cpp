#include "net/stream.h"
// TLS through the event loop: a Stream started with a TlsContext on one end of a socketpair, an
// ordinary blocking OpenSSL client on the other end, in the test thread.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "net/tls_context.h"
#include "net/tls_session.h"
#include "tls_test_util.h"
#include "run_on.h"

namespace herald::net {
namespace {

using testing::ClientCtx;
using testing::PemPair;
using testing::TempDir;

struct Record {
  std::mutex mutex;
  std::string received;
  std::atomic<bool> closed{false};
  std::atomic<int> reason{-1};
  std::atomic<int> handshakes{0};
  std::atomic<bool> handshake_pending_at_close{false};
  bool echo = false;
};

class TlsTestStream : public Stream {
 public:
  TlsTestStream(EventLoop& loop, int fd, size_t cap, Record& rec)
      : Stream(loop, fd, cap), rec_(rec) {}

 protected:
  size_t on_data(uint8_t* data, size_t size) override {
    std::lock_guard<std::mutex> lock(rec_.mutex);
    rec_.received.append(reinterpret_cast<char*>(data), size);
    if (rec_.echo) {
      write_copy(std::string_view(reinterpret_cast<char*>(data), size));
    }
    return size;
  }
  void on_closed(CloseReason reason) override {
    rec_.handshake_pending_at_close = tls_handshake_pending();
    rec_.reason = static_cast<int>(reason);
    rec_.closed = true;
  }
  void on_tls_handshake() override { ++rec_.handshakes; }

 private:
  Record& rec_;
};

class TlsStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pair_ = testing::make_cert("stream-test", 99);
    auto ctx = TlsContext::load(dir_.write("c.pem", pair_.cert), dir_.write("k.pem", pair_.key));
    ASSERT_TRUE(ctx.ok()) << ctx.error();
    tls_ = *ctx;
    ASSERT_TRUE(loop_.init().ok());
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    ours_ = fds[0];
    peer_ = fds[1];
    // The client end blocks, with a bound on every read and write so a failing test ends.
    fcntl(peer_, F_SETFL, fcntl(peer_, F_GETFL) & ~O_NONBLOCK);
    timeval tv{5, 0};
    setsockopt(peer_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(peer_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    thread_ = std::thread([this] { loop_.run(); });
  }
  void TearDown() override {
    if (stream_ != nullptr && !rec_.closed) {
      on_loop([&] { stream_->abort(); });
    }
    loop_.stop();
    thread_.join();
    if (client_ != nullptr) {
      SSL_free(client_);
    }
    if (peer_ >= 0) {
      ::close(peer_);
    }
  }

  // Runs fn on the loop thread and waits for it.
  template <typename Fn>
  void on_loop(Fn fn) {
    testing::run_on(loop_, fn);
  }

  TlsTestStream* make(size_t cap) {
    TlsTestStream* s = nullptr;
    on_loop([&] {
      s = new TlsTestStream(loop_, ours_, cap, rec_);
      ASSERT_TRUE(s->start(tls_.get()));
      EXPECT_TRUE(s->is_tls());
      EXPECT_TRUE(s->tls_handshake_pending());
    });
    stream_ = s;
    return s;
  }

  // Connects the client; true when the handshake succeeded.
  bool connect(SSL_CTX* cctx, const char* alpn = "\x08http/1.1") {
    client_ = SSL_new(cctx);
    SSL_set_fd(client_, peer_);
    SSL_set1_host(client_, "localhost");
    if (alpn != nullptr) {
      SSL_set_alpn_protos(client_, reinterpret_cast<const unsigned char*>(alpn),
                          static_cast<unsigned>(std::char_traits<char>::length(alpn)));
    }
    bool ok = SSL_connect(client_) == 1;
    ERR_clear_error();
    return ok;
  }

  void client_write(std::string_view bytes) {
    ASSERT_EQ(SSL_write(client_, bytes.data(), static_cast<int>(bytes.size())),
              static_cast<int>(bytes.size()));
  }

  // Reads until n bytes, close_notify, EOF or the 5 s socket timeout.
  std::string client_read(size_t n, int* last_error = nullptr) {
    std::string out;
    char buf[65536];
    while (out.size() < n) {
      int r = SSL_read(client_, buf, sizeof(buf));
      if (r <= 0) {
        if (last_error != nullptr) {
          *last_error = SSL_get_error(client_, r);
        }
        ERR_clear_error();
        break;
      }
      out.append(buf, static_cast<size_t>(r));
    }
    return out;
  }

  template <typename Pred>
  bool wait_for(Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  std::string received() {
    std::lock_guard<std::mutex> lock(rec_.mutex);
    return rec_.received;
  }

  EventLoop loop_{0};
  std::thread thread_;
  TempDir dir_;
  PemPair pair_;
  std::shared_ptr<const TlsContext> tls_;
  int ours_ = -1;
  int peer_ = -1;
  SSL* client_ = nullptr;
  TlsTestStream* stream_ = nullptr;
  Record rec_;
};

TEST_F(TlsStreamTest, HandshakeInTheLoopThenEcho) {
  rec_.echo = true;
  make(1 << 20);
  ClientCtx cctx = testing::client_ctx(pair_.cert);
  ASSERT_TRUE(connect(cctx.get()));
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(client_, &alpn, &alpn_len);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(alpn), alpn_len), "http/1.1");
  client_write("hello over tls");
  EXPECT_EQ(client_read(14), "hello over tls");
  EXPECT_EQ(rec_.handshakes.load(), 1);
  bool pending = true;
  on_loop([&] { pending = stream_->tls_handshake_pending(); });
  EXPECT_FALSE(pending);
}

TEST_F(TlsStreamTest, SharedAndCopiedWritesArriveInOrderInFewRecords) {
  TlsTestStream* s = make(1 << 20);
  ClientCtx cctx = testing::client_ctx(pair_.cert);
  std::atomic<int> app_records{0};
  SSL_CTX_set_msg_callback(cctx.get(), [](int write_p, int, int content_type, const void* buf,
                                          size_t len, SSL*, void* arg) {
    // TLS 1.3 reports each record's inner content type: count the application-data ones.
    if (write_p == 0 && content_type == SSL3_RT_INNER_CONTENT_TYPE && len == 1 &&
        static_cast<const uint8_t*>(buf)[0] == SSL3_RT_APPLICATION_DATA) {
      ++*static_cast<std::atomic<int>*>(arg);
    }
  });
  SSL_CTX_set_msg_callback_arg(cctx.get(), &app_records);
  ASSERT_TRUE(connect(cctx.get()));
  SharedBuffer shared = make_shared_buffer(std::string("[one frame for many clients]"));
  std::string expected;
  on_loop([&] {
    for (int i = 0; i < 1000; ++i) {
      std::string mine = "<" + std::to_string(i) + ">";
      ASSERT_TRUE(s->write_copy(mine));
      expected += mine;
      if (i % 3 == 0) {
        ASSERT_TRUE(s->write(shared));
        expected += *shared;
      }
    }
  });
  EXPECT_EQ(client_read(expected.size()), expected);
  int full_records = static_cast<int>((expected.size() + 16383) / 16384);
  // 1,334 writes in one turn, gathered into full 16 KiB records (the TLS 1.3 tickets are
  // handshake records inside, not counted).
  EXPECT_EQ(app_records.load(), full_records) << expected.size() << " bytes";
  EXPECT_TRUE(wait_for([&] { return shared.use_count() == 1; })) << "queue released its refs";
}

TEST_F(TlsStreamTest, WritesQueuedBeforeTheHandshakeFollowIt) {
  TlsTestStream* s = make(1 << 20);
  on_loop([&] { ASSERT_TRUE(s->write_copy("queued early")); });
  ClientCtx cctx = testing::client_ctx(pair_.cert);
  ASSERT_TRUE(connect(cctx.get()));
  EXPECT_EQ(client_read(12), "queued early");
}

TEST_F(TlsStreamTest, LargeWriteSurvivesPartialSends) {
  TlsTestStream* s = make(64 << 20);
  ClientCtx cctx = testing::client_ctx(pair_.cert);
  ASSERT_TRUE(connect(cctx.get()));
  std::string big(8 << 20, 'q');
  for (size_t i = 0; i < big.size(); i += 4096) {
    big[i] = static_cast<char>('a' + (i / 4096) % 26);
  }
  SharedBuffer shared = make_shared_buffer(big.substr(100));
  on_loop([&] {
    ASSERT_TRUE(s->write_copy(big.substr(0, 100)));
    ASSERT_TRUE(s->write(shared));
  });
  EXPECT_EQ(client_read(big.size()), big);  // the socket buffer forces many partial sends
  bool drained = false;
  EXPECT_TRUE(wait_for([&] {
    on_loop([&] { drained = s->buffered_bytes() == 0; });
    return drained;
  })) << "queued_bytes_ returns to zero: ciphertext and plaintext accounted alike";
}

TEST_F(TlsStreamTest, SlowReaderIsClosedAtItsCap) {
  TlsTestStream* s = make(256 * 1024);
  ClientCtx cctx = testing::client_ctx(pair_.cert);
  ASSERT_TRUE(connect(cctx.get()));
  bool refused = false;
  on_loop([&] {
    for (int i = 0; i < 8192 && !refused; ++i) {
      refused = !s->write(std::string(1024, 'y'));
    }
  });
  EXPECT_TRUE(refused);
  ASSERT_TRUE(wait_for([&] { return rec_.closed.load(); }));
  EXPECT_EQ(rec_.reason.load(), static_cast<int>(CloseReason::kOutputLimit));
}

TEST_F(TlsStreamTest, CloseAfterFlushSendsDataThenCloseNotify) {
  TlsTestStream* s = make(1 << 20);
  ClientCtx cctx = testing::client_ctx(pair_.cert);
  ASSERT_TRUE(connect(cctx.get()));
  on_loop([&] {
    s->write(std::string(100000, 'z'));
    s->close_after_flush();
  });
  int err = 0;
  std::string got = client_read(200000, &err);
  EXPECT_EQ(got.size(), 100000u);
  EXPECT_EQ(err, SSL_ERROR_ZERO_RETURN) << "close_notify, not a bare EOF";
  EXPECT_FALSE(rec_.closed.load()) << "lingers until the peer closes too";
  SSL_shutdown(client_);
  ::shutdown(peer_, SHUT_WR);
  ASSERT_TRUE(wait_for([&] { return rec_.closed.load(); }));
}

TEST_F(TlsStreamTest, PlainHttpInsteadOfAClientHelloIsATlsError) {
  make(1 << 20);
  const char kRequest[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::write(peer_, kRequest, sizeof(kRequest) - 1),
            static_cast<ssize_t>(sizeof(kRequest) - 1));
  ASSERT_TRUE(wait_for([&] { return rec_.closed.load(); }));
  EXPECT_EQ(rec_.reason.load(), static_cast<int>(CloseReason::kTlsError));
  EXPECT_TRUE(rec_.handshake_pending_at_close.load());
  EXPECT_EQ(rec_.handshakes.load(), 0);
  EXPECT_EQ(received(), "") << "nothing reaches on_data()";
  char buf[256];
  ssize_t n = 0;
  while ((n = ::read(peer_, buf, sizeof(buf))) > 0) {
  }
  EXPECT_EQ(n, 0) << "then EOF";
}

TEST_F(TlsStreamTest, Tls11ClientIsRefused) {
  make(1 << 20);
  ClientCtx cctx = testing::client_ctx(pair_.cert, TLS1_1_VERSION);
  EXPECT_FALSE(connect(cctx.get()));
  ASSERT_TRUE(wait_for([&] { return rec_.closed.load(); }));
  EXPECT_EQ(rec_.reason.load(), static_cast<int>(CloseReason::kTlsError));
  EXPECT_TRUE(rec_.handshake_pending_at_close.load());
}

TEST_F(TlsStreamTest, ClientCloseNotifyIsAPeerClose) {
  make(1 << 20);
  ClientCtx cctx = testing::client_ctx(pair_.cert);
  ASSERT_TRUE(connect(cctx.get()));
  client_write("bye");
  SSL_shutdown(client_);
  ASSERT_TRUE(wait_for([&] { return rec_.closed.load(); }));
  EXPECT_EQ(rec_.reason.load(), static_cast<int>(CloseReason::kPeerClosed));
  EXPECT_EQ(received(), "bye");
}

}  // namespace
}  // namespace herald::net
