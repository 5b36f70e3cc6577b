#pragma once
// JWT tokens (RFC 7519) in JWS compact form (RFC 7515), signed HS256, RS256 or ES256 (RFC 7518):
// the verifier the server runs on `connect` and `refresh` (connection tokens) and on `subscribe`
// (channel tokens), docs/PROTOCOL.md. The server maps kExpired to disconnect 4004 ("token
// expired": the client may come back with a fresh token) and every other refusal of a connection
// token to 4501 ("invalid token"). Makers are in auth/signer.h.
//
// The order of the checks is the security argument: size, shape and header, then the signature
// (with a key the configuration bound to the header's algorithm), and only then the claims JSON,
// so unsigned input never reaches the JSON parser and the token never picks its own key type.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "auth/keys.h"
#include "auth/signer.h"

namespace herald::auth {

// Why a token was refused. Every refusal has exactly one of these; verify() never throws.
enum class TokenError {
  kMalformed,             // not "b64.b64.b64" of canonical unpadded base64url, or header is
                          // not a JSON object, or it repeats "alg" or "kid", or "kid" is no string
  kUnsupportedAlgorithm,  // header "alg" missing, not one of HS256/RS256/ES256 ("none"
                          // included), no configured key serves it, or "crit"
  kBadSignature,          // no key of the algorithm verifies it (wrong key, altered token, a
                          // signature of the wrong length, DER for ES256), or out of memory (the
                          // verifier refuses what it could not check)
  kExpired,               // "exp" + leeway <= now
  kNotYetValid,           // "nbf" - leeway > now
  kTooLarge,              // token over kMaxTokenSize bytes
  kBadClaims,             // signed payload is not a JSON object, is invalid UTF-8, nests
                          // deeper than kMaxClaimsDepth, holds a number beyond int64/double, a
                          // known claim has the wrong type ("channel" "" too; "aud", "iss" when
                          // configured), or appears twice
  kUnknownKey,            // the header's "kid" names no configured key of its algorithm
  kWrongAudience,         // an audience is configured and "aud" does not hold it
  kWrongIssuer,           // an issuer is configured and "iss" is not it
  kWrongKind,             // a channel token (with "channel") where a connection token belongs,
                          // or a connection token (without) where a channel token belongs
  kWrongUser,             // channel token: "sub" is not the connection's user
  kWrongChannel,          // channel token: "channel" is not the channel subscribed to
  kWrongClient,           // channel token: "client" is given and is not this connection's id
};

inline constexpr TokenError kAllTokenErrors[] = {
    TokenError::kMalformed,     TokenError::kUnsupportedAlgorithm,
    TokenError::kBadSignature,  TokenError::kExpired,
    TokenError::kNotYetValid,   TokenError::kTooLarge,
    TokenError::kBadClaims,     TokenError::kUnknownKey,
    TokenError::kWrongAudience, TokenError::kWrongIssuer,
    TokenError::kWrongKind,     TokenError::kWrongUser,
    TokenError::kWrongChannel,  TokenError::kWrongClient,
};

// Short lower-case text for logs and metrics labels, e.g. "bad_signature".
std::string_view to_string(TokenError error);
// The index of error in kAllTokenErrors (for per-reason counters).
size_t index_of(TokenError error);

// Longest token verify() looks at. A connect frame carries it, so it is bounded well below the
// protocol's frame limit; real tokens are a few hundred bytes (RS256 with 4096-bit keys: ~900).
inline constexpr size_t kMaxTokenSize = 8 * 1024;
// Deepest nesting in the claims, counted as docs/PROTOCOL.md counts it: the claims object is
// level 1 and every value inside an object or array one level deeper ({"info":[1]}: 1 is at
// level 3). "info" travels a few levels down in presence replies and join/leave pushes, which
// must stay within the protocol's 32 levels.
inline constexpr size_t kMaxClaimsDepth = 16;

// What a valid token says.
struct TokenClaims {
  std::string user;          // "sub"; "" (anonymous) when absent
  std::string info;          // "info" claim as JSON text, whitespace removed; "" if absent/null
  int64_t expires_at_s = 0;  // first Unix second at which verify() says kExpired; 0 = no "exp"
  std::string channel;       // channel tokens: the one channel it lets subscribe
  std::string client;  // channel tokens: the one connection it is for ("" = any of the user's)
};

using VerifyResult = std::variant<TokenClaims, TokenError>;

// What a channel token must match: the connection presenting it and the channel it asks for.
struct ChannelRequest {
  std::string_view user;
  std::string_view client;
  std::string_view channel;
};

struct VerifierConfig {
  std::vector<VerificationKey> keys;  // each bound to its algorithm; keys with an empty secret
                                      // are dropped (an unset secret never means "anyone")
  std::string audience;  // non-empty: "aud" (a string, or an array of strings) must hold it
  std::string issuer;    // non-empty: "iss" must equal it
  int64_t leeway_s = 0;  // clock skew tolerated on "exp" and "nbf" (>= 0)
};

// Verifies compact JWS tokens against a fixed set of keys. Owned by the server (a reload makes
// a new one and each loop swaps its shared pointer), shared by the loops. Immutable after
// construction. Thread: any (per-thread scratch inside).
class TokenVerifier {
 public:
  // One HS256 secret. An empty secret verifies nothing (every token is kUnsupportedAlgorithm).
  explicit TokenVerifier(std::string hmac_secret, int64_t leeway_s = 0);
  explicit TokenVerifier(VerifierConfig config);

  // A connection token (no "channel" claim). now_s: Unix seconds. Checks, in order: size,
  // shape and header, key, signature (before the payload is parsed), claims, kind, time,
  // audience, issuer. "iat" is type-checked only; unknown claims are ignored, and so are "aud"
  // and "iss" when no audience or issuer is configured.
  VerifyResult verify(std::string_view token, int64_t now_s) const;
  // A channel token: as verify(), but it must carry "channel", and then "sub" must be
  // req.user, "channel" req.channel and "client" (if present) req.client.
  VerifyResult verify_channel(std::string_view token, int64_t now_s,
                              const ChannelRequest& req) const;

  bool has_keys() const { return !config_.keys.empty(); }
  // "HS256 secret, RS256 (2048-bit RSA) kid=a; aud=...": for the start-up and SIGHUP logs.
  std::string describe() const;

 private:
  VerifyResult check(std::string_view token, int64_t now_s, const ChannelRequest* channel) const;

  VerifierConfig config_;
};

}  // namespace herald::auth
