#pragma once
// JWT connection tokens (RFC 7519) in JWS compact form signed with HMAC-SHA256 (RFC 7515,
// RFC 7518 "HS256"): the verifier the server runs on `connect` (docs/PROTOCOL.md) and the maker
// behind `herald token`. The server maps kExpired to disconnect 4004 ("token expired": the client
// may come back with a fresh token) and every other TokenError to 4501 ("invalid token").

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace herald::auth {

// Why a token was refused. Every refusal has exactly one of these; verify() never throws.
enum class TokenError {
  kMalformed,             // not "b64.b64.b64" of canonical unpadded base64url, or header is
                          // not a JSON object, or it repeats "alg"
  kUnsupportedAlgorithm,  // header "alg" missing or not "HS256" ("none" included), or "crit"
  kBadSignature,          // HMAC does not match (wrong secret, altered token), no secret, or
                          // out of memory (the verifier refuses what it could not check)
  kExpired,               // "exp" + leeway <= now
  kNotYetValid,           // "nbf" - leeway > now
  kTooLarge,              // token over kMaxTokenSize bytes
  kBadClaims,             // signed payload is not a JSON object, is invalid UTF-8, nests
                          // deeper than kMaxClaimsDepth, holds a number beyond int64/double,
                          // "sub"/"exp"/"nbf"/"iat" has the wrong type, or one of them or
                          // "info" appears twice
};

inline constexpr TokenError kAllTokenErrors[] = {
    TokenError::kMalformed, TokenError::kUnsupportedAlgorithm, TokenError::kBadSignature,
    TokenError::kExpired,   TokenError::kNotYetValid,          TokenError::kTooLarge,
    TokenError::kBadClaims,
};

// Short lower-case text for logs and metrics labels, e.g. "bad_signature".
std::string_view to_string(TokenError error);

// Longest token verify() looks at. A connect frame carries it, so it is bounded well below the
// protocol's frame limit; real tokens are a few hundred bytes.
inline constexpr size_t kMaxTokenSize = 8 * 1024;
// Deepest nesting in the claims, counted as docs/PROTOCOL.md counts it: the claims object is
// level 1 and every value inside an object or array one level deeper ({"info":[1]}: 1 is at
// level 3). "info" travels a few levels down in presence replies and join/leave pushes, which
// must stay within the protocol's 32 levels.
inline constexpr size_t kMaxClaimsDepth = 16;

// What a valid token says about the connection.
struct ConnectClaims {
  std::string user;          // "sub"; "" (anonymous) when absent
  std::string info;          // "info" claim as JSON text, whitespace removed; "" if absent/null
  int64_t expires_at_s = 0;  // first Unix second at which verify() says kExpired; 0 = no "exp"
};

using VerifyResult = std::variant<ConnectClaims, TokenError>;

// Verifies compact JWS HS256 tokens with one shared secret. Owned by the server configuration,
// shared by all loops. Immutable after construction. Thread: any (per-thread scratch inside).
class TokenVerifier {
 public:
  // An empty secret verifies nothing (every token is kBadSignature): an unset secret must not
  // turn into "anyone can sign". leeway_s (>= 0) tolerates clock skew between the backend that
  // signs and this server on both "exp" and "nbf".
  explicit TokenVerifier(std::string hmac_secret, int64_t leeway_s = 0);

  // now_s: Unix seconds. Checks, in order: size, shape and header, signature (before the
  // payload is parsed, so unsigned input never reaches the JSON parser), claims, time.
  // "iat" is type-checked only; "aud", "iss" and unknown claims are ignored.
  VerifyResult verify(std::string_view token, int64_t now_s) const;

 private:
  std::string secret_;
  int64_t leeway_s_;
  uint64_t key_id_;  // tells the per-thread HMAC context which secret it holds
};

// The header make_hs256_token() writes by default.
inline constexpr std::string_view kHs256Header = R"({"alg":"HS256","typ":"JWT"})";

// Makes "b64(header).b64(claims).b64(HMAC-SHA256)". claims_json and header_json are signed as
// given, not validated, so tests can sign anything; `herald token` validates before calling.
std::string make_hs256_token(std::string_view secret, std::string_view claims_json,
                             std::string_view header_json = kHs256Header);

}  // namespace herald::auth
