#include "auth/jwt.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "auth/base64url.h"
#include "auth/raw_json.h"

namespace herald::auth {
namespace {

constexpr size_t kMacSize = 32;  // SHA-256
constexpr size_t kPadding = simdjson::SIMDJSON_PADDING;
constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinSeconds = std::numeric_limits<int64_t>::min();
// Decoded parts of a kMaxTokenSize token, each followed by the padding simdjson reads past
// the end of its input.
constexpr size_t kScratchSize = base64url_decoded_max(kMaxTokenSize) + 3 * kPadding;

// base64url of the headers that common libraries write (jsonwebtoken, PyJWT, jose: alg first;
// firebase/php-jwt: typ first). They need no JSON parse; any other header takes the slow path.
constexpr std::string_view kKnownHeaders[] = {
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",  // {"alg":"HS256","typ":"JWT"}
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9",  // {"typ":"JWT","alg":"HS256"}
    "eyJhbGciOiJIUzI1NiJ9",                  // {"alg":"HS256"}
};

std::atomic<uint64_t> g_next_key_id{1};

// Per-thread state of verify(): a JSON parser sized for the largest token, the decode buffer
// and an HMAC context that keeps the last secret it was keyed with, so a steady stream of
// connects allocates nothing and re-derives no key. Thread: its own thread only.
struct Scratch {
  simdjson::dom::parser parser{kScratchSize};
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* mac_ctx = nullptr;
  uint64_t mac_key_id = 0;    // 0: mac_ctx holds no key
  bool parser_ready = false;  // the parser has its depth limit and full capacity
  alignas(64) char buf[kScratchSize];

