#include "net/tls_context.h"

#include <gtest/gtest.h>

#include <string>

#include "tls_test_util.h"

namespace herald::net {
namespace {

using testing::make_cert;
using testing::PemPair;
using testing::TempDir;

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pair_ = make_cert("herald-test", 0x1234);
    cert_ = dir_.write("cert.pem", pair_.cert);
    key_ = dir_.write("key.pem", pair_.key);
  }

  // Loads and expects an error, which must be one line.
  std::string load_error(const std::string& cert, const std::string& key) {
    auto r = TlsContext::load(cert, key);
    EXPECT_FALSE(r.ok()) << "loaded " << cert << " + " << key;
    if (r.ok()) {
      return {};
    }
    EXPECT_EQ(r.error().find('\n'), std::string::npos) << "one line: " << r.error();
    EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL's error queue is left empty";
    return r.error();
  }

  TempDir dir_;
  PemPair pair_;
  std::string cert_;
  std::string key_;
};

TEST_F(TlsContextTest, LoadsAPairAndDescribesItsCertificate) {
  auto r = TlsContext::load(cert_, key_);
  ASSERT_TRUE(r.ok()) << r.error();
  const std::string& d = (*r)->description();
  EXPECT_NE(d.find("CN=herald-test"), std::string::npos) << d;
  EXPECT_NE(d.find("serial 1234"), std::string::npos) << d;
  EXPECT_NE(d.find("not after "), std::string::npos) << d;
  EXPECT_EQ(SSL_CTX_get_min_proto_version((*r)->native()), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_max_proto_version((*r)->native()), TLS1_3_VERSION);
}

TEST_F(TlsContextTest, CertAndKeyInOneFileLoad) {
  std::string both = dir_.write("both.pem", pair_.key + pair_.cert);
  auto r = TlsContext::load(both, both);
  EXPECT_TRUE(r.ok()) << r.error();
}

TEST_F(TlsContextTest, ChainWithAnIntermediateLoads) {
  PemPair other = make_cert("intermediate", 7);
  std::string chain = dir_.write("chain.pem", pair_.cert + other.cert);
  auto r = TlsContext::load(chain, key_);
  ASSERT_TRUE(r.ok()) << r.error();
  STACK_OF(X509)* extra = nullptr;
  SSL_CTX_get0_chain_certs((*r)->native(), &extra);
  EXPECT_EQ(extra == nullptr ? 0 : sk_X509_num(extra), 1);
}

TEST_F(TlsContextTest, MissingCertificateFileIsNamed) {
  std::string missing = dir_.path("nope.pem");
  EXPECT_EQ(load_error(missing, key_), "tls_cert " + missing + ": No such file or directory");
}

TEST_F(TlsContextTest, MissingKeyFileIsNamed) {
  std::string missing = dir_.path("nope.key");
  EXPECT_EQ(load_error(cert_, missing), "tls_key " + missing + ": No such file or directory");
}

TEST_F(TlsContextTest, DirectoryInsteadOfAFile) {
  std::string d = dir_.path("");
  std::string e = load_error(d, key_);
  EXPECT_EQ(e, "tls_cert " + d + ": Is a directory");
}

TEST_F(TlsContextTest, GarbageCertificate) {
  std::string bad = dir_.write("bad.pem", "this is not a certificate\n");
  std::string e = load_error(bad, key_);
  EXPECT_EQ(e, "tls_cert " + bad + ": no PEM certificate in it");
}

TEST_F(TlsContextTest, CorruptCertificateBlock) {
  std::string bad = dir_.write("corrupt.pem",
                               "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
                               "-----END CERTIFICATE-----\n");
  std::string e = load_error(bad, key_);
  EXPECT_EQ(e.rfind("tls_cert " + bad + ": unreadable certificate (", 0), 0u) << e;
}

TEST_F(TlsContextTest, CorruptKeyBlock) {
  std::string bad = dir_.write("corrupt.key",
                               "-----BEGIN PRIVATE KEY-----\nMIIEvAIBADANBgkqhkiG9w0BAQEFAASC\n"
                               "-----END PRIVATE KEY-----\n");
  std::string e = load_error(cert_, bad);
  EXPECT_EQ(e.rfind("tls_key " + bad + ": unreadable private key (", 0), 0u) << e;
}

TEST_F(TlsContextTest, EmptyCertificateFile) {
  std::string empty = dir_.write("empty.pem", "");
  std::string e = load_error(empty, key_);
  EXPECT_EQ(e.rfind("tls_cert " + empty + ": no PEM certificate in it", 0), 0u) << e;
}

TEST_F(TlsContextTest, CertificateGivenAsTheKey) {
  std::string e = load_error(cert_, cert_);
  EXPECT_EQ(e, "tls_key " + cert_ + ": no PEM private key in it");
}

TEST_F(TlsContextTest, KeyOfAnotherCertificate) {
  std::string other_key = dir_.write("other.key", make_cert("other", 2).key);
  EXPECT_EQ(load_error(cert_, other_key),
            "tls_key " + other_key + " does not match the certificate in tls_cert " + cert_);
}

TEST_F(TlsContextTest, EncryptedKeyIsRefusedWithoutPrompting) {
  PemPair locked = make_cert("locked", 3, "secret");
  std::string c = dir_.write("locked.pem", locked.cert);
  std::string k = dir_.write("locked.key", locked.key);
  std::string e = load_error(c, k);
  EXPECT_EQ(e.rfind("tls_key " + k + ": encrypted keys are not supported", 0), 0u) << e;
}

TEST_F(TlsContextTest, TruncatedChainCertificate) {
  std::string truncated = pair_.cert + "-----BEGIN CERTIFICATE-----\nMIIB\n";
  std::string c = dir_.write("trunc.pem", truncated);
  std::string e = load_error(c, key_);
  EXPECT_EQ(e.rfind("tls_cert " + c + ": bad certificate in the chain", 0), 0u) << e;
}

}  // namespace
}  // namespace herald::net
