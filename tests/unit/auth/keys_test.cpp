#include "auth/keys.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "auth/signature.h"
#include "key_test_util.h"

namespace herald::auth {
namespace {

using testing::b64u;
using testing::jwks;
using testing::p256;
using testing::p256_other;
using testing::rsa2048;
using testing::rsa2048_other;

const ParsedKeys* keys_of(const KeyParseResult& r) {
  if (const auto* f = std::get_if<KeyFailure>(&r)) {
    ADD_FAILURE() << "refused: " << to_string(f->error) << ": " << f->detail;
    return nullptr;
  }
  return &std::get<ParsedKeys>(r);
}

// A PEM block of arbitrary bytes under any label.
std::string pem_block(const char* label, std::string_view der) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio(bio, label, "", reinterpret_cast<const unsigned char*>(der.data()),
                static_cast<long>(der.size()));
  return testing::bio_text(bio);
}

// The DER inside the first PEM block of text.
std::string der_of(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long size = 0;
  PEM_read_bio(bio, &name, &header, &data, &size);
  std::string der(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  BIO_free(bio);
  return der;
}

// Each key serves exactly the algorithm of its type, and verifies what its private half signed.
void expect_verifies(const VerificationKey& key, const testing::TestKey& pair, Algorithm alg) {
  EXPECT_EQ(key.algorithm(), alg);
  std::string token = pair.signer().sign(R"({"sub":"1"})");
  size_t dot = token.rfind('.');
  std::string sig(base64url_decoded_max(token.size() - dot - 1), '\0');
  size_t size = 0;
  ASSERT_TRUE(base64url_decode(std::string_view(token).substr(dot + 1), sig.data(), size));
  sig.resize(size);
  EXPECT_TRUE(verify_signature(key, std::string_view(token).substr(0, dot), sig));
  EXPECT_FALSE(verify_signature(key, std::string_view(token).substr(0, dot - 1), sig));
}

TEST(PemKeys, EveryPublicKeyFormIsRead) {
  struct Case {
    const char* name;
    std::string pem;
    const testing::TestKey* pair;
    Algorithm alg;
  };
  const Case cases[] = {
      {"RSA SPKI", rsa2048().public_pem, &rsa2048(), Algorithm::kRs256},
      {"RSA PKCS#1", rsa2048().pkcs1_public_pem(), &rsa2048(), Algorithm::kRs256},
      {"RSA certificate", rsa2048().certificate_pem(), &rsa2048(), Algorithm::kRs256},
      {"P-256 SPKI", p256().public_pem, &p256(), Algorithm::kEs256},
      {"P-256 certificate", p256().certificate_pem(), &p256(), Algorithm::kEs256},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parse_pem_public_keys(c.pem);
    const ParsedKeys* keys = keys_of(r);
    ASSERT_NE(keys, nullptr);
    ASSERT_EQ(keys->keys.size(), 1u);
    EXPECT_TRUE(keys->keys[0].kid().empty());
    expect_verifies(keys->keys[0], *c.pair, c.alg);
  }
}

TEST(PemKeys, SeveralBlocksWithTextAroundThem) {
  std::string text =
      "rotation of 2024-05\n" + rsa2048().public_pem + "\nnext one:\n" +
      "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" +
      p256().public_pem + "trailing words\n";
  auto r = parse_pem_public_keys(text);
  const ParsedKeys* keys = keys_of(r);
  ASSERT_NE(keys, nullptr);
  ASSERT_EQ(keys->keys.size(), 2u);
  EXPECT_EQ(keys->keys[0].algorithm(), Algorithm::kRs256);
  EXPECT_EQ(keys->keys[1].algorithm(), Algorithm::kEs256);
  EXPECT_NE(keys->keys[0].id(), keys->keys[1].id());
  EXPECT_EQ(keys->keys[0].describe(), "RS256 (2048-bit RSA)");
  EXPECT_EQ(keys->keys[1].describe(), "ES256 (P-256)");
}

TEST(Jwks, RsaAndP256KeysWithTheirKids) {
  std::string text =
      jwks({rsa2048().jwk(R"("kid":"r1","use":"sig","alg":"RS256",)"), p256().jwk(R"("kid":"e1",)"),
            rsa2048_other().jwk(R"("kid":"r2","x5c":["MIIB"],"future":{"a":1},)")});
  auto r = parse_jwks(text);
  const ParsedKeys* keys = keys_of(r);
  ASSERT_NE(keys, nullptr);
  ASSERT_EQ(keys->keys.size(), 3u);
  EXPECT_EQ(keys->skipped, 0u);
  EXPECT_EQ(keys->keys[0].kid(), "r1");
  EXPECT_EQ(keys->keys[1].kid(), "e1");
  EXPECT_EQ(keys->keys[2].kid(), "r2");
  expect_verifies(keys->keys[0], rsa2048(), Algorithm::kRs256);
  expect_verifies(keys->keys[1], p256(), Algorithm::kEs256);
  expect_verifies(keys->keys[2], rsa2048_other(), Algorithm::kRs256);
  EXPECT_EQ(keys->keys[1].describe(), "ES256 (P-256) kid=e1");
}

// What an identity provider's key set holds besides our keys is skipped, not an error.
TEST(Jwks, KeysForOthersAreSkipped) {
  std::string text = jwks({
      rsa2048().jwk(R"("kid":"enc","use":"enc",)"),
      rsa2048().jwk(R"("kid":"ps","alg":"PS256",)"),
      rsa2048().jwk(R"("kid":"rs512","alg":"RS512",)"),
      rsa2048().jwk(R"("kid":"hs","alg":"HS256",)"),
      R"({"kty":"EC","crv":"P-384","x":"AA","y":"AA","kid":"p384"})",
      R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})",
      R"({"kty":"oct","k":"c2VjcmV0","kid":"secret"})",
      p256().jwk(R"("kid":"mine",)"),
  });
  auto r = parse_jwks(text);
  const ParsedKeys* keys = keys_of(r);
  ASSERT_NE(keys, nullptr);
  ASSERT_EQ(keys->keys.size(), 1u);
  EXPECT_EQ(keys->keys[0].kid(), "mine");
  EXPECT_EQ(keys->skipped, 7u);
}

