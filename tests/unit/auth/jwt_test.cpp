#include "auth/jwt.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "token_test_util.h"

namespace herald::auth {
namespace {

using testing::accepted;
using testing::b64;
using testing::kNow;
using testing::kSecret;
using testing::refused_with;
using testing::signed_token;

// RFC 7515 appendix A.1 (the same token is RFC 7519 section 3.1's example): HS256 with the
// JWK "k" below, header and payload with CRLF whitespace, no "sub", exp 1300819380.
std::string rfc7515_a1_key() {
  constexpr unsigned char kKey[] = {3,   35,  53,  75,  43,  15,  165, 188, 131, 126, 6,   101, 119,
                                    123, 166, 143, 90,  179, 40,  230, 240, 84,  201, 40,  169, 15,
                                    132, 178, 210, 80,  46,  191, 211, 251, 90,  146, 210, 6,   71,
                                    239, 150, 138, 180, 195, 119, 98,  61,  34,  61,  46,  33,  114,
                                    5,   46,  79,  8,   192, 205, 154, 245, 103, 208, 128, 163};
  return std::string(reinterpret_cast<const char*>(kKey), sizeof(kKey));
}
constexpr std::string_view kRfc7515A1Token =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

TEST(TokenVerifier, Rfc7515AppendixA1) {
  TokenVerifier v(rfc7515_a1_key());
  TokenClaims c = accepted(v.verify(kRfc7515A1Token, 1300819379));
  EXPECT_EQ(c.user, "");
  EXPECT_EQ(c.info, "");
  EXPECT_EQ(c.expires_at_s, 1300819380);
  EXPECT_TRUE(refused_with(v.verify(kRfc7515A1Token, 1300819380), TokenError::kExpired));
  EXPECT_TRUE(refused_with(TokenVerifier("other").verify(kRfc7515A1Token, 1300819379),
                           TokenError::kBadSignature));
}

TEST(MakeHs256Token, Rfc7515AppendixA1) {
  std::string token = make_hs256_token(
      rfc7515_a1_key(),
      "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}",
      "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}");
  EXPECT_EQ(token, kRfc7515A1Token);
}

// Made by an independent implementation (Python's stdlib), once, with:
//   import base64, hashlib, hmac, json
//   def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
//   def tok(secret, header, claims):
//       s = b64(header.encode()) + "." + b64(claims.encode())
//       return s + "." + b64(hmac.new(secret, s.encode(), hashlib.sha256).digest())
//   S = b"herald-test-secret-0123456789abcdef"
//   print(tok(S, '{"alg":"HS256","typ":"JWT"}', '{"sub":"42","exp":2000000000}'))
//   print(tok(S, '{"typ":"JWT","alg":"HS256"}',
//             '{"sub":"ann","info":{"name":"Ann","n":1.0e2,"s":"a b\\u00e9"},"iat":1700000000}'))
//   print(tok(S, '{ "alg" : "HS256" }', json.dumps({"sub": "\u00e9\u4e16", "info": [1, "x"]})))
//   print(tok(b"\x00\xff binary \x01", '{"alg":"HS256"}', '{}'))
constexpr std::string_view kPy1 =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsImV4cCI6MjAwMDAwMDAwMH0."
    "OxLoouSQwgb186zoC8lsRE_7EjS6N6HuK9WgR3b4Y0M";
constexpr std::string_view kPy2 =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4iLCJpbmZvIjp7Im5hbWUiOiJBbm4iLCJuIjox"
    "LjBlMiwicyI6ImEgYlx1MDBlOSJ9LCJpYXQiOjE3MDAwMDAwMDB9.qd0xFy5K17-Z-01mPU0PDQ0C4wnhwvrC8yyBhI"
    "F0I-w";
constexpr std::string_view kPy3 =
    "eyAiYWxnIiA6ICJIUzI1NiIgfQ.eyJzdWIiOiAiXHUwMGU5XHU0ZTE2IiwgImluZm8iOiBbMSwgIngiXX0."
    "feY9yG_CxGWIHqsDOrL26fuJZZr-cGjl1WM25PVp4og";
constexpr std::string_view kPy4 =
    "eyJhbGciOiJIUzI1NiJ9.e30.qyEdGFNpwVAGhhQbJIGFIAn-P_V67wVG1O7Qf5vr8yE";
constexpr std::string_view kPy4Secret{"\x00\xff binary \x01", 11};

TEST(TokenVerifier, PythonVectors) {
  TokenVerifier v{std::string(kSecret)};
  {
    TokenClaims c = accepted(v.verify(kPy1, kNow));
    EXPECT_EQ(c.user, "42");
    EXPECT_EQ(c.info, "");
    EXPECT_EQ(c.expires_at_s, 2000000000);
  }
  {
    // "info" is kept as the backend wrote it: 1.0e2 and \u00e9 are not re-serialized.
    TokenClaims c = accepted(v.verify(kPy2, kNow));
    EXPECT_EQ(c.user, "ann");
    EXPECT_EQ(c.info, R"({"name":"Ann","n":1.0e2,"s":"a b\u00e9"})");
    EXPECT_EQ(c.expires_at_s, 0);
  }
  {
    // Whitespace inside the header and payload JSON; "sub" with \u escapes is decoded.
    TokenClaims c = accepted(v.verify(kPy3, kNow));
    EXPECT_EQ(c.user, "\xc3\xa9\xe4\xb8\x96");
    EXPECT_EQ(c.info, R"([1,"x"])");
  }
  {
    TokenClaims c = accepted(TokenVerifier(std::string(kPy4Secret)).verify(kPy4, kNow));
    EXPECT_EQ(c.user, "");
    EXPECT_EQ(c.info, "");
    EXPECT_EQ(c.expires_at_s, 0);
  }
  EXPECT_TRUE(refused_with(v.verify(kPy4, kNow), TokenError::kBadSignature));
}

TEST(MakeHs256Token, MatchesPython) {
  EXPECT_EQ(make_hs256_token(kSecret, R"({"sub":"42","exp":2000000000})"), kPy1);
  EXPECT_EQ(make_hs256_token(kPy4Secret, "{}", R"({"alg":"HS256"})"), kPy4);
}

TEST(TokenVerifier, RoundTripsClaims) {
  TokenVerifier v{std::string(kSecret)};
  TokenClaims c = accepted(
      v.verify(signed_token(R"({"sub":"u1","info":{ "a" : [ 1 , "b c" ] },"exp":1700000100,)"
                            R"("nbf":1700000000,"iat":1699999999,"aud":"x","iss":7,"custom":{}})"),
               kNow));
  EXPECT_EQ(c.user, "u1");
  EXPECT_EQ(c.info, R"({"a":[1,"b c"]})");
  EXPECT_EQ(c.expires_at_s, 1700000100);
}

TEST(TokenVerifier, InfoOfEveryJsonType) {
  TokenVerifier v{std::string(kSecret)};
  struct Case {
    std::string_view claims;
    std::string_view info;
  };
  const Case kCases[] = {
      {R"({"info":"text"})", R"("text")"},
      {R"({"info":1.50})", "1.50"},
      {R"({"info":-0})", "-0"},
      {R"({"info":true})", "true"},
      {R"({"info":[]})", "[]"},
      {R"({"info":null})", ""},  // null is the same as absent
      {R"({"info" : "x" , "sub":"after"})", R"("x")"},
      // Other members before "info" with brackets and quotes inside strings.
      {R"({"x":"}\"{[","y":[{"a":"]"}],"info":{"k":"v w"}})", R"({"k":"v w"})"},
      // simdjson unescapes keys, so an escaped "info" is still "info".
      {R"({"\u0069nfo":{"k":1}})", R"({"k":1})"},
      {R"({"inf\"o":1,"info":2})", "2"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.claims);
    EXPECT_EQ(accepted(v.verify(signed_token(c.claims), kNow)).info, c.info);
  }
}

