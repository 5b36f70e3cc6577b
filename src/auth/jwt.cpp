#include "auth/jwt.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "auth/base64url.h"
#include "auth/raw_json.h"
#include "auth/signature.h"

namespace herald::auth {
namespace {

constexpr size_t kPadding = simdjson::SIMDJSON_PADDING;
constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinSeconds = std::numeric_limits<int64_t>::min();
// Decoded parts of a kMaxTokenSize token, each followed by the padding simdjson reads past
// the end of its input.
constexpr size_t kScratchSize = base64url_decoded_max(kMaxTokenSize) + 3 * kPadding;

// base64url of the headers that common libraries write (jsonwebtoken, PyJWT, jose: alg first;
// firebase/php-jwt: typ first), without "kid". They need no JSON parse; any other header takes
// the slow path.
struct KnownHeader {
  std::string_view b64;
  Algorithm alg;
};
constexpr KnownHeader kKnownHeaders[] = {
    {"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", Algorithm::kHs256},  // {"alg":"HS256","typ":"JWT"}
    {"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9", Algorithm::kHs256},  // {"typ":"JWT","alg":"HS256"}
    {"eyJhbGciOiJIUzI1NiJ9", Algorithm::kHs256},                  // {"alg":"HS256"}
    {"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9", Algorithm::kRs256},  // {"alg":"RS256","typ":"JWT"}
    {"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9", Algorithm::kRs256},  // {"typ":"JWT","alg":"RS256"}
    {"eyJhbGciOiJSUzI1NiJ9", Algorithm::kRs256},                  // {"alg":"RS256"}
    {"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9", Algorithm::kEs256},  // {"alg":"ES256","typ":"JWT"}
    {"eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9", Algorithm::kEs256},  // {"typ":"JWT","alg":"ES256"}
    {"eyJhbGciOiJFUzI1NiJ9", Algorithm::kEs256},                  // {"alg":"ES256"}
};

// Per-thread state of verify(): a JSON parser sized for the largest token and the decode
// buffer, so a steady stream of connects allocates nothing. Thread: its own thread only.
struct Scratch {
  simdjson::dom::parser parser{kScratchSize};
  bool parser_ready = false;  // the parser has its depth limit and full capacity
  std::string kid;            // the header's "kid", copied out before the payload is parsed
  alignas(64) char buf[kScratchSize];

