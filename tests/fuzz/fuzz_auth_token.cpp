// Fuzzes TokenVerifier. Input: [mode byte][rest]. Mode % 3 picks:
//   0: rest is a token, verified as is. Whatever it accepts must carry sane claims.
//   1: rest is "user\0info": the claims {"sub":user,"info":info,"exp":...} are signed with
//      make_hs256_token() and must verify to exactly user and minified info, or be refused for
//      the one reason an independent check predicts (bad UTF-8, bad JSON, depth, size).
//   2: rest is edits (position, xor) applied to a signed token: any change must be refused.

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "auth/jwt.h"

namespace {

using herald::auth::ConnectClaims;
using herald::auth::TokenError;
using herald::auth::TokenVerifier;
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

void check_accepted(const ConnectClaims& c) {
  check(c.expires_at_s == 0 || c.expires_at_s > kNow);
  check(c.info.empty() || valid_json(c.info, herald::auth::kMaxClaimsDepth));
  check(simdjson::validate_utf8(c.user.data(), c.user.size()));
}

void verify_as_is(std::string_view token) {
  VerifyResult r = verifier().verify(token, kNow);
  if (const auto* c = std::get_if<ConnectClaims>(&r)) {
    check_accepted(*c);
    check(token.size() <= herald::auth::kMaxTokenSize);
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
  const auto* c = std::get_if<ConnectClaims>(&r);
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

void edits(std::string_view rest) {
  static const std::string kToken = herald::auth::make_hs256_token(
      kSecret, R"({"sub":"42","info":{"name":"Ann","tags":[1,2.5,"x"]},"exp":1700003600})");
  std::string token = kToken;
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
  VerifyResult r = verifier().verify(token, kNow);
  check(std::holds_alternative<ConnectClaims>(r) == (token == kToken));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      verify_as_is(rest);
      break;
    case 1:
      round_trip(rest);
      break;
    default:
      edits(rest);
      break;
  }
  return 0;
}