TEST(TokenVerifier, AcceptsTheUsualHeadersAndOthers) {
  TokenVerifier v{std::string(kSecret)};
  const std::string_view kHeaders[] = {
      kHs256Header,
      R"({"typ":"JWT","alg":"HS256"})",
      R"({"alg":"HS256"})",
      R"({"alg":"HS256","kid":"key-1"})",
      R"({"kid":"key-1","typ":"at+jwt","alg":"HS256"})",
      "\t{ \"alg\" :\n\"HS256\" }\r\n",
      R"({"alg":"HS256","typ":7})",  // typ is advisory
      R"({"alg":"HS\u0032\u0035\u0036"})",
  };
  for (std::string_view header : kHeaders) {
    SCOPED_TRACE(header);
    EXPECT_EQ(accepted(v.verify(signed_token(R"({"sub":"h"})", header), kNow)).user, "h");
  }
}

TEST(TokenVerifier, ExpiryBoundaries) {
  TokenVerifier v{std::string(kSecret)};
  std::string token = signed_token(R"({"exp":1000})");
  EXPECT_EQ(accepted(v.verify(token, 999)).expires_at_s, 1000);
  EXPECT_TRUE(refused_with(v.verify(token, 1000), TokenError::kExpired));
  EXPECT_TRUE(refused_with(v.verify(token, 1001), TokenError::kExpired));

  // NumericDate may be fractional: valid while now < 1000.5, so through second 1000.
  std::string fractional = signed_token(R"({"exp":1000.5})");
  EXPECT_EQ(accepted(v.verify(fractional, 1000)).expires_at_s, 1001);
  EXPECT_TRUE(refused_with(v.verify(fractional, 1001), TokenError::kExpired));
  EXPECT_EQ(accepted(v.verify(signed_token(R"({"exp":1.0e3})"), 999)).expires_at_s, 1000);

  std::string nbf = signed_token(R"({"nbf":1000})");
  EXPECT_TRUE(refused_with(v.verify(nbf, 999), TokenError::kNotYetValid));
  EXPECT_EQ(accepted(v.verify(nbf, 1000)).expires_at_s, 0);
  std::string nbf_fraction = signed_token(R"({"nbf":999.5})");
  EXPECT_TRUE(refused_with(v.verify(nbf_fraction, 999), TokenError::kNotYetValid));
  accepted(v.verify(nbf_fraction, 1000));

  // Both: expired wins (reconnecting with a fresh token is the fix).
  EXPECT_TRUE(
      refused_with(v.verify(signed_token(R"({"exp":10,"nbf":2000})"), 1000), TokenError::kExpired));
}

