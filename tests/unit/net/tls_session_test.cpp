#include "net/tls_session.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tls_test_util.h"

namespace herald::net {
namespace {

using testing::ClientCtx;
using testing::PemPair;
using testing::TempDir;

// An OpenSSL client on memory BIOs: what it writes is collected, what the server sends is given
// to it. Together with TlsSession, a whole connection runs in one thread with no socket.
class MemClient {
 public:
  MemClient(SSL_CTX* ctx, const char* alpn_wire, size_t alpn_len) : ssl_(SSL_new(ctx)) {
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in_, -1);  // empty means "wait", not EOF
    SSL_set_bio(ssl_, in_, out_);
    SSL_set_connect_state(ssl_);
    if (alpn_wire != nullptr) {
      SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(alpn_wire),
                          static_cast<unsigned>(alpn_len));
    }
  }
  ~MemClient() { SSL_free(ssl_); }

  std::string take_output() {
    std::string s = testing::bio_to_string(out_);
    (void)BIO_reset(out_);
    return s;
  }
  void give(std::string_view bytes) {
    BIO_write(in_, bytes.data(), static_cast<int>(bytes.size()));
  }
  SSL* ssl() { return ssl_; }

 private:
  SSL* ssl_;
  BIO* in_;
  BIO* out_;
};

class TlsSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pair_ = testing::make_cert("session-test", 42);
    auto ctx = TlsContext::load(dir_.write("c.pem", pair_.cert), dir_.write("k.pem", pair_.key));
    ASSERT_TRUE(ctx.ok()) << ctx.error();
    server_ctx_ = *ctx;
    session_ = TlsSession::create(*server_ctx_, loop_);
    ASSERT_NE(session_, nullptr);
  }

  // Feeds the client's bytes to the server chunk bytes at a time, collecting plaintext; the
  // last status is returned.
  TlsSession::Status feed(const std::string& bytes, size_t chunk, std::string& plain) {
    TlsSession::Status last = TlsSession::Status::kWantRead;
    std::vector<uint8_t> out(1000);  // small on purpose: read() is called again for the rest
    for (size_t i = 0; i < bytes.size(); i += chunk) {
      size_t n = std::min(chunk, bytes.size() - i);
      session_->give_input(reinterpret_cast<const uint8_t*>(bytes.data()) + i, n);
      for (;;) {
        TlsSession::ReadResult r = session_->read(out.data(), out.size());
        plain.append(reinterpret_cast<char*>(out.data()), r.bytes);
        last = r.status;
        if (r.status != TlsSession::Status::kOk) {
          break;
        }
      }
      if (last == TlsSession::Status::kError || last == TlsSession::Status::kClosed) {
        return last;
      }
    }
    return last;
  }

  // Moves the server's output to the client.
  void deliver_to_client(MemClient& c) {
    c.give(session_->output());
    session_->consume_output(session_->output_size());
  }

  // Runs the handshake to the end, feeding the server chunk bytes at a time.
  void handshake(MemClient& c, size_t chunk) {
    std::string plain;
    for (int round = 0;
         round < 10 && !(session_->handshake_done() && SSL_is_init_finished(c.ssl())); ++round) {
      int rc = SSL_do_handshake(c.ssl());
      if (rc != 1) {
        ASSERT_EQ(SSL_get_error(c.ssl(), rc), SSL_ERROR_WANT_READ);
      }
      ASSERT_NE(feed(c.take_output(), chunk, plain), TlsSession::Status::kError)
          << session_->error_reason();
      deliver_to_client(c);
    }
    ASSERT_TRUE(session_->handshake_done());
    ASSERT_TRUE(SSL_is_init_finished(c.ssl()));
    EXPECT_EQ(plain, "");
  }

  std::string client_read(MemClient& c) {
    std::string got;
    char buf[65536];
    for (;;) {
      int n = SSL_read(c.ssl(), buf, sizeof(buf));
      if (n <= 0) {
        break;
      }
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }

  // Application-data records in a stream of TLS records.
  static int count_records(std::string_view wire) {
    int records = 0;
    size_t i = 0;
    while (i + 5 <= wire.size()) {
      size_t len = (static_cast<uint8_t>(wire[i + 3]) << 8) | static_cast<uint8_t>(wire[i + 4]);
      if (wire[i] == 23) {
        ++records;
      }
      i += 5 + len;
    }
    EXPECT_EQ(i, wire.size()) << "whole records";
    return records;
  }

  EventLoop loop_{0};
  TempDir dir_;
  PemPair pair_;
  std::shared_ptr<const TlsContext> server_ctx_;
  std::unique_ptr<TlsSession> session_;
};

