#include <gtest/gtest.h>

#include <random>
#include <string>

#include "auth/jwt.h"
#include "token_test_util.h"

namespace herald::auth {
namespace {

using testing::accepted;
using testing::b64;
using testing::kNow;
using testing::kSecret;
using testing::refused_with;
using testing::signed_token;

constexpr std::string_view kGoodClaims = R"({"sub":"42","exp":1700003600})";

struct Case {
  std::string name;
  std::string token;
  TokenError error;
};

void run(const std::vector<Case>& cases, const TokenVerifier& v) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name + ": " + c.token.substr(0, 200));
    EXPECT_TRUE(refused_with(v.verify(c.token, kNow), c.error));
  }
}

TEST(TokenErrors, TooLarge) {
  TokenVerifier v{std::string(kSecret)};
  std::string big = signed_token(R"({"info":")" + std::string(7000, 'x') + R"("})");
  ASSERT_GT(big.size(), kMaxTokenSize);
  run({{"signed but large", big, TokenError::kTooLarge},
       {"garbage", std::string(kMaxTokenSize + 1, '.'), TokenError::kTooLarge},
       {"huge", std::string(1 << 20, 'a'), TokenError::kTooLarge}},
      v);
  // Up to the limit, size is not the problem.
  EXPECT_TRUE(
      refused_with(v.verify(std::string(kMaxTokenSize, '.'), kNow), TokenError::kMalformed));
}

TEST(TokenErrors, Malformed) {
  TokenVerifier v{std::string(kSecret)};
  const std::string good = signed_token(kGoodClaims);
  accepted(v.verify(good, kNow));
  const size_t dot1 = good.find('.');
  const size_t dot2 = good.rfind('.');
  const std::string h = good.substr(0, dot1);
  const std::string p = good.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string s = good.substr(dot2 + 1);
  std::vector<Case> cases = {
      {"empty", "", TokenError::kMalformed},
      {"one part", h, TokenError::kMalformed},
      {"two parts", h + "." + p, TokenError::kMalformed},
      {"four parts", good + "." + s, TokenError::kMalformed},
      {"trailing dot", good + ".", TokenError::kMalformed},
      {"dots only", "..", TokenError::kMalformed},
      {"JWE-like five parts", h + ".." + p + "." + s + "." + s, TokenError::kMalformed},
      {"padding in header", b64(R"({"alg":"HS256"})") + "=." + p + "." + s, TokenError::kMalformed},
      {"padding in signature", good + "=", TokenError::kMalformed},
      {"padding in payload", h + "." + p + "==." + s, TokenError::kMalformed},
      {"leading space", " " + good, TokenError::kMalformed},
      {"trailing newline", good + "\n", TokenError::kMalformed},
      {"trailing CRLF", good + "\r\n", TokenError::kMalformed},
      {"space before dot", h + " ." + p + "." + s, TokenError::kMalformed},
      {"tab in payload", h + "." + p.substr(0, 4) + "\t" + p.substr(4) + "." + s,
       TokenError::kMalformed},
      {"Bearer prefix", "Bearer " + good, TokenError::kMalformed},
      {"NUL", good.substr(0, 10) + std::string(1, '\0') + good.substr(11), TokenError::kMalformed},
      {"non-ASCII", h + "." + p + "." + s.substr(0, 40) + "\xc3\xa9", TokenError::kMalformed},
      {"base64 not base64url", h + "." + p + "." + s.substr(0, 42) + "+", TokenError::kMalformed},
      {"non-canonical last char", h + "." + p + "." + s.substr(0, 42) + "B",
       TokenError::kMalformed},
      {"length 4n+1", h + "." + p + "." + s + "AA", TokenError::kMalformed},
      {"header not JSON", b64("not json") + "." + p + "." + s, TokenError::kMalformed},
      {"header empty", "." + p + "." + s, TokenError::kMalformed},
      {"header array", b64(R"(["alg","HS256"])") + "." + p + "." + s, TokenError::kMalformed},
      {"header string", b64(R"("HS256")") + "." + p + "." + s, TokenError::kMalformed},
      {"header truncated JSON", b64(R"({"alg":"HS256")") + "." + p + "." + s,
       TokenError::kMalformed},
      {"header trailing data", b64(R"({"alg":"HS256"}{})") + "." + p + "." + s,
       TokenError::kMalformed},
      {"header invalid UTF-8", b64("{\"alg\":\"HS256\",\"x\":\"\xff\"}") + "." + p + "." + s,
       TokenError::kMalformed},
      // Two "alg": libraries disagree on which wins, so neither does.
      {"duplicate alg (signed)", signed_token(kGoodClaims, R"({"alg":"HS256","alg":"HS256"})"),
       TokenError::kMalformed},
      {"duplicate alg none", signed_token(kGoodClaims, R"({"alg":"HS256","alg":"none"})"),
       TokenError::kMalformed},
  };
  run(cases, v);
}