  Scratch() { prepare_parser(); }
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
      kid.reserve(256);
      parser_ready = true;
    }
    return parser_ready;
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// The JOSE header: a JSON object with exactly one "alg", naming one of our algorithms, at most
// one "kid" (a string), and no "crit" (we understand no extension, and RFC 7515 section 4.1.11
// says to refuse what we do not). Other members ("typ", "jku", "x5u", "jwk"...) are ignored:
// keys come from the configuration only, never from the token.
std::variant<Algorithm, TokenError> check_header(simdjson::dom::parser& parser, const char* text,
                                                 size_t size, std::string& kid) {
  simdjson::dom::object header;
  if (parser.parse(text, size, false).get(header) != simdjson::SUCCESS) {
    return TokenError::kMalformed;
  }
  int algs = 0;
  int kids = 0;
  std::string_view alg_name;  // stays "" (no algorithm) unless "alg" is a string
  for (auto field : header) {
    if (field.key == "alg") {
      ++algs;
      if (field.value.get(alg_name) != simdjson::SUCCESS) {
        alg_name = {};
      }
    } else if (field.key == "kid") {
      ++kids;
      std::string_view value;
      if (field.value.get(value) != simdjson::SUCCESS) {
        return TokenError::kMalformed;
      }
      kid.assign(value);
    } else if (field.key == "crit") {
      return TokenError::kUnsupportedAlgorithm;
    }
  }
  if (algs > 1 || kids > 1) {
    return TokenError::kMalformed;
  }
  for (Algorithm alg : {Algorithm::kHs256, Algorithm::kRs256, Algorithm::kEs256}) {
    if (alg_name == algorithm_name(alg)) {
      return alg;
    }
  }
  return TokenError::kUnsupportedAlgorithm;
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
enum Claim : size_t { kSub, kExp, kNbf, kIat, kInfo, kAud, kIss, kChannel, kClient, kClaimCount };
constexpr std::string_view kClaimNames[kClaimCount] = {"sub", "exp", "nbf",     "iat",   "info",
                                                       "aud", "iss", "channel", "client"};

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

// Reads an optional string claim into out; false if present but not a string.
bool string_claim(const ClaimFields& claims, Claim k, std::string& out) {
  if (!claims.present[k]) {
    return true;
  }
  std::string_view value;
  if (claims.value[k].get(value) != simdjson::SUCCESS) {
    return false;
  }
  out.assign(value);
  return true;
}

// "aud" is a string or an array of strings (RFC 7519 section 4.1.3). Sets `holds` when one of
// them equals `audience`. False if it has another shape.
bool audience_claim(simdjson::dom::element aud, std::string_view audience, bool& holds) {
  std::string_view one;
  if (aud.get(one) == simdjson::SUCCESS) {
    holds = one == audience;
    return true;
  }
  simdjson::dom::array list;
  if (aud.get(list) != simdjson::SUCCESS) {
    return false;
  }
  holds = false;
  for (simdjson::dom::element e : list) {
    if (e.get(one) != simdjson::SUCCESS) {
      return false;
    }
    holds = holds || one == audience;
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
    case TokenError::kUnknownKey:
      return "unknown_key";
    case TokenError::kWrongAudience:
      return "wrong_audience";
    case TokenError::kWrongIssuer:
      return "wrong_issuer";
    case TokenError::kWrongKind:
      return "wrong_kind";
    case TokenError::kWrongUser:
      return "wrong_user";
    case TokenError::kWrongChannel:
      return "wrong_channel";
    case TokenError::kWrongClient:
      return "wrong_client";
  }
  return "unknown";
}

size_t index_of(TokenError error) {
  for (size_t i = 0; i < std::size(kAllTokenErrors); ++i) {
    if (kAllTokenErrors[i] == error) {
      return i;
    }
  }
  return 0;  // unreachable: every value is listed
}

TokenVerifier::TokenVerifier(std::string hmac_secret, int64_t leeway_s)
    : TokenVerifier(
          VerifierConfig{{VerificationKey::hmac(std::move(hmac_secret))}, {}, {}, leeway_s}) {}

TokenVerifier::TokenVerifier(VerifierConfig config) : config_(std::move(config)) {
  auto& keys = config_.keys;
  keys.erase(std::remove_if(keys.begin(), keys.end(),
                            [](const VerificationKey& k) {
                              return k.algorithm() == Algorithm::kHs256 && k.secret().empty();
                            }),
             keys.end());
  config_.leeway_s = std::max<int64_t>(config_.leeway_s, 0);
}

std::string TokenVerifier::describe() const {
  std::string out;
  for (const VerificationKey& k : config_.keys) {
    out += (out.empty() ? "" : ", ") + k.describe();
  }
  if (out.empty()) {
    out = "no key";
  }
  if (!config_.audience.empty()) {
    out += "; aud " + config_.audience;
  }
  if (!config_.issuer.empty()) {
    out += "; iss " + config_.issuer;
  }
  return out;
}

VerifyResult TokenVerifier::verify(std::string_view token, int64_t now_s) const {
  return check(token, now_s, nullptr);
}

VerifyResult TokenVerifier::verify_channel(std::string_view token, int64_t now_s,
                                           const ChannelRequest& req) const {
  return check(token, now_s, &req);
}

VerifyResult TokenVerifier::check(std::string_view token, int64_t now_s,
                                  const ChannelRequest* channel) const {
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

  std::optional<Algorithm> alg;
  s.kid.clear();
  for (const KnownHeader& known : kKnownHeaders) {
    if (header_b64 == known.b64) {
      alg = known.alg;
      break;
    }
  }
  if (!alg) {
    auto checked = check_header(s.parser, header, header_size, s.kid);
    if (auto* error = std::get_if<TokenError>(&checked)) {
      return *error;
    }
    alg = std::get<Algorithm>(checked);
  }

  // The key is chosen by the configuration: only keys bound to the header's algorithm are
  // tried, each by its own algorithm. A "kid" narrows them to that key (and keys without one).
  // Only signed bytes go further: the payload is parsed after this.
  bool algorithm_served = false;
  bool tried = false;
  bool verified = false;
  std::string_view signing_input = token.substr(0, dot2);
  std::string_view signature_bytes(signature, signature_size);
  for (const VerificationKey& key : config_.keys) {
    if (key.algorithm() != *alg) {
      continue;
    }
    algorithm_served = true;
    if (!s.kid.empty() && !key.kid().empty() && key.kid() != s.kid) {
      continue;
    }
    tried = true;
    if (verify_signature(key, signing_input, signature_bytes)) {
      verified = true;
      break;
    }
  }
  if (!algorithm_served) {
    return TokenError::kUnsupportedAlgorithm;
  }
  if (!tried) {
    return TokenError::kUnknownKey;
  }
  if (!verified) {
    return TokenError::kBadSignature;
  }

  simdjson::dom::object payload_object;
  ClaimFields claims;
  if (s.parser.parse(payload, payload_size, false).get(payload_object) != simdjson::SUCCESS ||
      !collect_claims(payload_object, claims)) {
    return TokenError::kBadClaims;
  }
  TokenClaims out;
  if (!string_claim(claims, kSub, out.user) || !string_claim(claims, kChannel, out.channel) ||
      !string_claim(claims, kClient, out.client) ||
      (claims.present[kChannel] && out.channel.empty())) {
    return TokenError::kBadClaims;
  }
  // "aud" and "iss" are read only when configured: tokens made before they were checked keep
  // working whatever they hold there.
  std::string issuer;
  if (!config_.issuer.empty() && !string_claim(claims, kIss, issuer)) {
    return TokenError::kBadClaims;
  }
  int64_t dates[kClaimCount] = {};
  for (Claim k : {kExp, kNbf, kIat}) {
    if (claims.present[k] && !numeric_date_ceil(claims.value[k], dates[k])) {
      return TokenError::kBadClaims;
    }
  }
  bool audience_held = false;
  if (!config_.audience.empty() && claims.present[kAud] &&
      !audience_claim(claims.value[kAud], config_.audience, audience_held)) {
    return TokenError::kBadClaims;
  }
  if (claims.present[kInfo] && !claims.value[kInfo].is_null()) {
    std::string_view raw =
        raw_member_value(std::string_view(payload, payload_size), claims.index[kInfo]);
    if (raw.empty() || !minify_into(raw, out.info)) {
      return TokenError::kBadClaims;  // unreachable for JSON simdjson accepted
    }
  }
  // A channel token is not a connection token, nor the reverse, even under the same key.
  if (claims.present[kChannel] != (channel != nullptr)) {
    return TokenError::kWrongKind;
  }
  if (claims.present[kExp]) {
    out.expires_at_s = saturating_add(dates[kExp], config_.leeway_s);
    // A date at or before the epoch is expired whatever the clock says, so that 0 keeps
    // meaning "no exp".
    if (out.expires_at_s <= now_s || out.expires_at_s <= 0) {
      return TokenError::kExpired;
    }
  }
  if (claims.present[kNbf] && saturating_add(dates[kNbf], -config_.leeway_s) > now_s) {
    return TokenError::kNotYetValid;
  }
  if (!config_.audience.empty() && !audience_held) {
    return TokenError::kWrongAudience;
  }
  if (!config_.issuer.empty() && (!claims.present[kIss] || issuer != config_.issuer)) {
    return TokenError::kWrongIssuer;
  }
  if (channel != nullptr) {
    if (out.user != channel->user) {
      return TokenError::kWrongUser;
    }
    if (out.channel != channel->channel) {
      return TokenError::kWrongChannel;
    }
    if (claims.present[kClient] && out.client != channel->client) {
      return TokenError::kWrongClient;
    }
  }
  return out;
}

}  // namespace herald::auth
