// RS256 and ES256 tokens, key selection by algorithm and "kid", audience and issuer, and channel
// tokens: the parts of TokenVerifier beyond one HS256 secret (jwt_test.cpp, jwt_errors_test.cpp).

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "auth/jwt.h"
#include "auth/signature.h"
#include "key_test_util.h"
#include "token_test_util.h"

namespace herald::auth {
namespace {

using testing::accepted;
using testing::b64;
using testing::kNow;
using testing::kSecret;
using testing::p256;
using testing::p256_other;
using testing::refused_with;
using testing::rsa2048;
using testing::rsa2048_other;

constexpr std::string_view kClaims = R"({"sub":"42","exp":1700003600})";

VerifierConfig config_of(std::vector<VerificationKey> keys, std::string audience = {},
                         std::string issuer = {}) {
  return VerifierConfig{std::move(keys), std::move(audience), std::move(issuer), 0};
}

// The token with its signature replaced by `sig` (raw bytes).
std::string with_signature(const std::string& token, std::string_view sig) {
  return token.substr(0, token.rfind('.') + 1) + b64(sig);
}

std::string signature_of(const std::string& token) {
  std::string_view s = std::string_view(token).substr(token.rfind('.') + 1);
  std::string out(base64url_decoded_max(s.size()), '\0');
  size_t size = 0;
  EXPECT_TRUE(base64url_decode(s, out.data(), size));
  out.resize(size);
  return out;
}

TEST(AsymmetricTokens, Rs256AndEs256AreAccepted) {
  TokenVerifier v(
      config_of({rsa2048().signer().verification_key(), p256().signer().verification_key()}));
  for (const TokenSigner& signer : {rsa2048().signer(), p256().signer()}) {
    SCOPED_TRACE(algorithm_name(signer.algorithm()));
    std::string token = signer.sign(R"({"sub":"42","info":{"n":1},"exp":1700003600})");
    TokenClaims c = accepted(v.verify(token, kNow));
    EXPECT_EQ(c.user, "42");
    EXPECT_EQ(c.info, R"({"n":1})");
    EXPECT_EQ(c.expires_at_s, 1700003600);
    // The usual headers take the fast path; others (typ first, a kid) the parsed one.
    accepted(v.verify(
        signer.sign_with_header(
            R"({"typ":"JWT","alg":")" + std::string(algorithm_name(signer.algorithm())) + "\"}",
            kClaims),
        kNow));
    accepted(v.verify(signer.sign(kClaims, "any-kid"), kNow));
  }
  EXPECT_EQ(signature_of(p256().signer().sign(kClaims)).size(), kEs256SignatureSize);
  EXPECT_EQ(signature_of(rsa2048().signer().sign(kClaims)).size(), 256u);
}

// Independent vectors: RFC 7515 appendix A.3 (ES256, with its JWK), verified as published.
TEST(AsymmetricTokens, Rfc7515AppendixA3) {
  std::string jwk = R"({"keys":[{"kty":"EC","crv":"P-256",)"
                    R"("x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
                    R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})";
  auto keys = parse_jwks(jwk);
  ASSERT_TRUE(std::holds_alternative<ParsedKeys>(keys));
  TokenVerifier v(config_of(std::get<ParsedKeys>(keys).keys));
  constexpr std::string_view kToken =
      "eyJhbGciOiJFUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnV"
      "lfQ"
      ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
  TokenClaims c = accepted(v.verify(kToken, 1300819379));
  EXPECT_EQ(c.expires_at_s, 1300819380);
  std::string flipped(kToken);
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(refused_with(v.verify(flipped, 1300819379), TokenError::kBadSignature));
}