TEST(TokenErrors, UnsupportedAlgorithm) {
  TokenVerifier v{std::string(kSecret)};
  const std::string p = b64(kGoodClaims);
  std::vector<Case> cases = {
      // RFC 7519 section 6.1's unsecured JWT: the classic "alg":"none" bypass.
      {"alg none, empty signature", b64(R"({"alg":"none"})") + "." + p + ".",
       TokenError::kUnsupportedAlgorithm},
      {"alg none, with HS256 signature", signed_token(kGoodClaims, R"({"alg":"none"})"),
       TokenError::kUnsupportedAlgorithm},
      {"alg None", signed_token(kGoodClaims, R"({"alg":"None"})"),
       TokenError::kUnsupportedAlgorithm},
      {"alg hs256", signed_token(kGoodClaims, R"({"alg":"hs256"})"),
       TokenError::kUnsupportedAlgorithm},
      {"alg HS512", signed_token(kGoodClaims, R"({"alg":"HS512"})"),
       TokenError::kUnsupportedAlgorithm},
      {"alg HS384", signed_token(kGoodClaims, R"({"alg":"HS384"})"),
       TokenError::kUnsupportedAlgorithm},
      {"alg RS256 (key confusion)", signed_token(kGoodClaims, R"({"alg":"RS256"})"),
       TokenError::kUnsupportedAlgorithm},
      {"alg HS256 with space", signed_token(kGoodClaims, R"({"alg":"HS256 "})"),
       TokenError::kUnsupportedAlgorithm},
      {"alg HS256 with NUL", signed_token(kGoodClaims, R"({"alg":"HS256\u0000"})"),
       TokenError::kUnsupportedAlgorithm},
      {"alg missing", signed_token(kGoodClaims, R"({"typ":"JWT"})"),
       TokenError::kUnsupportedAlgorithm},
      {"empty header object", signed_token(kGoodClaims, "{}"), TokenError::kUnsupportedAlgorithm},
      {"alg null", signed_token(kGoodClaims, R"({"alg":null})"), TokenError::kUnsupportedAlgorithm},
      {"alg number", signed_token(kGoodClaims, R"({"alg":256})"),
       TokenError::kUnsupportedAlgorithm},
      {"alg array", signed_token(kGoodClaims, R"({"alg":["HS256"]})"),
       TokenError::kUnsupportedAlgorithm},
      {"Alg (case)", signed_token(kGoodClaims, R"({"Alg":"HS256"})"),
       TokenError::kUnsupportedAlgorithm},
      {"crit", signed_token(kGoodClaims, R"({"alg":"HS256","crit":["exp"]})"),
       TokenError::kUnsupportedAlgorithm},
      {"crit b64 (RFC 7797)",
       signed_token(kGoodClaims, R"({"alg":"HS256","b64":false,"crit":["b64"]})"),
       TokenError::kUnsupportedAlgorithm},
      {"JWE header", signed_token(kGoodClaims, R"({"alg":"dir","enc":"A128GCM"})"),
       TokenError::kUnsupportedAlgorithm},
  };
  run(cases, v);
}

