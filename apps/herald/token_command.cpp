#include "token_command.h"

#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <variant>

#include "auth/jwt.h"
#include "protocol/json_writer.h"

namespace herald::app {
namespace {

struct TokenOptions {
  std::string user;
  std::string info;
  bool has_info = false;
  long long ttl_s = 3600;
  std::string secret;
};

// RFC 7518 section 3.2: an HS256 key must be at least as long as the hash.
constexpr size_t kMinSecretSize = 32;
// 100 years: keeps now + ttl far from overflow; "never" is --ttl 0.
constexpr long long kMaxTtlS = 100LL * 365 * 24 * 3600;

int run(const TokenOptions& o) {
  std::string secret = o.secret;
  if (secret.empty()) {
    const char* env = std::getenv("HERALD_TOKEN_SECRET");
    secret = env != nullptr ? env : "";
  }
  if (secret.empty()) {
    std::fprintf(stderr, "herald token: no secret: pass --secret or set HERALD_TOKEN_SECRET\n");
    return 1;
  }
  if (secret.size() < kMinSecretSize) {
    std::fprintf(stderr, "herald token: warning: the secret is shorter than %zu bytes\n",
                 kMinSecretSize);
  }
  int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();

  std::string claims = "{\"sub\":";
  protocol::append_json_string(claims, o.user);
  if (o.has_info) {
    simdjson::dom::parser parser;
    simdjson::dom::element ignored;
    simdjson::padded_string padded(o.info);
    if (auto error = parser.parse(padded).get(ignored); error != simdjson::SUCCESS) {
      std::fprintf(stderr, "herald token: --info is not valid JSON: %s\n",
                   simdjson::error_message(error));
      return 1;
    }
    // Whitespace-free, numbers and escapes as the user wrote them.
    std::string info(o.info.size(), '\0');
    size_t size = 0;
    if (simdjson::minify(o.info.data(), o.info.size(), info.data(), size) != simdjson::SUCCESS) {
      std::fprintf(stderr, "herald token: --info is not valid JSON\n");
      return 1;
    }
    info.resize(size);
    claims += ",\"info\":" + info;
  }
  claims += ",\"iat\":" + std::to_string(now_s);
  if (o.ttl_s > 0) {
    claims += ",\"exp\":" + std::to_string(now_s + o.ttl_s);
  }
  claims += "}";

  std::string token = auth::make_hs256_token(secret, claims);
  // The server's own check, so a token this prints is one the server accepts (e.g. --info
  // nested too deep or a token over the size limit are caught here, not at connect time).
  auth::VerifyResult checked = auth::TokenVerifier(secret).verify(token, now_s);
  if (const auto* error = std::get_if<auth::TokenError>(&checked)) {
    if (*error == auth::TokenError::kBadClaims) {
      // The only claims we did not build ourselves: --info was checked to be JSON.
      std::fprintf(stderr, "herald token: --info nests deeper than %zu levels\n",
                   auth::kMaxClaimsDepth - 1);
    } else {
      std::fprintf(stderr, "herald token: the server would refuse this token: %s\n",
                   std::string(auth::to_string(*error)).c_str());
    }
    return 1;
  }
  std::printf("%s\n", token.c_str());
  return 0;
}

}  // namespace

void register_token_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<TokenOptions>();
  CLI::App* cmd = app.add_subcommand("token", "print an HS256 connection token for a user");
  cmd->add_option("--user", o->user, "user id (the token's \"sub\"; \"\" = anonymous)")->required();
  cmd->add_option("--info", o->info, "JSON the connection carries as its client info");
  cmd->add_option("--ttl", o->ttl_s, "seconds until it expires; 0 = never")
      ->capture_default_str()
      ->check(CLI::Range(0LL, kMaxTtlS));
  cmd->add_option("--secret", o->secret, "HMAC secret (default: $HERALD_TOKEN_SECRET)");
  cmd->callback([o, cmd, &exit_code] {
    o->has_info = cmd->count("--info") > 0;
    exit_code = run(*o);
  });
}

}  // namespace herald::app