TEST(TokenVerifier, Leeway) {
  TokenVerifier v(std::string(kSecret), 30);
  std::string token = signed_token(R"({"exp":1000,"nbf":2000})");
  EXPECT_TRUE(refused_with(v.verify(token, 1000), TokenError::kNotYetValid));
  // Past exp + leeway; expired is reported before not-yet-valid.
  EXPECT_TRUE(refused_with(v.verify(token, 1969), TokenError::kExpired));
  std::string exp_only = signed_token(R"({"exp":1000})");
  EXPECT_EQ(accepted(v.verify(exp_only, 1029)).expires_at_s, 1030);
  EXPECT_TRUE(refused_with(v.verify(exp_only, 1030), TokenError::kExpired));
  std::string nbf_only = signed_token(R"({"nbf":1000})");
  EXPECT_TRUE(refused_with(v.verify(nbf_only, 969), TokenError::kNotYetValid));
  accepted(v.verify(nbf_only, 970));
  // A negative leeway is no leeway.
  TokenVerifier strict(std::string(kSecret), -5);
  EXPECT_TRUE(refused_with(strict.verify(exp_only, 1000), TokenError::kExpired));
  accepted(strict.verify(exp_only, 999));
}

TEST(TokenVerifier, HugeNumbersSaturate) {
  TokenVerifier v(std::string(kSecret), 1'000'000);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(accepted(v.verify(signed_token(R"({"exp":9223372036854775807})"), kNow)).expires_at_s,
            kMax);
  EXPECT_EQ(accepted(v.verify(signed_token(R"({"exp":18446744073709551615})"), kNow)).expires_at_s,
            kMax);
  EXPECT_EQ(accepted(v.verify(signed_token(R"({"exp":1e300})"), kNow)).expires_at_s, kMax);
  EXPECT_EQ(accepted(v.verify(signed_token(R"({"exp":9.3e18})"), kNow)).expires_at_s, kMax);
  EXPECT_TRUE(
      refused_with(v.verify(signed_token(R"({"exp":-1e300})"), kNow), TokenError::kExpired));
  EXPECT_TRUE(refused_with(v.verify(signed_token(R"({"exp":-9223372036854775808})"), kNow),
                           TokenError::kExpired));
  EXPECT_TRUE(refused_with(v.verify(signed_token(R"({"nbf":9223372036854775807})"), kNow),
                           TokenError::kNotYetValid));
  accepted(v.verify(signed_token(R"({"nbf":-9223372036854775808,"iat":1e308})"), kNow));
  accepted(v.verify(signed_token(R"({"nbf":-1e300})"), kNow));
}

TEST(TokenVerifier, ExpAtOrBeforeTheEpochIsAlwaysExpired) {
  // Keeps expires_at_s == 0 meaning "no exp" even for a clock before 1970.
  TokenVerifier v{std::string(kSecret)};
  EXPECT_TRUE(refused_with(v.verify(signed_token(R"({"exp":0})"), -10), TokenError::kExpired));
  EXPECT_TRUE(refused_with(v.verify(signed_token(R"({"exp":-5})"), -10), TokenError::kExpired));
  EXPECT_EQ(accepted(v.verify(signed_token(R"({"exp":1})"), -10)).expires_at_s, 1);
}

