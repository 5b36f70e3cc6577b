#include "herald/client/tls.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>

// The client's TLS session driven by bytes alone: a server SSL of OpenSSL's own on memory BIOs
// plays the other side, with a P-256 certificate made here (CN test, SAN 127.0.0.1 and
// localhost), so the handshake, verification, records cut anywhere and the close are all tested
// without a socket.

namespace herald::client {
namespace {

// A self-signed certificate and its key, written to a PEM file for --ca-file.
struct TestCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  std::string path;

  TestCert() {
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 0x7e57);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* san =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    X509_add_ext(cert, san, -1);
    X509_EXTENSION_free(san);
    X509_sign(cert, key, EVP_sha256());
    char tmpl[] = "/tmp/herald-client-tls-XXXXXX";
    int fd = mkstemp(tmpl);
    path = tmpl;
    FILE* f = fdopen(fd, "w");
    PEM_write_X509(f, cert);
    fclose(f);
  }
  ~TestCert() {
    X509_free(cert);
    EVP_PKEY_free(key);
    unlink(path.c_str());
  }
};

TestCert& test_cert() {
  static TestCert cert;
  return cert;
}

int select_http11(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
                  const unsigned char* in, unsigned int inlen, void* /*arg*/) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, kHttp11, sizeof(kHttp11), in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// OpenSSL's server side on two memory BIOs: bytes in from the client, bytes out to it.
class MemoryServer {
 public:
  explicit MemoryServer(int max_version = 0) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx_, test_cert().cert);
    SSL_CTX_use_PrivateKey(ctx_, test_cert().key);
    SSL_CTX_set_alpn_select_cb(ctx_, select_http11, nullptr);
    if (max_version != 0) {
      SSL_CTX_set_max_proto_version(ctx_, max_version);
    }
    ssl_ = SSL_new(ctx_);
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl_, in_, out_);
    SSL_set_accept_state(ssl_);
  }
  ~MemoryServer() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }

  void give(const std::string& bytes) {
    BIO_write(in_, bytes.data(), static_cast<int>(bytes.size()));
  }
  // Advances the handshake and returns what it wrote.
  std::string step() {
    SSL_do_handshake(ssl_);
    ERR_clear_error();
    return take();
  }
  std::string take() {
    std::string out;
    char buf[4096];
    int n;
    while ((n = BIO_read(out_, buf, sizeof(buf))) > 0) {
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  std::string read_plain() {
    std::string out;
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl_, buf, sizeof(buf))) > 0) {
      out.append(buf, static_cast<size_t>(n));
    }
    ERR_clear_error();
    return out;
  }
  std::string write_plain(const std::string& text) {
    SSL_write(ssl_, text.data(), static_cast<int>(text.size()));
    return take();
  }
  std::string close_notify() {
    SSL_shutdown(ssl_);
    ERR_clear_error();
    return take();
  }
  bool done() const { return SSL_is_init_finished(ssl_) == 1; }

 private:
  SSL_CTX* ctx_;
  SSL* ssl_;
  BIO* in_;
  BIO* out_;
};

std::shared_ptr<const TlsClientContext> context(TlsOptions options) {
  auto ctx = TlsClientContext::create(options);
  EXPECT_TRUE(ctx.ok()) << (ctx.ok() ? "" : ctx.error());
  return ctx.ok() ? *ctx : nullptr;
}

std::shared_ptr<const TlsClientContext> trusting_context() {
  TlsOptions o;
  o.ca_file = test_cert().path;
  return context(o);
}

// Runs the handshake to its end (or to a failure); returns the client's last status.
TlsClientSession::Status handshake(TlsClientSession& client, MemoryServer& server) {
  std::string to_server;
  std::string plain;
  auto status = client.start(to_server);
  for (int round = 0; round < 10 && status == TlsClientSession::Status::kOk; ++round) {
    server.give(to_server);
    to_server.clear();
    std::string to_client = server.step();
    if (client.handshake_done() && server.done() && to_client.empty()) {
      break;
    }
    status = client.feed(to_client, plain, to_server);
  }
  EXPECT_TRUE(plain.empty());
  server.give(to_server);  // the client's Finished, when the last flight was the server's
  server.step();
  return status;
}

TEST(TlsClient, HandshakeVerifiesTheAddressAndNegotiatesAlpn) {
  auto ctx = trusting_context();
  auto client = TlsClientSession::create(*ctx, "127.0.0.1", "http/1.1");
  ASSERT_NE(client, nullptr);
  MemoryServer server;
  EXPECT_EQ(handshake(*client, server), TlsClientSession::Status::kOk) << client->error();
  EXPECT_TRUE(client->handshake_done());
  EXPECT_TRUE(server.done());
  EXPECT_EQ(client->alpn_selected(), "http/1.1");
  // The browsers' order: a server without a preference of its own picks AES-128-GCM.
  EXPECT_EQ(client->version(), "TLSv1.3");
  EXPECT_EQ(client->cipher(), "TLS_AES_128_GCM_SHA256");
}

TEST(TlsClient, HandshakeVerifiesAName) {
  auto ctx = trusting_context();
  auto client = TlsClientSession::create(*ctx, "localhost", "");
  MemoryServer server;
  EXPECT_EQ(handshake(*client, server), TlsClientSession::Status::kOk) << client->error();
  EXPECT_EQ(client->alpn_selected(), "");
}

TEST(TlsClient, TlsTwelveToo) {
  auto ctx = trusting_context();
  auto client = TlsClientSession::create(*ctx, "localhost", "");
  MemoryServer server(TLS1_2_VERSION);
  EXPECT_EQ(handshake(*client, server), TlsClientSession::Status::kOk) << client->error();
  EXPECT_TRUE(client->handshake_done());
}