// A 2048-bit RSA key whose JWK "n" carries a leading zero byte (some providers write one).
TEST(Jwks, LeadingZeroInModulusIsAccepted) {
  BIGNUM* n = nullptr;
  EVP_PKEY_get_bn_param(rsa2048().pkey.get(), OSSL_PKEY_PARAM_RSA_N, &n);
  std::string bytes(static_cast<size_t>(BN_num_bytes(n)) + 1, '\0');
  BN_bn2bin(n, reinterpret_cast<unsigned char*>(bytes.data()) + 1);
  BN_free(n);
  std::string jwk = R"({"kty":"RSA","n":")" + b64u(bytes) + R"(","e":"AQAB"})";
  auto r = parse_jwks(jwks({jwk}));
  const ParsedKeys* keys = keys_of(r);
  ASSERT_NE(keys, nullptr);
  expect_verifies(keys->keys[0], rsa2048(), Algorithm::kRs256);
}

struct BadCase {
  std::string name;
  std::string text;
  KeyError error;
  bool jwks;
};

std::vector<BadCase> bad_cases() {
  const std::string spki_der = der_of(rsa2048().public_pem);
  std::string not_on_curve = p256().jwk();
  // Flip a bit of y: the point leaves the curve.
  std::string y = p256().coordinate_b64(OSSL_PKEY_PARAM_EC_PUB_Y);
  std::string y_bad = y;
  y_bad[5] = y_bad[5] == 'A' ? 'B' : 'A';
  not_on_curve.replace(not_on_curve.find(y), y.size(), y_bad);
  std::string x31 = R"({"kty":"EC","crv":"P-256","x":")" + b64u(std::string(31, '\1')) +
                    R"(","y":")" + b64u(std::string(32, '\1')) + "\"}";
  // An odd 8200-bit modulus: beyond what we verify with.
  std::string huge_n = R"({"kty":"RSA","n":")" + b64u("\xC1" + std::string(1024, '\x5A') + "\x01") +
                       R"(","e":"AQAB"})";
  std::string even_e =
      R"({"kty":"RSA","n":")" + rsa2048().bn_b64(OSSL_PKEY_PARAM_RSA_N) + R"(","e":"AQAA"})";
  std::string many_pem;
  for (size_t i = 0; i <= kMaxKeys; ++i) {
    many_pem += p256().public_pem;
  }
  std::string many_jwks = R"({"keys":[)";
  for (size_t i = 0; i <= kMaxKeys; ++i) {
    many_jwks += (i == 0 ? "" : ",") + p256().jwk(R"("kid":"k)" + std::to_string(i) + R"(",)");
  }
  many_jwks += "]}";
  return {
      // PEM
      {"empty", "", KeyError::kNoKey, false},
      {"no block", "just some text\n", KeyError::kNoKey, false},
      {"only EC PARAMETERS",
       "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n",
       KeyError::kNoKey, false},
      {"over 1 MiB", std::string(kMaxKeyFileSize + 1, 'a'), KeyError::kTooLarge, false},
      {"too many keys", many_pem, KeyError::kTooLarge, false},
      {"bad base64", "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
       KeyError::kBadPem, false},
      {"no END line", "-----BEGIN PUBLIC KEY-----\nMIIB\n", KeyError::kBadPem, false},
      {"DER garbage", pem_block("PUBLIC KEY", "not DER at all"), KeyError::kBadPem, false},
      {"DER with trailing bytes", pem_block("PUBLIC KEY", spki_der + "xx"), KeyError::kBadPem,
       false},
      {"PKCS#1 label on SPKI", pem_block("RSA PUBLIC KEY", spki_der), KeyError::kBadPem, false},
      {"certificate garbage", pem_block("CERTIFICATE", "xyz"), KeyError::kBadPem, false},
      {"PKCS#8 private key", rsa2048().private_pem, KeyError::kPrivateKey, false},
      {"EC private key", pem_block("EC PRIVATE KEY", "x"), KeyError::kPrivateKey, false},
      {"encrypted private key", pem_block("ENCRYPTED PRIVATE KEY", "x"), KeyError::kPrivateKey,
       false},
      {"public then private", p256().public_pem + p256().private_pem, KeyError::kPrivateKey, false},
      {"Ed25519", testing::ed25519().public_pem, KeyError::kUnsupportedKey, false},
      {"P-384", testing::p384().public_pem, KeyError::kUnsupportedKey, false},
      {"a CSR", pem_block("CERTIFICATE REQUEST", "x"), KeyError::kUnsupportedKey, false},
      {"RSA 1024", testing::rsa1024().public_pem, KeyError::kWeakKey, false},
      // JWKS
      {"JWKS empty", "", KeyError::kBadJwks, true},
      {"JWKS not JSON", "{keys:[]}", KeyError::kBadJwks, true},
      {"JWKS array", "[]", KeyError::kBadJwks, true},
      {"JWKS without keys", R"({"key":[]})", KeyError::kBadJwks, true},
      {"JWKS keys not array", R"({"keys":{}})", KeyError::kBadJwks, true},
      {"JWKS keys twice", R"({"keys":[],"keys":[]})", KeyError::kBadJwks, true},
      {"JWKS too deep", R"({"keys":[{"a":)" + std::string(20, '[') + std::string(20, ']') + "}]}",
       KeyError::kBadJwks, true},
      {"JWK not object", R"({"keys":["RSA"]})", KeyError::kBadJwks, true},
      {"JWK without kty", R"({"keys":[{"n":"AQAB","e":"AQAB"}]})", KeyError::kBadJwks, true},
      {"JWK kty number", R"({"keys":[{"kty":1}]})", KeyError::kBadJwks, true},
      {"JWK kid number", jwks({rsa2048().jwk(R"("kid":7,)")}), KeyError::kBadJwks, true},
      {"JWK kid too long", jwks({rsa2048().jwk(R"("kid":")" + std::string(256, 'k') + "\",")}),
       KeyError::kBadJwks, true},
      {"JWK member twice", jwks({rsa2048().jwk(R"("e":"AQAB",)")}), KeyError::kBadJwks, true},
      {"JWK alg ES256 on RSA", jwks({rsa2048().jwk(R"("alg":"ES256",)")}), KeyError::kBadJwks,
       true},
      {"JWK alg RS256 on EC", jwks({p256().jwk(R"("alg":"RS256",)")}), KeyError::kBadJwks, true},
      {"JWK RSA without e", R"({"keys":[{"kty":"RSA","n":"AQAB"}]})", KeyError::kBadJwks, true},
      {"JWK EC without crv", R"({"keys":[{"kty":"EC","x":"AA","y":"AA"}]})", KeyError::kBadJwks,
       true},
      {"JWK EC without y", R"({"keys":[{"kty":"EC","crv":"P-256","x":"AA"}]})", KeyError::kBadJwks,
       true},
      {"JWKS no keys", R"({"keys":[]})", KeyError::kNoKey, true},
      {"JWKS only others", jwks({rsa2048().jwk(R"("use":"enc",)")}), KeyError::kNoKey, true},
      {"JWKS over 1 MiB", std::string(kMaxKeyFileSize + 1, ' '), KeyError::kTooLarge, true},
      {"JWKS too many keys", many_jwks, KeyError::kTooLarge, true},
      {"JWK private RSA", jwks({rsa2048().jwk(R"("d":"AQAB",)")}), KeyError::kPrivateKey, true},
      {"JWK private EC", jwks({p256().jwk(R"("d":"AQAB",)")}), KeyError::kPrivateKey, true},
      {"JWK RSA 1024", jwks({testing::rsa1024().jwk()}), KeyError::kWeakKey, true},
      {"JWK RSA 8200 bits", jwks({huge_n}), KeyError::kUnsupportedKey, true},
      {"JWK n not base64url", R"({"keys":[{"kty":"RSA","n":"a+b/","e":"AQAB"}]})",
       KeyError::kBadKey, true},
      {"JWK n empty", R"({"keys":[{"kty":"RSA","n":"","e":"AQAB"}]})", KeyError::kBadKey, true},
      {"JWK n number", R"({"keys":[{"kty":"RSA","n":5,"e":"AQAB"}]})", KeyError::kBadKey, true},
      {"JWK even e", jwks({even_e}), KeyError::kBadKey, true},
      {"JWK point not on the curve", jwks({not_on_curve}), KeyError::kBadKey, true},
      {"JWK x of 31 bytes", jwks({x31}), KeyError::kBadKey, true},
      {"JWK padded x", jwks({p256().jwk().insert(p256().jwk().size() - 2, "=")}), KeyError::kBadKey,
       true},
      {"JWKS duplicate kid", jwks({rsa2048().jwk(R"("kid":"a",)"), p256().jwk(R"("kid":"a",)")}),
       KeyError::kDuplicateKid, true},
  };
}

