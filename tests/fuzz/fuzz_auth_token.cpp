// Fuzzes TokenVerifier. Input: [mode byte][rest]. Mode % 5 picks:
//   0: rest is a token, verified as is: as a connection token and as a channel token, by a
//      verifier with an HS256 secret, an RS256 and an ES256 key (with and without "kid"), and by
//      one that also checks "aud" and "iss". Whatever they accept must carry sane claims.
//   1: rest is "user\0info": the claims {"sub":user,"info":info,"exp":...} are signed with
//      make_hs256_token() and must verify to exactly user and minified info, or be refused for
//      the one reason an independent check predicts (bad UTF-8, bad JSON, depth, size).
//   2: rest is edits (position, xor) applied to a signed HS256 token: any change is refused.
//   3: rest is [signer byte]"user\0channel\0client": a channel token signed RS256 or ES256 must
//      verify for exactly that user, channel and client, and be refused for another channel.
//   4: as 2, on RS256 and ES256 tokens (a raw r||s signature included).

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "auth/jwt.h"
#include "fuzz_keys.h"

namespace {

using herald::auth::ChannelRequest;
using herald::auth::TokenClaims;
using herald::auth::TokenError;
using herald::auth::TokenSigner;
using herald::auth::TokenVerifier;
using herald::auth::VerificationKey;
using herald::auth::VerifierConfig;
using herald::auth::VerifyResult;

constexpr std::string_view kSecret = "fuzz-secret-0123456789abcdef0123";
constexpr int64_t kNow = 1'700'000'000;
constexpr int64_t kExp = kNow + 3600;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

const TokenVerifier& verifier() {
  static const TokenVerifier v{std::string(kSecret)};
  return v;
}

const TokenSigner& rsa_signer() {
  static const TokenSigner s = *TokenSigner::from_private_pem(herald::fuzz::kRsaPrivateKey);
  return s;
}

const TokenSigner& ec_signer() {
  static const TokenSigner s = *TokenSigner::from_private_pem(herald::fuzz::kEcPrivateKey);
  return s;
}

// Every algorithm at once: HS256 with kid "hs", RS256 with kid "r1", ES256 without kid.
const TokenVerifier& multi_verifier() {
  static const TokenVerifier v(
      VerifierConfig{{VerificationKey::hmac(std::string(kSecret), "hs"),
                      rsa_signer().verification_key("r1"), ec_signer().verification_key()},
                     {},
                     {},
                     0});
  return v;
}

const TokenVerifier& strict_verifier() {
  static const TokenVerifier v(
      VerifierConfig{{VerificationKey::hmac(std::string(kSecret)), rsa_signer().verification_key(),
                      ec_signer().verification_key()},
                     "herald",
                     "issuer",
                     0});
  return v;
}

// Parses `json` on its own; depth is the most levels it may nest (0 = simdjson's default).
bool valid_json(std::string_view json, size_t depth) {
  simdjson::dom::parser parser;
  if (depth != 0 && parser.allocate(json.size() + 64, depth) != simdjson::SUCCESS) {
    return false;
  }
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  return parser.parse(padded).get(root) == simdjson::SUCCESS;
}

void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;  // bytes >= 0x80 as they are: invalid UTF-8 must make the claims bad
    }
  }
  out += '"';
}

void check_accepted(const TokenClaims& c) {
  check(c.expires_at_s == 0 || c.expires_at_s > kNow);
  check(c.info.empty() || valid_json(c.info, herald::auth::kMaxClaimsDepth));
  check(simdjson::validate_utf8(c.user.data(), c.user.size()));
}

void verify_as_is(std::string_view token) {
  const ChannelRequest request{"42", "c1", "private:a"};
  for (const TokenVerifier* v : {&verifier(), &multi_verifier(), &strict_verifier()}) {
    VerifyResult r = v->verify(token, kNow);
    if (const auto* c = std::get_if<TokenClaims>(&r)) {
      check_accepted(*c);
      check(c->channel.empty());  // a connection token never carries a channel
      check(token.size() <= herald::auth::kMaxTokenSize);
    }
    VerifyResult ch = v->verify_channel(token, kNow, request);
    if (const auto* c = std::get_if<TokenClaims>(&ch)) {
      check_accepted(*c);
      check(c->user == request.user && c->channel == request.channel);
      check(c->client.empty() || c->client == request.client);
    }
  }
}