// The token names an algorithm; only keys bound to it are tried, each by its own algorithm.
// Nothing the token says makes an RSA key act as an HMAC secret, or skips the signature.
TEST(AsymmetricTokens, AlgorithmConfusionIsRefusedByConstruction) {
  const std::string public_pem = rsa2048().public_pem;
  TokenVerifier rsa_only(config_of({rsa2048().signer().verification_key()}));
  TokenVerifier rsa_and_secret(config_of(
      {VerificationKey::hmac(std::string(kSecret)), rsa2048().signer().verification_key()}));
  // The classic: HS256 "signed" with the RSA public key's bytes, which the attacker has.
  std::string confused = make_hs256_token(public_pem, kClaims);
  EXPECT_TRUE(refused_with(rsa_only.verify(confused, kNow), TokenError::kUnsupportedAlgorithm));
  EXPECT_TRUE(refused_with(rsa_and_secret.verify(confused, kNow), TokenError::kBadSignature));
  // The same with a kid that names the RSA key.
  EXPECT_TRUE(refused_with(
      rsa_and_secret.verify(
          make_hs256_token(public_pem, kClaims, R"({"alg":"HS256","kid":"rsa","typ":"JWT"})"),
          kNow),
      TokenError::kBadSignature));
  // alg none, with and without a signature.
  std::string none = b64(R"({"alg":"none"})") + "." + b64(kClaims) + ".";
  EXPECT_TRUE(refused_with(rsa_only.verify(none, kNow), TokenError::kUnsupportedAlgorithm));
  EXPECT_TRUE(refused_with(rsa_and_secret.verify(none, kNow), TokenError::kUnsupportedAlgorithm));
  std::string none_signed = rsa2048().signer().sign_with_header(R"({"alg":"none"})", kClaims);
  EXPECT_TRUE(refused_with(rsa_only.verify(none_signed, kNow), TokenError::kUnsupportedAlgorithm));
  // An RSA signature under an ES256 header, and the reverse.
  std::string rs_as_es = rsa2048().signer().sign_with_header(R"({"alg":"ES256"})", kClaims);
  EXPECT_TRUE(refused_with(rsa_only.verify(rs_as_es, kNow), TokenError::kUnsupportedAlgorithm));
  TokenVerifier both(
      config_of({rsa2048().signer().verification_key(), p256().signer().verification_key()}));
  EXPECT_TRUE(refused_with(both.verify(rs_as_es, kNow), TokenError::kBadSignature));
  std::string es_as_rs = p256().signer().sign_with_header(R"({"alg":"RS256"})", kClaims);
  EXPECT_TRUE(refused_with(both.verify(es_as_rs, kNow), TokenError::kBadSignature));
  // Keys carried by the token itself are ignored: the signature is still checked with ours.
  std::string embedded = rsa2048_other().signer().sign_with_header(
      R"({"alg":"RS256","jwk":)" + rsa2048_other().jwk() + R"(,"jku":"https://evil.example"})",
      kClaims);
  EXPECT_TRUE(refused_with(rsa_only.verify(embedded, kNow), TokenError::kBadSignature));
  // An HS256 token with an RSA-only server, signed with the right "secret" of another server.
  EXPECT_TRUE(refused_with(rsa_only.verify(testing::signed_token(kClaims), kNow),
                           TokenError::kUnsupportedAlgorithm));
}