  Scratch() { prepare_parser(); }
  ~Scratch() {
    EVP_MAC_CTX_free(mac_ctx);
    EVP_MAC_free(mac);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  // Sizes the parser and its document once, so that verify() does not allocate, and sets the
  // depth limit, which simdjson counts as the protocol does. False only when out of memory;
  // then verify() parses nothing and the next call tries again.
  bool prepare_parser() {
    if (!parser_ready && parser.allocate(kScratchSize, kMaxClaimsDepth) == simdjson::SUCCESS) {
      std::fill(buf, buf + kScratchSize, ' ');
      buf[0] = '0';
      // Allocates the document now; if that fails, the first real parse allocates it.
      simdjson::dom::element ignored;
      bool warmed =
          parser.parse(buf, kScratchSize - kPadding, false).get(ignored) == simdjson::SUCCESS;
      (void)warmed;
      parser_ready = true;
    }
    return parser_ready;
  }

  // HMAC-SHA256(secret, data) into out. False only if OpenSSL fails (out of memory).
  bool hmac(std::string_view secret, uint64_t key_id, std::string_view data,
            unsigned char (&out)[kMacSize]) {
    if (mac_ctx == nullptr) {
      mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
      mac_ctx = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
      if (mac_ctx == nullptr) {
        return false;
      }
    }
    int ok = 0;
    if (mac_key_id == key_id) {
      ok = EVP_MAC_init(mac_ctx, nullptr, 0, nullptr);  // same key: only reset the state
    } else {
      char digest[] = "SHA256";
      OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
          OSSL_PARAM_construct_end(),
      };
      mac_key_id = 0;
      ok = EVP_MAC_init(mac_ctx, reinterpret_cast<const unsigned char*>(secret.data()),
                        secret.size(), params);
      if (ok == 1) {
        mac_key_id = key_id;
      }
    }
    size_t size = 0;
    return ok == 1 &&
           EVP_MAC_update(mac_ctx, reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1 &&
           EVP_MAC_final(mac_ctx, out, &size, kMacSize) == 1 && size == kMacSize;
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

bool is_known_header(std::string_view header_b64) {
  for (std::string_view known : kKnownHeaders) {
    if (header_b64 == known) {
      return true;
    }
  }
  return false;
}

// The JOSE header rules: a JSON object whose single "alg" is "HS256" and without "crit" (we
// understand no extension, and RFC 7515 section 4.1.11 says to refuse what we do not).
// Other members ("typ", "kid", ...) are advisory and ignored.
std::optional<TokenError> check_header(simdjson::dom::parser& parser, const char* text,
                                       size_t size) {
  simdjson::dom::object header;
  if (parser.parse(text, size, false).get(header) != simdjson::SUCCESS) {
    return TokenError::kMalformed;
  }
  int algs = 0;
  bool hs256 = false;
  for (auto field : header) {
    if (field.key == "alg") {
      ++algs;
      std::string_view alg;
      hs256 = field.value.get(alg) == simdjson::SUCCESS && alg == "HS256";
    } else if (field.key == "crit") {
      return TokenError::kUnsupportedAlgorithm;
    }
  }
  if (algs > 1) {
    return TokenError::kMalformed;
  }
  if (!hs256) {
    return TokenError::kUnsupportedAlgorithm;
  }
  return std::nullopt;
}

// A NumericDate (RFC 7519 section 2: seconds, possibly fractional) rounded up to whole
// seconds and clamped to int64, so that for an integer `now`: date <= now iff result <= now.
bool numeric_date_ceil(simdjson::dom::element value, int64_t& out) {
  switch (value.type()) {
    case simdjson::dom::element_type::INT64:
      out = value.get_int64().value_unsafe();
      return true;
    case simdjson::dom::element_type::UINT64:
      out = kMaxSeconds;  // simdjson only uses UINT64 above INT64_MAX
      return true;
    case simdjson::dom::element_type::DOUBLE: {
      double d = std::ceil(value.get_double().value_unsafe());
      if (d >= 9223372036854775808.0) {
        out = kMaxSeconds;
      } else if (d < -9223372036854775808.0) {
        out = kMinSeconds;
      } else {
        out = static_cast<int64_t>(d);
      }
      return true;
    }
    default:
      return false;
  }
}

int64_t saturating_add(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? kMaxSeconds : kMinSeconds;
  }
  return r;
}

// The registered claims verify() reads; anything else in the payload is ignored.
enum Claim : size_t { kSub, kExp, kNbf, kIat, kInfo, kClaimCount };
constexpr std::string_view kClaimNames[kClaimCount] = {"sub", "exp", "nbf", "iat", "info"};

struct ClaimFields {
  simdjson::dom::element value[kClaimCount];
  size_t index[kClaimCount] = {};  // position among the payload's members
  bool present[kClaimCount] = {};
};

// Collects the known claims; false if one appears twice (JSON leaves duplicates undefined and
// libraries disagree on which one wins, so a signer and we could read different values).
bool collect_claims(simdjson::dom::object payload, ClaimFields& fields) {
  size_t index = 0;
  for (auto field : payload) {
    for (size_t k = 0; k < kClaimCount; ++k) {
      if (field.key == kClaimNames[k]) {
        if (fields.present[k]) {
          return false;
        }
        fields.present[k] = true;
        fields.value[k] = field.value;
        fields.index[k] = index;
        break;
      }
    }
    ++index;
  }
  return true;
}

}  // namespace

std::string_view to_string(TokenError error) {
  switch (error) {
    case TokenError::kMalformed:
      return "malformed";
    case TokenError::kUnsupportedAlgorithm:
      return "unsupported_algorithm";
    case TokenError::kBadSignature:
      return "bad_signature";
    case TokenError::kExpired:
      return "expired";
    case TokenError::kNotYetValid:
      return "not_yet_valid";
    case TokenError::kTooLarge:
      return "too_large";
    case TokenError::kBadClaims:
      return "bad_claims";
  }
  return "unknown";
}

TokenVerifier::TokenVerifier(std::string hmac_secret, int64_t leeway_s)
    : secret_(std::move(hmac_secret)),
      leeway_s_(leeway_s > 0 ? leeway_s : 0),
      key_id_(g_next_key_id.fetch_add(1, std::memory_order_relaxed)) {}

VerifyResult TokenVerifier::verify(std::string_view token, int64_t now_s) const {
  if (token.size() > kMaxTokenSize) {
    return TokenError::kTooLarge;
  }
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return TokenError::kMalformed;
  }
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_b64 = token.substr(dot2 + 1);