constexpr char kAlpnBoth[] = "\x02h2\x08http/1.1";
constexpr char kAlpnH2[] = "\x02h2";

TEST_F(TlsSessionTest, HandshakeFedOneByteAtATimeThenDataBothWays) {
  ClientCtx cctx = testing::client_ctx(pair_.cert);
  MemClient c(cctx.get(), kAlpnBoth, sizeof(kAlpnBoth) - 1);
  handshake(c, 1);
  EXPECT_EQ(session_->alpn(), "http/1.1");
  EXPECT_STREQ(session_->version(), "TLSv1.3");

  ASSERT_EQ(SSL_write(c.ssl(), "GET / HTTP/1.1\r\n\r\n", 18), 18);
  std::string plain;
  EXPECT_EQ(feed(c.take_output(), 1, plain), TlsSession::Status::kWantRead);
  EXPECT_EQ(plain, "GET / HTTP/1.1\r\n\r\n");

  std::string reply = "HTTP/1.1 200 OK\r\n\r\n";
  iovec piece{reply.data(), reply.size()};
  EXPECT_EQ(session_->encrypt(&piece, 1, 1 << 20), reply.size());
  EXPECT_EQ(session_->output_size(), 0u) << "a partial record waits for finish_records()";
  session_->finish_records();
  deliver_to_client(c);
  EXPECT_EQ(client_read(c), reply);
}

TEST_F(TlsSessionTest, Tls12HandshakeWorksToo) {
  ClientCtx cctx = testing::client_ctx(pair_.cert);
  SSL_CTX_set_max_proto_version(cctx.get(), TLS1_2_VERSION);
  MemClient c(cctx.get(), nullptr, 0);
  handshake(c, 7);
  EXPECT_STREQ(session_->version(), "TLSv1.2");
  EXPECT_EQ(session_->alpn(), "") << "no ALPN offered, none chosen";
  EXPECT_STREQ(SSL_get_cipher_name(c.ssl()), "ECDHE-ECDSA-AES128-GCM-SHA256");
}

TEST_F(TlsSessionTest, H2OnlyClientGetsNoApplicationProtocol) {
  ClientCtx cctx = testing::client_ctx(pair_.cert);
  MemClient c(cctx.get(), kAlpnH2, sizeof(kAlpnH2) - 1);
  ASSERT_EQ(SSL_do_handshake(c.ssl()), -1);
  std::string plain;
  EXPECT_EQ(feed(c.take_output(), 4096, plain), TlsSession::Status::kError);
  EXPECT_TRUE(session_->failed());
  EXPECT_STREQ(session_->error_reason(), "no application protocol");
  deliver_to_client(c);  // the alert
  EXPECT_NE(SSL_do_handshake(c.ssl()), 1);
  EXPECT_EQ(ERR_GET_REASON(ERR_peek_last_error()), SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL);
  ERR_clear_error();
}

TEST_F(TlsSessionTest, Tls11ClientIsRefused) {
  ClientCtx cctx = testing::client_ctx(pair_.cert, TLS1_1_VERSION);
  MemClient c(cctx.get(), nullptr, 0);
  ASSERT_EQ(SSL_do_handshake(c.ssl()), -1);
  std::string hello = c.take_output();
  ASSERT_FALSE(hello.empty()) << "the client must really offer TLS 1.1";
  std::string plain;
  EXPECT_EQ(feed(hello, 4096, plain), TlsSession::Status::kError);
  EXPECT_STREQ(session_->error_reason(), "unsupported protocol");
  EXPECT_GT(session_->output_size(), 0u) << "a protocol_version alert";
}

TEST_F(TlsSessionTest, GarbageInsteadOfAClientHello) {
  std::string plain;
  EXPECT_EQ(feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 5, plain), TlsSession::Status::kError);
  EXPECT_TRUE(session_->failed());
  EXPECT_FALSE(session_->handshake_done());
  EXPECT_EQ(ERR_peek_error(), 0u) << "the thread's error queue is left clean";
  // After a failure nothing more is decrypted or encrypted.
  uint8_t out[16];
  EXPECT_EQ(session_->read(out, sizeof(out)).status, TlsSession::Status::kError);
  EXPECT_FALSE(session_->close_notify());
}