TEST(TokenErrors, BadSignature) {
  TokenVerifier v{std::string(kSecret)};
  const std::string good = signed_token(kGoodClaims);
  const size_t dot1 = good.find('.');
  const size_t dot2 = good.rfind('.');
  const std::string h = good.substr(0, dot1);
  const std::string p = good.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string s = good.substr(dot2 + 1);
  std::string flipped_sig = good;
  flipped_sig[dot2 + 1] = flipped_sig[dot2 + 1] == 'A' ? 'B' : 'A';
  std::string other_user = h + "." + b64(R"({"sub":"43","exp":1700003600})") + "." + s;
  std::string other_header = b64(R"({"alg":"HS256"})") + "." + p + "." + s;
  std::string secret_prefix = std::string(kSecret.substr(0, kSecret.size() - 1));
  std::vector<Case> cases = {
      {"wrong secret", make_hs256_token("wrong secret", kGoodClaims), TokenError::kBadSignature},
      {"secret prefix", make_hs256_token(secret_prefix, kGoodClaims), TokenError::kBadSignature},
      {"secret + 1 byte", make_hs256_token(std::string(kSecret) + "x", kGoodClaims),
       TokenError::kBadSignature},
      {"empty secret", make_hs256_token("", kGoodClaims), TokenError::kBadSignature},
      {"tampered payload", other_user, TokenError::kBadSignature},
      {"tampered header", other_header, TokenError::kBadSignature},
      {"flipped signature", flipped_sig, TokenError::kBadSignature},
      {"empty signature", h + "." + p + ".", TokenError::kBadSignature},
      {"short signature", h + "." + p + "." + s.substr(0, 40), TokenError::kBadSignature},
      {"HS512-sized signature", h + "." + p + "." + b64(std::string(64, 'x')),
       TokenError::kBadSignature},
      {"swapped parts", p + "." + h + "." + s, TokenError::kUnsupportedAlgorithm},
  };
  run(cases, v);
}

// An empty secret is no key at all: this verifier serves no HS256 token, whatever it is signed
// with (an unset secret must not turn into "anyone can sign").
TEST(TokenErrors, EmptySecretVerifiesNothing) {
  TokenVerifier v{std::string()};
  EXPECT_FALSE(v.has_keys());
  std::string signed_with_empty = make_hs256_token("", kGoodClaims);
  EXPECT_TRUE(
      refused_with(v.verify(signed_with_empty, kNow), TokenError::kUnsupportedAlgorithm));
  EXPECT_TRUE(
      refused_with(v.verify(signed_token(kGoodClaims), kNow), TokenError::kUnsupportedAlgorithm));
}

TEST(TokenErrors, ExpiredAndNotYetValid) {
  TokenVerifier v{std::string(kSecret)};
  run({{"exp now", signed_token(R"({"exp":1700000000})"), TokenError::kExpired},
       {"exp past", signed_token(R"({"sub":"a","exp":1600000000})"), TokenError::kExpired},
       {"exp 0", signed_token(R"({"exp":0})"), TokenError::kExpired},
       {"exp negative", signed_token(R"({"exp":-1})"), TokenError::kExpired},
       {"exp fractional past", signed_token(R"({"exp":1699999999.999})"), TokenError::kExpired},
       {"nbf future", signed_token(R"({"nbf":1700000001})"), TokenError::kNotYetValid},
       {"nbf fractional future", signed_token(R"({"nbf":1700000000.001})"),
        TokenError::kNotYetValid},
       {"nbf far future", signed_token(R"({"nbf":1e20})"), TokenError::kNotYetValid}},
      v);
}