TEST(KeyErrors, EachRefusalHasItsReasonAndEveryReasonIsReached) {
  std::set<KeyError> reached;
  for (const BadCase& c : bad_cases()) {
    SCOPED_TRACE(c.name);
    KeyParseResult r = c.jwks ? parse_jwks(c.text) : parse_pem_public_keys(c.text);
    const auto* f = std::get_if<KeyFailure>(&r);
    ASSERT_NE(f, nullptr) << "accepted";
    EXPECT_EQ(f->error, c.error) << to_string(f->error) << ": " << f->detail;
    EXPECT_FALSE(f->detail.empty());
    EXPECT_EQ(f->detail.find('\n'), std::string::npos) << "one line";
    reached.insert(f->error);
  }
  EXPECT_EQ(reached.size(), std::size(kAllKeyErrors));
  std::set<std::string_view> names;
  for (KeyError e : kAllKeyErrors) {
    EXPECT_TRUE(names.insert(to_string(e)).second) << to_string(e);
  }
}

// Neither parser reads past what it is given: every prefix is refused or parsed, never a crash.
TEST(KeyErrors, EveryPrefixIsSafe) {
  const std::string pem = rsa2048().public_pem;
  for (size_t n = 0; n < pem.size(); n += 3) {
    std::string prefix = pem.substr(0, n);
    (void)parse_pem_public_keys(prefix);
  }
  const std::string set = jwks({p256().jwk(R"("kid":"a",)")});
  for (size_t n = 0; n < set.size(); ++n) {
    std::string prefix = set.substr(0, n);
    EXPECT_TRUE(std::holds_alternative<KeyFailure>(parse_jwks(prefix))) << n;
  }
}

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/herald-keys-XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = name;
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(KeyFiles, LoadersNameTheFileInOneLine) {
  TempFile pem(rsa2048().public_pem);
  auto good = load_pem_public_keys(pem.path());
  ASSERT_TRUE(good.ok()) << good.error();
  EXPECT_EQ(good->keys.size(), 1u);
  TempFile set(jwks({p256().jwk(R"("kid":"a",)")}));
  auto good_set = load_jwks(set.path());
  ASSERT_TRUE(good_set.ok()) << good_set.error();

  auto missing = load_pem_public_keys("/nonexistent/keys.pem");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("/nonexistent/keys.pem: cannot open"), std::string::npos)
      << missing.error();
  TempFile private_key(p256().private_pem);
  auto refused = load_pem_public_keys(private_key.path());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find(private_key.path() + ": private_key: "), std::string::npos)
      << refused.error();
  TempFile big(std::string(kMaxKeyFileSize + 10, ' '));
  auto too_big = load_jwks(big.path());
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.error().find("too_large"), std::string::npos) << too_big.error();
  TempFile bad_set(jwks({p256().jwk(R"("kid":"a",)"), p256_other().jwk(R"("kid":"a",)")}));
  auto dup = load_jwks(bad_set.path());
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().find("duplicate_kid"), std::string::npos) << dup.error();
  for (const auto* r : {&missing, &refused, &too_big, &dup}) {
    EXPECT_EQ(r->error().find('\n'), std::string::npos) << r->error();
  }
}

TEST(Algorithms, NamesRoundTrip) {
  for (Algorithm a : {Algorithm::kHs256, Algorithm::kRs256, Algorithm::kEs256}) {
    EXPECT_EQ(algorithm_from_name(algorithm_name(a)), a);
  }
  for (const char* name : {"none", "hs256", "RS384", "PS256", "ES256K", "EdDSA", ""}) {
    EXPECT_FALSE(algorithm_from_name(name)) << name;
  }
}

}  // namespace
}  // namespace herald::auth