  // Three decoded parts side by side, each followed by padding for simdjson.
  Scratch& s = scratch();
  if (!s.prepare_parser()) {
    return TokenError::kBadSignature;  // out of memory: refuse rather than skip a check
  }
  char* header = s.buf;
  size_t header_size = 0;
  if (!base64url_decode(header_b64, header, header_size)) {
    return TokenError::kMalformed;
  }
  char* payload = header + header_size + kPadding;
  size_t payload_size = 0;
  if (!base64url_decode(payload_b64, payload, payload_size)) {
    return TokenError::kMalformed;
  }
  char* signature = payload + payload_size + kPadding;
  size_t signature_size = 0;
  if (!base64url_decode(signature_b64, signature, signature_size)) {
    return TokenError::kMalformed;
  }

  if (!is_known_header(header_b64)) {
    if (auto error = check_header(s.parser, header, header_size)) {
      return *error;
    }
  }

  // Only signed bytes go further: the payload is parsed after this check.
  unsigned char mac[kMacSize];
  if (secret_.empty() || signature_size != kMacSize ||
      !s.hmac(secret_, key_id_, token.substr(0, dot2), mac) ||
      CRYPTO_memcmp(mac, signature, kMacSize) != 0) {
    return TokenError::kBadSignature;
  }

  simdjson::dom::object payload_object;
  ClaimFields claims;
  if (s.parser.parse(payload, payload_size, false).get(payload_object) != simdjson::SUCCESS ||
      !collect_claims(payload_object, claims)) {
    return TokenError::kBadClaims;
  }
  ConnectClaims out;
  if (claims.present[kSub]) {
    std::string_view sub;
    if (claims.value[kSub].get(sub) != simdjson::SUCCESS) {
      return TokenError::kBadClaims;
    }
    out.user.assign(sub);
  }
  int64_t dates[kClaimCount] = {};
  for (Claim k : {kExp, kNbf, kIat}) {
    if (claims.present[k] && !numeric_date_ceil(claims.value[k], dates[k])) {
      return TokenError::kBadClaims;
    }
  }
  if (claims.present[kExp]) {
    out.expires_at_s = saturating_add(dates[kExp], leeway_s_);
    // A date at or before the epoch is expired whatever the clock says, so that 0 keeps
    // meaning "no exp".
    if (out.expires_at_s <= now_s || out.expires_at_s <= 0) {
      return TokenError::kExpired;
    }
  }
  if (claims.present[kNbf] && saturating_add(dates[kNbf], -leeway_s_) > now_s) {
    return TokenError::kNotYetValid;
  }
  if (claims.present[kInfo] && !claims.value[kInfo].is_null()) {
    std::string_view raw =
        raw_member_value(std::string_view(payload, payload_size), claims.index[kInfo]);
    if (raw.empty() || !minify_into(raw, out.info)) {
      return TokenError::kBadClaims;  // unreachable for JSON simdjson accepted
    }
  }
  return out;
}

std::string make_hs256_token(std::string_view secret, std::string_view claims_json,
                             std::string_view header_json) {
  std::string token;
  token.reserve((header_json.size() + claims_json.size() + kMacSize) * 4 / 3 + 8);
  append_base64url(token, header_json);
  token += '.';
  append_base64url(token, claims_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac,
           &mac_size) == nullptr) {
    return {};
  }
  token += '.';
  append_base64url(token, std::string_view(reinterpret_cast<const char*>(mac), mac_size));
  return token;
}

}  // namespace herald::auth