// A signed payload the claims rules refuse. The signature is valid: the backend signed it.
TEST(TokenErrors, BadClaims) {
  TokenVerifier v{std::string(kSecret)};
  const char* kClaims[] = {
      "",
      "not json",
      "[]",
      R"(["sub","42"])",
      R"("sub")",
      "42",
      "null",
      "true",
      R"({"sub":"42"} trailing)",
      R"({"sub":"42")",
      "{\"sub\":\"\xff\"}",          // invalid UTF-8
      "{\"sub\":\"\xed\xa0\x80\"}",  // UTF-16 surrogate in UTF-8
      R"({"sub":42})",
      R"({"sub":null})",
      R"({"sub":true})",
      R"({"sub":["42"]})",
      R"({"sub":{"id":"42"}})",
      R"({"exp":"1700003600"})",
      R"({"exp":true})",
      R"({"exp":null})",
      R"({"exp":[1700003600]})",
      R"({"exp":{}})",
      R"({"nbf":"0"})",
      R"({"nbf":false})",
      R"({"iat":"now"})",
      R"({"iat":null})",
      R"({"exp":1e400})",                           // beyond double
      R"({"exp":123456789012345678901234567890})",  // beyond 64 bits
      R"({"exp":-9223372036854775809})",
      R"({"nbf":01})",  // not JSON
      R"({"exp":1.})",
      R"({"exp":NaN})",
      R"({"exp":Infinity})",
      R"({"info":1e999})",
      R"({"sub":"a","sub":"b"})",  // duplicates: which one did the signer mean?
      R"({"sub":"a","\u0073ub":"b"})",
      R"({"exp":1800000000,"exp":1})",
      R"({"nbf":1,"nbf":1})",
      R"({"iat":1,"iat":1})",
      R"({"info":1,"info":2})",
      R"({"info":)",
      R"({"info":[1,2})",
  };
  for (const char* claims : kClaims) {
    SCOPED_TRACE(claims);
    EXPECT_TRUE(refused_with(v.verify(signed_token(claims), kNow), TokenError::kBadClaims));
  }
  std::string deep = R"({"info":)" + std::string(2000, '[') + std::string(2000, ']') + "}";
  EXPECT_TRUE(refused_with(v.verify(signed_token(deep), kNow), TokenError::kBadClaims));
}

// The payload is parsed only after the signature matched: an unsigned token with a payload
// that would be kBadClaims is kBadSignature.
TEST(TokenErrors, SignatureIsCheckedBeforeThePayload) {
  TokenVerifier v{std::string(kSecret)};
  for (const char* claims : {"not json", "[]", R"({"sub":42})", R"({"exp":1})"}) {
    SCOPED_TRACE(claims);
    EXPECT_TRUE(
        refused_with(v.verify(make_hs256_token("x", claims), kNow), TokenError::kBadSignature));
  }
}

// verify() is not incremental; the byte-at-a-time rule becomes: no proper prefix of a valid
// token and no single-byte change of it is accepted, and none crashes.
TEST(TokenErrors, NoPrefixIsAccepted) {
  TokenVerifier v{std::string(kSecret)};
  const std::string good = signed_token(R"({"sub":"42","info":{"a":[1,"b"]},"exp":1700003600})");
  accepted(v.verify(good, kNow));
  for (size_t n = 0; n < good.size(); ++n) {
    std::string prefix = good.substr(0, n);  // own allocation: ASan sees any over-read
    EXPECT_TRUE(std::holds_alternative<TokenError>(v.verify(prefix, kNow))) << n;
  }
}

TEST(TokenErrors, NoSingleByteChangeIsAccepted) {
  TokenVerifier v{std::string(kSecret)};
  const std::string good = signed_token(R"({"sub":"42","exp":1700003600})");
  for (size_t i = 0; i < good.size(); ++i) {
    for (int mask : {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      auto r = v.verify(bad, kNow);
      ASSERT_TRUE(std::holds_alternative<TokenError>(r)) << i << " ^ " << mask;
    }
  }
}

TEST(TokenErrors, RandomChunksOfTokensAreRefused) {
  TokenVerifier v{std::string(kSecret)};
  const std::string good = signed_token(R"({"sub":"42","exp":1700003600})");
  std::mt19937 rng(7519);
  for (int i = 0; i < 2000; ++i) {
    // Splice random slices of a valid token: every shape of dots and part lengths.
    std::string t;
    size_t pieces = 1 + rng() % 4;
    for (size_t k = 0; k < pieces; ++k) {
      size_t a = rng() % good.size();
      size_t b = a + rng() % (good.size() - a + 1);
      t += good.substr(a, b - a);
    }
    if (t == good) {
      continue;
    }
    EXPECT_TRUE(std::holds_alternative<TokenError>(v.verify(t, kNow))) << t;
  }
}

}  // namespace
}  // namespace herald::auth
