#pragma once
// Making tokens (compact JWS, RFC 7515): what a backend does, for `herald token`, the tests, the
// fuzzers and the benchmarks. The server itself never signs. Thread: any (a TokenSigner is
// immutable; its OpenSSL key is only read).

#include <memory>
#include <string>
#include <string_view>

#include "auth/keys.h"
#include "herald/result.h"

namespace herald::auth {

// The header make_hs256_token() writes by default.
inline constexpr std::string_view kHs256Header = R"({"alg":"HS256","typ":"JWT"})";

// Makes "b64(header).b64(claims).b64(HMAC-SHA256)". claims_json and header_json are signed as
// given, not validated, so tests can sign anything; `herald token` validates before calling.
std::string make_hs256_token(std::string_view secret, std::string_view claims_json,
                             std::string_view header_json = kHs256Header);

// Signs with one key by its algorithm: an HMAC secret (HS256), an RSA private key (RS256) or an
// EC P-256 private key (ES256, the signature converted to JOSE's raw r||s).
class TokenSigner {
 public:
  static TokenSigner hs256(std::string secret);
  // An unencrypted PEM private key ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"); never
  // prompts for a passphrase. RSA must be 2048-8192 bits, EC must be P-256.
  static Result<TokenSigner> from_private_pem(std::string_view pem);
  static Result<TokenSigner> load_private_pem(const std::string& path);

  Algorithm algorithm() const { return alg_; }
  // b64({"alg":"..","typ":"JWT"[,"kid":".."]}).b64(claims).b64(signature); "" if OpenSSL
  // fails. claims_json is signed as given.
  std::string sign(std::string_view claims_json, std::string_view kid = {}) const;
  // Any header, for tests (an "alg" that lies, a "kid" that names another key...).
  std::string sign_with_header(std::string_view header_json, std::string_view claims_json) const;
  // The key that verifies what this signs (the public half), bound to the same algorithm.
  VerificationKey verification_key(std::string kid = {}) const;
  // The public key in PEM (SPKI), as `token_public_key` reads it; "" for HS256.
  std::string public_pem() const;

 private:
  TokenSigner() = default;
  Algorithm alg_ = Algorithm::kHs256;
  std::string secret_;
  std::shared_ptr<EVP_PKEY> pkey_;
};

}  // namespace herald::auth