TEST(TokenVerifier, NestingUpToTheLimit) {
  TokenVerifier v{std::string(kSecret)};
  // A value at `level`: the claims object is level 1, "info" level 2.
  auto scalar_at = [](size_t level) {
    return R"({"info":)" + std::string(level - 2, '[') + "1" + std::string(level - 2, ']') + "}";
  };
  auto empty_array_at = [](size_t level) {
    return R"({"info":)" + std::string(level - 1, '[') + std::string(level - 1, ']') + "}";
  };
  EXPECT_EQ(accepted(v.verify(signed_token(scalar_at(kMaxClaimsDepth)), kNow)).info.size(),
            2 * (kMaxClaimsDepth - 2) + 1);
  EXPECT_TRUE(refused_with(v.verify(signed_token(scalar_at(kMaxClaimsDepth + 1)), kNow),
                           TokenError::kBadClaims));
  accepted(v.verify(signed_token(empty_array_at(kMaxClaimsDepth)), kNow));
  EXPECT_TRUE(refused_with(v.verify(signed_token(empty_array_at(kMaxClaimsDepth + 1)), kNow),
                           TokenError::kBadClaims));
}

TEST(TokenVerifier, LargestTokenIsAccepted) {
  TokenVerifier v{std::string(kSecret)};
  std::string largest;
  size_t largest_pad = 0;
  for (size_t pad = 6000; pad < 7000; ++pad) {
    std::string token = signed_token(R"({"info":")" + std::string(pad, 'x') + R"("})");
    if (token.size() > kMaxTokenSize) {
      EXPECT_TRUE(refused_with(v.verify(token, kNow), TokenError::kTooLarge));
      break;
    }
    largest = token;
    largest_pad = pad;
  }
  // base64url lengths skip one value in four, so the largest fits within 1 byte of the limit.
  ASSERT_GE(largest.size(), kMaxTokenSize - 1);
  EXPECT_EQ(accepted(v.verify(largest, kNow)).info.size(), largest_pad + 2);
}

TEST(TokenVerifier, CopiesVerifyTheSame) {
  TokenVerifier a{std::string(kSecret)};
  TokenVerifier b = a;
  std::string token = signed_token(R"({"sub":"c"})");
  EXPECT_EQ(accepted(b.verify(token, kNow)).user, "c");
  EXPECT_EQ(accepted(a.verify(token, kNow)).user, "c");
}

// The per-thread HMAC context is keyed by the last verifier that used it: alternating
// verifiers with different secrets must each still use their own.
TEST(TokenVerifier, AlternatingSecretsOnOneThread) {
  TokenVerifier a("secret-a");
  TokenVerifier b("secret-b");
  std::string ta = make_hs256_token("secret-a", R"({"sub":"a"})");
  std::string tb = make_hs256_token("secret-b", R"({"sub":"b"})");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(accepted(a.verify(ta, kNow)).user, "a");
    EXPECT_TRUE(refused_with(a.verify(tb, kNow), TokenError::kBadSignature));
    EXPECT_EQ(accepted(b.verify(tb, kNow)).user, "b");
    EXPECT_TRUE(refused_with(b.verify(ta, kNow), TokenError::kBadSignature));
  }
  // A verifier created later at the same address must not inherit the old key.
  std::string tc = make_hs256_token("secret-c", R"({"sub":"c"})");
  for (const char* secret : {"secret-c", "secret-a"}) {
    auto v = std::make_unique<TokenVerifier>(secret);
    auto r = v->verify(tc, kNow);
    EXPECT_EQ(std::holds_alternative<TokenClaims>(r), std::string(secret) == "secret-c");
  }
}

TEST(TokenVerifier, SharedAcrossThreads) {
  const TokenVerifier v{std::string(kSecret)};
  const TokenVerifier other("another secret");
  std::vector<std::thread> threads;
  std::vector<int> good(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string token = signed_token(R"({"sub":")" + std::to_string(t) + R"("})");
      for (int i = 0; i < 200; ++i) {
        auto r = v.verify(token, kNow);
        auto wrong = other.verify(token, kNow);
        if (const auto* c = std::get_if<TokenClaims>(&r);
            c != nullptr && c->user == std::to_string(t) &&
            std::holds_alternative<TokenError>(wrong)) {
          ++good[t];
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(good, std::vector<int>(4, 200));
}

TEST(TokenError, NamesAreDistinct) {
  std::set<std::string_view> names;
  for (TokenError e : kAllTokenErrors) {
    EXPECT_FALSE(to_string(e).empty());
    EXPECT_TRUE(names.insert(to_string(e)).second) << to_string(e);
  }
  EXPECT_EQ(names.size(), std::size(kAllTokenErrors));
  EXPECT_EQ(to_string(TokenError::kExpired), "expired");
  EXPECT_EQ(to_string(TokenError::kBadSignature), "bad_signature");
}

}  // namespace
}  // namespace herald::auth
