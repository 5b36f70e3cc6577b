// Fuzzes the key file parsers (auth/keys.h). Input: [mode byte][rest]. Mode % 3 picks:
//   0: rest is a PEM text for parse_pem_public_keys().
//   1: rest is a JWKS text for parse_jwks().
//   2: rest is raw key material put into a JWK: [0] picks RSA or EC; then RSA n and e (split at
//      [1]) or EC x and y (32 bytes each), base64url-encoded, so that OpenSSL's key import meets
//      random moduli and points off the curve.
// Whatever is accepted must hold at most kMaxKeys keys, each bound to the algorithm of its own
// type, with distinct kids, and verifying a token with each must give an answer (never a crash).

#include <openssl/evp.h>

#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "auth/base64url.h"
#include "auth/keys.h"
#include "auth/signature.h"

namespace {

using herald::auth::Algorithm;
using herald::auth::KeyFailure;
using herald::auth::KeyParseResult;
using herald::auth::ParsedKeys;
using herald::auth::VerificationKey;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

void check_keys(const KeyParseResult& r, bool jwks) {
  if (const auto* f = std::get_if<KeyFailure>(&r)) {
    check(!f->detail.empty() && f->detail.find('\n') == std::string::npos);
    return;
  }
  const ParsedKeys& parsed = std::get<ParsedKeys>(r);
  check(!parsed.keys.empty() && parsed.keys.size() <= herald::auth::kMaxKeys);
  std::set<std::string> kids;
  for (const VerificationKey& key : parsed.keys) {
    check(key.pkey() != nullptr);
    int type = EVP_PKEY_get_base_id(key.pkey());
    check((key.algorithm() == Algorithm::kRs256 && type == EVP_PKEY_RSA &&
           EVP_PKEY_get_bits(key.pkey()) >= herald::auth::kMinRsaBits) ||
          (key.algorithm() == Algorithm::kEs256 && type == EVP_PKEY_EC));
    check(jwks || key.kid().empty());
    check(key.kid().empty() || kids.insert(key.kid()).second);
    check(!key.describe().empty());
    std::string sig(key.algorithm() == Algorithm::kEs256 ? 64 : 256, '\x5a');
    check(!herald::auth::verify_signature(key, "eyJhbGciOiJSUzI1NiJ9.e30", sig));
  }
}

void jwk_material(std::string_view rest) {
  if (rest.size() < 2) {
    return;
  }
  bool rsa = (rest[0] & 1) != 0;
  std::string_view material = rest.substr(2);
  std::string a;
  std::string b;
  if (rsa) {
    size_t split = static_cast<unsigned char>(rest[1]) % (material.size() + 1);
    herald::auth::append_base64url(a, material.substr(split));
    herald::auth::append_base64url(b, material.substr(0, split));
  } else {
    if (material.size() < 64) {
      return;
    }
    herald::auth::append_base64url(a, material.substr(0, 32));
    herald::auth::append_base64url(b, material.substr(32, 32));
  }
  std::string text =
      rsa ? R"({"keys":[{"kty":"RSA","kid":"k","n":")" + a + R"(","e":")" + b + "\"}]}"
          : R"({"keys":[{"kty":"EC","crv":"P-256","x":")" + a + R"(","y":")" + b + "\"}]}";
  check_keys(herald::auth::parse_jwks(text), true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      check_keys(herald::auth::parse_pem_public_keys(rest), false);
      break;
    case 1:
      check_keys(herald::auth::parse_jwks(rest), true);
      break;
    default:
      jwk_material(rest);
      break;
  }
  return 0;
}