TEST_F(TlsSessionTest, NothingIsEncryptedBeforeTheHandshake) {
  std::string data = "early";
  iovec piece{data.data(), data.size()};
  EXPECT_EQ(session_->encrypt(&piece, 1, 1 << 20), 0u);
  session_->finish_records();
  EXPECT_FALSE(session_->close_notify());
  EXPECT_EQ(session_->output_size(), 0u);
}

TEST_F(TlsSessionTest, SmallPiecesAreGatheredIntoFullRecords) {
  ClientCtx cctx = testing::client_ctx(pair_.cert);
  MemClient c(cctx.get(), nullptr, 0);
  handshake(c, 1000);
  std::vector<std::string> frames;
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    frames.push_back("frame " + std::to_string(i) + "\n");
    expected += frames.back();
  }
  std::vector<iovec> pieces;
  for (std::string& f : frames) {
    pieces.push_back(iovec{f.data(), f.size()});
  }
  // Handed over in gathers of 256 pieces, as a Stream does: records span the calls.
  size_t taken = 0;
  for (size_t i = 0; i < pieces.size(); i += 256) {
    int n = static_cast<int>(std::min<size_t>(256, pieces.size() - i));
    taken += session_->encrypt(pieces.data() + i, n, 1 << 20);
  }
  session_->finish_records();
  EXPECT_EQ(taken, expected.size());
  size_t records = (expected.size() + TlsSession::kMaxRecord - 1) / TlsSession::kMaxRecord;
  EXPECT_EQ(count_records(session_->output()), static_cast<int>(records))
      << expected.size() << " bytes of 2000 frames";
  deliver_to_client(c);
  EXPECT_EQ(client_read(c), expected);
}

TEST_F(TlsSessionTest, EncryptStopsAtMaxBytesAndResumesWhereItStopped) {
  ClientCtx cctx = testing::client_ctx(pair_.cert);
  MemClient c(cctx.get(), nullptr, 0);
  handshake(c, 1000);
  std::string big(100000, 'b');
  for (size_t i = 0; i < big.size(); i += 1000) {
    big[i] = static_cast<char>('A' + (i / 1000) % 26);
  }
  std::string small = "tail";
  const size_t kMax = 3 * TlsSession::kMaxRecord;
  size_t done = 0;
  std::string got;
  while (done < big.size() + small.size()) {
    std::vector<iovec> pieces;
    if (done < big.size()) {
      pieces.push_back(iovec{big.data() + done, big.size() - done});
      pieces.push_back(iovec{small.data(), small.size()});
    } else {
      size_t off = done - big.size();
      pieces.push_back(iovec{small.data() + off, small.size() - off});
    }
    size_t taken = session_->encrypt(pieces.data(), static_cast<int>(pieces.size()), kMax);
    session_->finish_records();
    ASSERT_GT(taken, 0u);
    ASSERT_LE(taken, kMax);
    // A large piece goes out in whole records straight from where it lies.
    EXPECT_EQ(count_records(session_->output()),
              static_cast<int>((taken + TlsSession::kMaxRecord - 1) / TlsSession::kMaxRecord));
    done += taken;
    deliver_to_client(c);
    got += client_read(c);
  }
  EXPECT_EQ(got, big + small);
}

TEST_F(TlsSessionTest, CloseNotifyBothWays) {
  ClientCtx cctx = testing::client_ctx(pair_.cert);
  MemClient c(cctx.get(), nullptr, 0);
  handshake(c, 1000);
  EXPECT_TRUE(session_->close_notify());
  EXPECT_FALSE(session_->close_notify()) << "once";
  deliver_to_client(c);
  char buf[16];
  EXPECT_EQ(SSL_read(c.ssl(), buf, sizeof(buf)), 0);
  EXPECT_EQ(SSL_get_error(c.ssl(), 0), SSL_ERROR_ZERO_RETURN);
  SSL_shutdown(c.ssl());
  std::string plain;
  EXPECT_EQ(feed(c.take_output(), 1000, plain), TlsSession::Status::kClosed);
}

TEST_F(TlsSessionTest, ASessionOutlivesItsContext) {
  // A reload drops the old TlsContext while its connections go on.
  server_ctx_.reset();
  ClientCtx cctx = testing::client_ctx(pair_.cert);
  MemClient c(cctx.get(), nullptr, 0);
  handshake(c, 100);
  ASSERT_EQ(SSL_write(c.ssl(), "still here", 10), 10);
  std::string plain;
  feed(c.take_output(), 100, plain);
  EXPECT_EQ(plain, "still here");
}

}  // namespace
}  // namespace herald::net