void round_trip(std::string_view rest) {
  size_t nul = rest.find('\0');
  std::string_view user = rest.substr(0, nul);
  std::string_view info = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  std::string claims = "{\"sub\":";
  append_escaped(claims, user);
  if (!info.empty()) {
    claims += ",\"info\":";
    claims += info;
  }
  claims += ",\"exp\":" + std::to_string(kExp) + "}";
  std::string token = herald::auth::make_hs256_token(kSecret, claims);
  VerifyResult r = verifier().verify(token, kNow);

  if (token.size() > herald::auth::kMaxTokenSize) {
    check(std::get_if<TokenError>(&r) != nullptr &&
          std::get<TokenError>(r) == TokenError::kTooLarge);
    return;
  }
  // The info value sits at level 2 of the claims, so on its own it may nest one level less.
  // Info text that is not one JSON value can still make valid claims ("1,\"x\":2"): then the
  // whole claims text decides.
  bool claims_ok = simdjson::validate_utf8(user.data(), user.size()) &&
                   valid_json(claims, herald::auth::kMaxClaimsDepth);
  bool info_is_one_value = info.empty() || valid_json(info, 0);
  if (!claims_ok) {
    check(std::get_if<TokenError>(&r) != nullptr &&
          std::get<TokenError>(r) == TokenError::kBadClaims);
    return;
  }
  if (!info_is_one_value) {
    return;  // e.g. info "1,\"sub\":2": valid claims of another shape; nothing to compare
  }
  const auto* c = std::get_if<TokenClaims>(&r);
  check(c != nullptr);
  check_accepted(*c);
  check(c->user == user);
  check(c->expires_at_s == kExp);
  if (info.empty() || info.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return;
  }
  std::string minified(info.size(), '\0');
  size_t size = 0;
  check(simdjson::minify(info.data(), info.size(), minified.data(), size) == simdjson::SUCCESS);
  minified.resize(size);
  check(minified == "null" ? c->info.empty() : c->info == minified);
}

// Applies the edits of `rest` (position, xor; 0 deletes; past the end appends) to a copy of
// token. Any change must be refused by verifier.
void apply_edits(const std::string& original, std::string_view rest, const TokenVerifier& v) {
  std::string token = original;
  for (size_t i = 0; i + 1 < rest.size(); i += 2) {
    size_t pos = static_cast<unsigned char>(rest[i]) % (token.size() + 1);
    auto x = static_cast<unsigned char>(rest[i + 1]);
    if (pos == token.size()) {
      token += static_cast<char>(x);  // append
    } else if (x == 0) {
      token.erase(pos, 1);  // delete
    } else {
      token[pos] = static_cast<char>(token[pos] ^ x);
    }
  }
  VerifyResult r = v.verify(token, kNow);
  check(std::holds_alternative<TokenClaims>(r) == (token == original));
}

void edits(std::string_view rest) {
  static const std::string kToken = herald::auth::make_hs256_token(
      kSecret, R"({"sub":"42","info":{"name":"Ann","tags":[1,2.5,"x"]},"exp":1700003600})");
  apply_edits(kToken, rest, verifier());
}

void asymmetric_edits(std::string_view rest) {
  static const std::string kClaims = R"({"sub":"42","info":{"n":[1,"x"]},"exp":1700003600})";
  static const std::string kRsa = rsa_signer().sign(kClaims, "r1");
  static const std::string kEc = ec_signer().sign(kClaims);
  if (rest.empty()) {
    return;
  }
  apply_edits((rest[0] & 1) != 0 ? kRsa : kEc, rest.substr(1), multi_verifier());
}

void channel_round_trip(std::string_view rest) {
  if (rest.empty()) {
    return;
  }
  const TokenSigner& signer = (rest[0] & 1) != 0 ? rsa_signer() : ec_signer();
  rest.remove_prefix(1);
  size_t nul1 = rest.find('\0');
  size_t nul2 = nul1 == std::string_view::npos ? nul1 : rest.find('\0', nul1 + 1);
  if (nul2 == std::string_view::npos) {
    return;
  }
  std::string_view user = rest.substr(0, nul1);
  std::string_view channel = rest.substr(nul1 + 1, nul2 - nul1 - 1);
  std::string_view client = rest.substr(nul2 + 1);
  std::string claims = "{\"sub\":";
  append_escaped(claims, user);
  claims += ",\"channel\":";
  append_escaped(claims, channel);
  if (!client.empty()) {
    claims += ",\"client\":";
    append_escaped(claims, client);
  }
  claims += ",\"exp\":" + std::to_string(kExp) + "}";
  std::string token = signer.sign(claims);
  VerifyResult r =
      multi_verifier().verify_channel(token, kNow, ChannelRequest{user, client, channel});
  bool utf8 = simdjson::validate_utf8(user.data(), user.size()) &&
              simdjson::validate_utf8(channel.data(), channel.size()) &&
              simdjson::validate_utf8(client.data(), client.size());
  if (token.size() > herald::auth::kMaxTokenSize) {
    check(std::get_if<TokenError>(&r) != nullptr &&
          std::get<TokenError>(r) == TokenError::kTooLarge);
    return;
  }
  if (!utf8 || channel.empty()) {
    check(std::get_if<TokenError>(&r) != nullptr &&
          std::get<TokenError>(r) == TokenError::kBadClaims);
    return;
  }
  const auto* c = std::get_if<TokenClaims>(&r);
  check(c != nullptr && c->user == user && c->channel == channel && c->client == client);
  std::string other(channel);
  other += 'x';
  VerifyResult wrong =
      multi_verifier().verify_channel(token, kNow, ChannelRequest{user, client, other});
  check(std::get_if<TokenError>(&wrong) != nullptr &&
        std::get<TokenError>(wrong) == TokenError::kWrongChannel);
  // And never as a connection token.
  VerifyResult connect = multi_verifier().verify(token, kNow);
  check(std::get_if<TokenError>(&connect) != nullptr &&
        std::get<TokenError>(connect) == TokenError::kWrongKind);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      verify_as_is(rest);
      break;
    case 1:
      round_trip(rest);
      break;
    case 2:
      edits(rest);
      break;
    case 3:
      channel_round_trip(rest);
      break;
    default:
      asymmetric_edits(rest);
      break;
  }
  return 0;
}
