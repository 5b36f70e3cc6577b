// The client side of TlsSession (create_client) with a client TlsContext (load_client), against
// the server side, both driven with bytes in one thread: what a rediss:// connection relies on.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/tls_context.h"
#include "net/tls_session.h"
#include "tls_test_util.h"

namespace herald::net {
namespace {

using testing::PemPair;
using testing::TempDir;

class TlsSessionClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_pair_ = testing::make_cert("redis-test", 7);  // SAN IP:127.0.0.1, DNS:localhost
    auto ctx = TlsContext::load(dir_.write("s.pem", server_pair_.cert),
                                dir_.write("s.key", server_pair_.key));
    ASSERT_TRUE(ctx.ok()) << ctx.error();
    server_ctx_ = *ctx;
  }

  std::shared_ptr<const TlsContext> client_ctx(const std::string& ca_pem) {
    TlsContext::ClientFiles files;
    files.ca_file = dir_.write("ca.pem", ca_pem);
    files.setting_prefix = "redis_";
    auto ctx = TlsContext::load_client(files);
    EXPECT_TRUE(ctx.ok()) << ctx.error();
    return ctx.ok() ? *ctx : nullptr;
  }

  // Moves bytes both ways until neither side has any to send; the client's last status.
  TlsSession::Status run(TlsSession& client, TlsSession& server, std::string* plain = nullptr) {
    std::vector<uint8_t> out(4096);
    TlsSession::Status last = client.read(out.data(), 0).status;  // the ClientHello
    for (int round = 0; round < 20; ++round) {
      std::string to_server(client.output());
      client.consume_output(to_server.size());
      if (!to_server.empty()) {
        server.give_input(reinterpret_cast<const uint8_t*>(to_server.data()), to_server.size());
        server.read(out.data(), out.size());
      }
      std::string to_client(server.output());
      server.consume_output(to_client.size());
      if (to_server.empty() && to_client.empty()) {
        break;
      }
      client.give_input(reinterpret_cast<const uint8_t*>(to_client.data()), to_client.size());
      TlsSession::ReadResult r = client.read(out.data(), out.size());
      if (plain != nullptr) {
        plain->append(reinterpret_cast<char*>(out.data()), r.bytes);
      }
      last = r.status;
      if (last == TlsSession::Status::kError) {
        break;
      }
    }
    return last;
  }

  TempDir dir_;
  PemPair server_pair_;
  std::shared_ptr<const TlsContext> server_ctx_;
  EventLoop loop_{0};
};

TEST_F(TlsSessionClientTest, VerifiesTheServerAgainstTheCaAndTheName) {
  for (const char* host : {"localhost", "127.0.0.1"}) {
    auto ctx = client_ctx(server_pair_.cert);  // self-signed: its own CA
    auto client = TlsSession::create_client(*ctx, loop_, host);
    auto server = TlsSession::create(*server_ctx_, loop_);
    ASSERT_NE(client, nullptr);
    EXPECT_EQ(run(*client, *server), TlsSession::Status::kWantRead) << host;
    EXPECT_TRUE(client->handshake_done()) << host << ": " << client->failure();
    EXPECT_TRUE(server->handshake_done()) << host;
    // Application data both ways once connected.
    std::string ping = "*1\r\n$4\r\nPING\r\n";
    iovec piece{ping.data(), ping.size()};
    client->encrypt(&piece, 1, ping.size());
    client->finish_records();
    std::string wire(client->output());
    client->consume_output(wire.size());
    server->give_input(reinterpret_cast<const uint8_t*>(wire.data()), wire.size());
    std::vector<uint8_t> out(100);
    auto r = server->read(out.data(), out.size());
    EXPECT_EQ(std::string(reinterpret_cast<char*>(out.data()), r.bytes), ping);
  }
}

TEST_F(TlsSessionClientTest, RefusesAnotherCa) {
  auto ctx = client_ctx(testing::make_cert("someone-else", 8).cert);
  auto client = TlsSession::create_client(*ctx, loop_, "localhost");
  auto server = TlsSession::create(*server_ctx_, loop_);
  EXPECT_EQ(run(*client, *server), TlsSession::Status::kError);
  EXPECT_FALSE(client->handshake_done());
  EXPECT_NE(client->failure().find("certificate verify failed"), std::string::npos)
      << client->failure();
}

TEST_F(TlsSessionClientTest, RefusesACertificateForAnotherName) {
  for (const char* host : {"redis.example.com", "127.0.0.2"}) {
    auto ctx = client_ctx(server_pair_.cert);
    auto client = TlsSession::create_client(*ctx, loop_, host);
    auto server = TlsSession::create(*server_ctx_, loop_);
    EXPECT_EQ(run(*client, *server), TlsSession::Status::kError) << host;
    EXPECT_NE(client->failure().find("mismatch"), std::string::npos) << client->failure();
  }
}

TEST_F(TlsSessionClientTest, LoadErrorsNameTheSetting) {
  TlsContext::ClientFiles files;
  files.setting_prefix = "redis_";
  files.ca_file = dir_.path("missing.pem");
  auto r = TlsContext::load_client(files);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "redis_tls_ca " + files.ca_file + ": No such file or directory");

  files.ca_file = dir_.write("empty.pem", "not a certificate\n");
  r = TlsContext::load_client(files);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "redis_tls_ca " + files.ca_file + ": no PEM certificate in it");

  files.ca_file = dir_.write("ca.pem", server_pair_.cert);
  files.cert_file = dir_.write("client.pem", server_pair_.cert);
  r = TlsContext::load_client(files);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("redis_tls_cert and redis_tls_key go together"), std::string::npos);

  PemPair other = testing::make_cert("other", 9);
  files.key_file = dir_.write("client.key", other.key);
  r = TlsContext::load_client(files);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("does not match the certificate in redis_tls_cert"), std::string::npos)
      << r.error();

  files.key_file = dir_.write("client.key", server_pair_.key);
  r = TlsContext::load_client(files);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_NE((*r)->description().find("client certificate subject CN=redis-test"), std::string::npos)
      << (*r)->description();
}

}  // namespace
}  // namespace herald::net
