#pragma once
// The keys tokens are verified with, each bound to exactly one algorithm (RFC 7518): an HMAC
// secret verifies HS256 only, an RSA public key RS256 only, an EC P-256 public key ES256 only.
// A token never chooses how its signature is checked: it names an algorithm, and only keys of
// that algorithm are tried (no `alg: none`, no HS256 "signed" with an RSA key's bytes).
//
// Public keys come from a PEM file (`token_public_key`: one or more SPKI "PUBLIC KEY", PKCS#1
// "RSA PUBLIC KEY" or "CERTIFICATE" blocks; the key's type decides its algorithm) or a JWKS file
// (RFC 7517 `token_jwks_file`: {"keys":[...]}, selected by "kid"). The parsers take bytes, not
// files, so they are fuzzed (fuzz_auth_keys); the loaders read a file and call them. They run at
// start-up and on SIGHUP, never per connection. Never throw: a refusal is a KeyError.
// Thread: any (keys are immutable and shared by every loop).

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "herald/result.h"

namespace herald::auth {

enum class Algorithm : uint8_t {
  kHs256,  // HMAC-SHA256 with a shared secret
  kRs256,  // RSASSA-PKCS1-v1_5 with SHA-256, RSA 2048-8192 bits
  kEs256,  // ECDSA on P-256 with SHA-256, the signature being JOSE's raw r||s (64 bytes)
};

// "HS256", "RS256", "ES256": the JOSE names, as in a token's header.
std::string_view algorithm_name(Algorithm alg);
std::optional<Algorithm> algorithm_from_name(std::string_view name);

// One verification key and the one algorithm it serves. Cheap to copy (the OpenSSL key is
// shared, reference counted and only read). Immutable.
class VerificationKey {
 public:
  // An HS256 secret. An empty secret makes a key that verifies nothing.
  static VerificationKey hmac(std::string secret, std::string kid = {});
  // Takes one reference of pkey, which must be an RSA or EC P-256 public key (checked by the
  // parsers below, which are the only callers outside the tests).
  static VerificationKey public_key(Algorithm alg, EVP_PKEY* pkey, std::string kid = {});

  Algorithm algorithm() const { return alg_; }
  const std::string& kid() const { return kid_; }        // "" = no key id: matches any token's kid
  const std::string& secret() const { return secret_; }  // HS256 only
  EVP_PKEY* pkey() const { return pkey_.get(); }         // RS256 and ES256 only
  // Unique in the process: lets a thread's HMAC context know which secret it holds.
  uint64_t id() const { return id_; }
  // "RS256 key kid=abc (2048 bits)", for logs; never the secret.
  std::string describe() const;

 private:
  VerificationKey() = default;
  Algorithm alg_ = Algorithm::kHs256;
  std::string kid_;
  std::string secret_;
  std::shared_ptr<EVP_PKEY> pkey_;
  uint64_t id_ = 0;
};

// Why a key file was refused. Each refusal names one; the detail says where.
enum class KeyError : uint8_t {
  kTooLarge,        // over kMaxKeyFileSize bytes or more than kMaxKeys keys
  kNoKey,           // no PEM block at all, or a JWKS without one usable signature key
  kBadPem,          // a PEM block OpenSSL cannot read (broken base64 or DER)
  kPrivateKey,      // a private key where a public key belongs (PEM "PRIVATE KEY", JWK "d")
  kUnsupportedKey,  // not RSA or EC P-256 (DSA, Ed25519, P-384...), RSA over 8192 bits, or a
                    // PEM block that holds no key
  kWeakKey,         // RSA under 2048 bits (RFC 7518 section 3.3)
  kBadKey,          // key material OpenSSL refuses: a point not on the curve, an even RSA
                    // exponent, x/y not 32 bytes, n/e not base64url
  kBadJwks,         // not JSON, not {"keys":[...]}, a member of the wrong type or repeated, an
                    // "alg" that does not fit the "kty"
  kDuplicateKid,    // two usable JWKS keys with the same "kid": which one would a token mean?
};

inline constexpr KeyError kAllKeyErrors[] = {
    KeyError::kTooLarge,   KeyError::kNoKey,          KeyError::kBadPem,
    KeyError::kPrivateKey, KeyError::kUnsupportedKey, KeyError::kWeakKey,
    KeyError::kBadKey,     KeyError::kBadJwks,        KeyError::kDuplicateKid,
};

// "bad_jwks"...
std::string_view to_string(KeyError error);

inline constexpr size_t kMaxKeyFileSize = 1 << 20;  // real files hold a few keys: a few KiB
inline constexpr size_t kMaxKeys = 32;  // a token without "kid" may be tried against each
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 8192;  // beyond this a verification costs milliseconds

struct KeyFailure {
  KeyError error;
  std::string detail;  // one line: what, and where in the file
};

struct ParsedKeys {
  std::vector<VerificationKey> keys;
  size_t skipped = 0;  // JWKS keys not for us: "use" other than "sig", or another kty/alg/crv
};

using KeyParseResult = std::variant<ParsedKeys, KeyFailure>;

// Every public key block of a PEM text, in order. "EC PARAMETERS" blocks are skipped (openssl
// ecparam writes them); text between blocks is ignored, as PEM allows.
KeyParseResult parse_pem_public_keys(std::string_view pem);

// The usable keys of a JWKS (RFC 7517 section 5): kty "RSA" (n, e) as RS256 and kty "EC" with
// crv "P-256" (x, y) as ES256, whose "use" (if any) is "sig" and "alg" (if any) fits. Others are
// skipped and counted. Unknown members are ignored, as RFC 7517 asks.
KeyParseResult parse_jwks(std::string_view json);

// Reads the file (at most kMaxKeyFileSize bytes) and parses it. The error is one line that
// names the file, for the start-up message and the SIGHUP log.
Result<ParsedKeys> load_pem_public_keys(const std::string& path);
Result<ParsedKeys> load_jwks(const std::string& path);

}  // namespace herald::auth