TEST(TlsClient, AnUntrustedCertificateFailsTheHandshake) {
  TlsOptions o;
  o.ca_file = "/etc/ssl/certs/ca-certificates.crt";  // real CAs, none of which signed ours
  if (access(o.ca_file.c_str(), R_OK) != 0) {
    o.ca_file.clear();  // the system's default paths
  }
  auto ctx = context(o);
  auto client = TlsClientSession::create(*ctx, "127.0.0.1", "");
  MemoryServer server;
  EXPECT_EQ(handshake(*client, server), TlsClientSession::Status::kError);
  EXPECT_FALSE(client->handshake_done());
  EXPECT_EQ(client->error(), "certificate verify failed: self-signed certificate");
}

TEST(TlsClient, AHostTheCertificateDoesNotNameFailsTheHandshake) {
  auto ctx = trusting_context();
  for (const char* host : {"example.com", "127.0.0.2", "localhost.example"}) {
    auto client = TlsClientSession::create(*ctx, host, "");
    MemoryServer server;
    EXPECT_EQ(handshake(*client, server), TlsClientSession::Status::kError) << host;
    EXPECT_NE(client->error().find("certificate verify failed"), std::string::npos)
        << host << ": " << client->error();
  }
}

TEST(TlsClient, WithoutVerificationAnyCertificateIsAccepted) {
  TlsOptions o;
  o.verify = false;
  auto ctx = context(o);
  auto client = TlsClientSession::create(*ctx, "example.com", "");
  MemoryServer server;
  EXPECT_EQ(handshake(*client, server), TlsClientSession::Status::kOk) << client->error();
  EXPECT_TRUE(client->handshake_done());
}

TEST(TlsClient, RecordsCutAnywhereComeOutWhole) {
  auto ctx = trusting_context();
  auto client = TlsClientSession::create(*ctx, "localhost", "");
  MemoryServer server;
  ASSERT_EQ(handshake(*client, server), TlsClientSession::Status::kOk);

  // Client to server.
  std::string to_server;
  ASSERT_EQ(client->encrypt("{\"id\":1,\"method\":\"connect\"}\n", to_server),
            TlsClientSession::Status::kOk);
  server.give(to_server);
  EXPECT_EQ(server.read_plain(), "{\"id\":1,\"method\":\"connect\"}\n");

  // Server to client: 100 KiB in several records, fed whole, byte by byte, in random pieces.
  std::string text;
  for (int i = 0; text.size() < 100 * 1024; ++i) {
    text += "{\"push\":\"message\",\"offset\":" + std::to_string(i) + "}\n";
  }
  std::string cipher = server.write_plain(text);
  std::mt19937 rng(7);
  for (int way = 0; way < 3; ++way) {
    std::string plain;
    std::string out;
    size_t at = 0;
    while (at < cipher.size()) {
      size_t n = way == 0 ? cipher.size() : way == 1 ? 1 : 1 + rng() % 3000;
      n = std::min(n, cipher.size() - at);
      ASSERT_EQ(client->feed(std::string_view(cipher).substr(at, n), plain, out),
                TlsClientSession::Status::kOk);
      at += n;
    }
    EXPECT_EQ(plain, text) << "way " << way;
    if (way < 2) {
      cipher = server.write_plain(text);
    }
  }
}

TEST(TlsClient, CloseNotifyBothWays) {
  auto ctx = trusting_context();
  auto client = TlsClientSession::create(*ctx, "localhost", "");
  MemoryServer server;
  ASSERT_EQ(handshake(*client, server), TlsClientSession::Status::kOk);
  std::string plain;
  std::string out;
  std::string last = server.write_plain("bye\n");
  last += server.close_notify();
  EXPECT_EQ(client->feed(last, plain, out), TlsClientSession::Status::kClosed);
  EXPECT_EQ(plain, "bye\n");
  std::string notify;
  client->close_notify(notify);
  EXPECT_FALSE(notify.empty());
  std::string again;
  client->close_notify(again);
  EXPECT_TRUE(again.empty()) << "close_notify is sent once";
}

TEST(TlsClient, GarbageFromTheServerIsAnErrorNotACrash) {
  auto ctx = trusting_context();
  for (const std::string& garbage :
       {std::string("HTTP/1.1 400 Bad Request\r\n\r\n"), std::string(64, '\0'),
        std::string("\x16\x03\x03\xff\xff", 5) + std::string(70000, 'x')}) {
    auto client = TlsClientSession::create(*ctx, "localhost", "");
    std::string out;
    std::string plain;
    ASSERT_EQ(client->start(out), TlsClientSession::Status::kOk);
    EXPECT_EQ(client->feed(garbage, plain, out), TlsClientSession::Status::kError);
    EXPECT_FALSE(client->error().empty());
    EXPECT_EQ(client->feed("more", plain, out), TlsClientSession::Status::kError);
    EXPECT_EQ(client->encrypt("x", out), TlsClientSession::Status::kError);
  }
}

TEST(TlsClient, EncryptBeforeTheHandshakeIsRefused) {
  auto ctx = trusting_context();
  auto client = TlsClientSession::create(*ctx, "localhost", "");
  std::string out;
  EXPECT_EQ(client->encrypt("early", out), TlsClientSession::Status::kError);
}

TEST(TlsClient, ABadCaFileIsOneClearError) {
  TlsOptions o;
  o.ca_file = "/nonexistent/ca.pem";
  auto ctx = TlsClientContext::create(o);
  ASSERT_FALSE(ctx.ok());
  EXPECT_NE(ctx.error().find("/nonexistent/ca.pem"), std::string::npos) << ctx.error();
}

}  // namespace
}  // namespace herald::client
