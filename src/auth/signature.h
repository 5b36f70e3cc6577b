#pragma once
// JWS signatures (RFC 7515, RFC 7518 section 3): checking one against one key, by the key's own
// algorithm, and the ES256 conversion between JOSE's raw r||s and the DER that OpenSSL speaks.
// Used by TokenVerifier (checking) and TokenSigner (making); internal to the auth layer.
// Thread: any (an HMAC and a digest context per thread, reused across calls).

#include <string>
#include <string_view>

#include "auth/keys.h"

namespace herald::auth {

inline constexpr size_t kHs256SignatureSize = 32;  // SHA-256
inline constexpr size_t kEs256SignatureSize = 64;  // r || s, 32 bytes each (RFC 7518 3.4)

// True iff `signature` is a valid signature of `signing_input` under `key` with the key's
// algorithm. HS256 compares in constant time. A signature of the wrong length for the key
// (HS256: 32 bytes; RS256: the modulus size; ES256: 64 bytes, so never DER) is false before
// any arithmetic. False too when OpenSSL fails (out of memory): what was not checked is refused.
bool verify_signature(const VerificationKey& key, std::string_view signing_input,
                      std::string_view signature);

// ES256's raw r||s (exactly 64 bytes) as a DER ECDSA-Sig-Value; false for any other length.
bool es256_raw_to_der(std::string_view raw, std::string& der);
// A DER ECDSA-Sig-Value of P-256 as raw r||s, each left-padded to 32 bytes; false if it is not
// one (or r or s does not fit 32 bytes).
bool es256_der_to_raw(std::string_view der, std::string& raw);

}  // namespace herald::auth