// JOSE's ES256 signature is r||s, 64 bytes: DER (what OpenSSL writes) and other lengths are
// refused before any arithmetic.
TEST(AsymmetricTokens, Es256SignatureIsRawRAndS) {
  TokenVerifier v(config_of({p256().signer().verification_key()}));
  std::string token = p256().signer().sign(kClaims);
  std::string raw = signature_of(token);
  ASSERT_EQ(raw.size(), 64u);
  std::string der;
  ASSERT_TRUE(es256_raw_to_der(raw, der));
  EXPECT_GE(der.size(), 8u);
  EXPECT_NE(der.size(), 64u);
  std::string back;
  ASSERT_TRUE(es256_der_to_raw(der, back));
  EXPECT_EQ(back, raw);
  accepted(v.verify(with_signature(token, raw), kNow));
  struct Case {
    const char* name;
    std::string sig;
  };
  const Case cases[] = {
      {"DER", der},
      {"63 bytes", raw.substr(0, 63)},
      {"65 bytes", raw + '\0'},
      {"leading zero + 64", '\0' + raw},
      {"empty", ""},
      {"r = 0", std::string(32, '\0') + raw.substr(32)},
      {"s = 0", raw.substr(0, 32) + std::string(32, '\0')},
      {"all 0xff", std::string(64, '\xff')},
      {"r and s swapped", raw.substr(32) + raw.substr(0, 32)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(
        refused_with(v.verify(with_signature(token, c.sig), kNow), TokenError::kBadSignature));
  }
  EXPECT_FALSE(es256_raw_to_der(raw.substr(0, 63), der));
  EXPECT_FALSE(es256_der_to_raw("not DER", back));
  EXPECT_FALSE(es256_der_to_raw(der + "x", back)) << "trailing bytes";
}

TEST(AsymmetricTokens, Rs256SignatureHasTheModulusLength) {
  TokenVerifier v(config_of({rsa2048().signer().verification_key()}));
  std::string token = rsa2048().signer().sign(kClaims);
  std::string sig = signature_of(token);
  for (const std::string& bad : {sig.substr(1), std::string(1, '\0') + sig, sig + '\0',
                                 std::string(256, '\0'), std::string()}) {
    EXPECT_TRUE(
        refused_with(v.verify(with_signature(token, bad), kNow), TokenError::kBadSignature));
  }
}

TEST(KeySelection, KidNarrowsTheKeysAndKeysWithoutKidMatchAny) {
  TokenVerifier v(config_of({rsa2048().signer().verification_key("r1"),
                             rsa2048_other().signer().verification_key("r2"),
                             p256().signer().verification_key()}));
  accepted(v.verify(rsa2048().signer().sign(kClaims, "r1"), kNow));
  accepted(v.verify(rsa2048_other().signer().sign(kClaims, "r2"), kNow));
  // Without kid every key of the algorithm is tried (a key set rotated without kids).
  accepted(v.verify(rsa2048_other().signer().sign(kClaims), kNow));
  // kid names one key: another key's signature is not tried against the rest.
  EXPECT_TRUE(refused_with(v.verify(rsa2048_other().signer().sign(kClaims, "r1"), kNow),
                           TokenError::kBadSignature));
  EXPECT_TRUE(refused_with(v.verify(rsa2048().signer().sign(kClaims, "r3"), kNow),
                           TokenError::kUnknownKey));
  // A key without kid (from PEM) serves tokens with any kid.
  accepted(v.verify(p256().signer().sign(kClaims, "whatever"), kNow));
  // A kid of another algorithm's key is not a way in.
  EXPECT_TRUE(refused_with(v.verify(p256_other().signer().sign(kClaims, "r1"), kNow),
                           TokenError::kBadSignature));
  // kid must be one string.
  EXPECT_TRUE(refused_with(
      v.verify(rsa2048().signer().sign_with_header(R"({"alg":"RS256","kid":1})", kClaims), kNow),
      TokenError::kMalformed));
  EXPECT_TRUE(refused_with(v.verify(rsa2048().signer().sign_with_header(
                                        R"({"alg":"RS256","kid":"r1","kid":"r1"})", kClaims),
                                    kNow),
                           TokenError::kMalformed));
}

TEST(AudienceAndIssuer, CheckedOnlyWhenConfigured) {
  TokenVerifier open(config_of({VerificationKey::hmac(std::string(kSecret))}));
  TokenVerifier strict(
      config_of({VerificationKey::hmac(std::string(kSecret))}, "herald", "https://auth.example"));
  struct Case {
    const char* claims;
    std::optional<TokenError> strict_error;  // nullopt: accepted
  };
  const Case cases[] = {
      {R"({"aud":"herald","iss":"https://auth.example"})", std::nullopt},
      {R"({"aud":["web","herald"],"iss":"https://auth.example"})", std::nullopt},
      {R"({"aud":"web","iss":"https://auth.example"})", TokenError::kWrongAudience},
      {R"({"aud":["web"],"iss":"https://auth.example"})", TokenError::kWrongAudience},
      {R"({"aud":[],"iss":"https://auth.example"})", TokenError::kWrongAudience},
      {R"({"iss":"https://auth.example"})", TokenError::kWrongAudience},
      {R"({"aud":"Herald","iss":"https://auth.example"})", TokenError::kWrongAudience},
      {R"({"aud":"herald"})", TokenError::kWrongIssuer},
      {R"({"aud":"herald","iss":"https://auth.example/"})", TokenError::kWrongIssuer},
      {R"({"aud":"herald","iss":""})", TokenError::kWrongIssuer},
      {R"({"aud":5,"iss":"https://auth.example"})", TokenError::kBadClaims},
      {R"({"aud":["herald",5],"iss":"https://auth.example"})", TokenError::kBadClaims},
      {R"({"aud":"herald","iss":["https://auth.example"]})", TokenError::kBadClaims},
      {R"({"aud":"herald","aud":"herald","iss":"https://auth.example"})", TokenError::kBadClaims},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.claims);
    std::string token = testing::signed_token(c.claims);
    if (c.strict_error) {
      EXPECT_TRUE(refused_with(strict.verify(token, kNow), *c.strict_error));
    } else {
      accepted(strict.verify(token, kNow));
    }
    // Without configuration they are not read at all (duplicates aside, which no JSON reader
    // agrees on).
    if (std::string_view(c.claims).find(R"("aud":"herald","aud")") == std::string_view::npos) {
      accepted(open.verify(token, kNow));
    }
  }
  // Expiry is checked before the audience: an expired token says so.
  EXPECT_TRUE(refused_with(strict.verify(testing::signed_token(R"({"aud":"web","exp":1})"), kNow),
                           TokenError::kExpired));
}

TEST(ChannelTokens, BoundToUserChannelAndClient) {
  TokenVerifier v(
      config_of({VerificationKey::hmac(std::string(kSecret)), p256().signer().verification_key()}));
  ChannelRequest req{"42", "c0ffee", "private:room"};
  TokenClaims granted = accepted(v.verify_channel(
      testing::signed_token(R"({"sub":"42","channel":"private:room","client":"c0ffee",)"
                            R"("exp":1700003600})"),
      kNow, req));
  EXPECT_EQ(granted.channel, "private:room");
  EXPECT_EQ(granted.client, "c0ffee");
  // Without "client": any connection of the user. Signed with ES256: same rules.
  accepted(v.verify_channel(p256().signer().sign(R"({"sub":"42","channel":"private:room"})"), kNow,
                            req));
  // Anonymous connections get channel tokens with sub "" or none.
  ChannelRequest anon{"", "c0ffee", "private:room"};
  accepted(v.verify_channel(testing::signed_token(R"({"channel":"private:room"})"), kNow, anon));
  accepted(v.verify_channel(testing::signed_token(R"({"sub":"","channel":"private:room"})"), kNow,
                            anon));
  struct Case {
    const char* claims;
    TokenError error;
  };
  const Case cases[] = {
      {R"({"sub":"42","channel":"private:other"})", TokenError::kWrongChannel},
      {R"({"sub":"42","channel":"private:room2"})", TokenError::kWrongChannel},
      {R"({"sub":"42","channel":"private:roo"})", TokenError::kWrongChannel},
      {R"({"sub":"42","channel":"private:room","client":"deadbeef"})", TokenError::kWrongClient},
      {R"({"sub":"42","channel":"private:room","client":""})", TokenError::kWrongClient},
      {R"({"sub":"43","channel":"private:room"})", TokenError::kWrongUser},
      {R"({"channel":"private:room"})", TokenError::kWrongUser},
      {R"({"sub":"42"})", TokenError::kWrongKind},
      {R"({"sub":"42","channel":""})", TokenError::kBadClaims},
      {R"({"sub":"42","channel":7})", TokenError::kBadClaims},
      {R"({"sub":"42","channel":"private:room","client":7})", TokenError::kBadClaims},
      {R"({"sub":"42","channel":"private:room","channel":"private:room"})", TokenError::kBadClaims},
      {R"({"sub":"42","channel":"private:room","exp":1700000000})", TokenError::kExpired},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.claims);
    EXPECT_TRUE(
        refused_with(v.verify_channel(testing::signed_token(c.claims), kNow, req), c.error));
  }
  // A channel token is no connection token, even under the same key.
  EXPECT_TRUE(refused_with(
      v.verify(testing::signed_token(R"({"sub":"42","channel":"private:room"})"), kNow),
      TokenError::kWrongKind));
}

// One table that reaches every TokenError, so a new value cannot go untested.
TEST(TokenErrors, EveryValueIsReached) {
  TokenVerifier v(config_of({VerificationKey::hmac(std::string(kSecret), "hs"),
                             rsa2048().signer().verification_key("r1")},
                            "herald", "issuer"));
  ChannelRequest req{"42", "c1", "private:a"};
  constexpr std::string_view kAud = R"("aud":"herald","iss":"issuer")";
  auto claims = [&](std::string_view more) {
    return "{" + std::string(kAud) + (more.empty() ? "" : ",") + std::string(more) + "}";
  };
  struct Case {
    std::string token;
    bool channel;
    TokenError error;
  };
  const std::vector<Case> cases = {
      {"a.b", false, TokenError::kMalformed},
      {testing::signed_token(claims(""), R"({"alg":"none"})"), false,
       TokenError::kUnsupportedAlgorithm},
      {testing::signed_token(claims(""), R"({"alg":"HS256","kid":"nope"})"), false,
       TokenError::kUnknownKey},
      {make_hs256_token("wrong", claims("")), false, TokenError::kBadSignature},
      {testing::signed_token(claims(R"("exp":1)")), false, TokenError::kExpired},
      {testing::signed_token(claims(R"("nbf":1800000000)")), false, TokenError::kNotYetValid},
      {std::string(kMaxTokenSize + 1, 'a'), false, TokenError::kTooLarge},
      {testing::signed_token(claims(R"("sub":1)")), false, TokenError::kBadClaims},
      {testing::signed_token(R"({"iss":"issuer"})"), false, TokenError::kWrongAudience},
      {testing::signed_token(R"({"aud":"herald"})"), false, TokenError::kWrongIssuer},
      {testing::signed_token(claims(R"("channel":"private:a")")), false, TokenError::kWrongKind},
      {testing::signed_token(claims(R"("sub":"7","channel":"private:a")")), true,
       TokenError::kWrongUser},
      {testing::signed_token(claims(R"("sub":"42","channel":"private:b")")), true,
       TokenError::kWrongChannel},
      {testing::signed_token(claims(R"("sub":"42","channel":"private:a","client":"c2")")), true,
       TokenError::kWrongClient},
  };
  std::set<TokenError> reached;
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(to_string(c.error)) + ": " + c.token.substr(0, 120));
    VerifyResult r = c.channel ? v.verify_channel(c.token, kNow, req) : v.verify(c.token, kNow);
    EXPECT_TRUE(refused_with(r, c.error));
    reached.insert(c.error);
  }
  EXPECT_EQ(reached.size(), std::size(kAllTokenErrors));
  accepted(v.verify_channel(
      testing::signed_token(claims(R"("sub":"42","channel":"private:a","client":"c1")")), kNow,
      req));
  accepted(v.verify(rsa2048().signer().sign(claims(R"("sub":"42")"), "r1"), kNow));
}

TEST(TokenSigner, PrivateKeysAreCheckedAtLoad) {
  EXPECT_TRUE(TokenSigner::from_private_pem(rsa2048().private_pem).ok());
  EXPECT_TRUE(TokenSigner::from_private_pem(p256().private_pem).ok());
  EXPECT_FALSE(TokenSigner::from_private_pem(rsa2048().public_pem).ok());
  EXPECT_FALSE(TokenSigner::from_private_pem("").ok());
  EXPECT_FALSE(TokenSigner::from_private_pem(testing::rsa1024().private_pem).ok());
  EXPECT_FALSE(TokenSigner::from_private_pem(testing::p384().private_pem).ok());
  EXPECT_FALSE(TokenSigner::from_private_pem(testing::ed25519().private_pem).ok());
  EXPECT_EQ(TokenSigner::from_private_pem(p256().private_pem)->public_pem(), p256().public_pem);
  EXPECT_EQ(TokenSigner::hs256("x").public_pem(), "");
  // kid is written as a JSON string.
  std::string token = p256().signer().sign("{}", "a\"b");
  std::string header(base64url_decoded_max(token.find('.')), '\0');
  size_t size = 0;
  ASSERT_TRUE(
      base64url_decode(std::string_view(token).substr(0, token.find('.')), header.data(), size));
  header.resize(size);
  EXPECT_EQ(header, R"({"alg":"ES256","typ":"JWT","kid":"a\"b"})");
}

TEST(TokenVerifier, DescribesItsKeysWithoutSecrets) {
  TokenVerifier v(config_of(
      {VerificationKey::hmac(std::string(kSecret)), p256().signer().verification_key("e1")},
      "herald", "iss"));
  EXPECT_EQ(v.describe(), "HS256 secret, ES256 (P-256) kid=e1; aud herald; iss iss");
  EXPECT_EQ(v.describe().find(kSecret), std::string::npos);
  EXPECT_EQ(TokenVerifier(std::string()).describe(), "no key");
}

}  // namespace
}  // namespace herald::auth
