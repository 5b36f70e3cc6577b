#include "token_command.h"

#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <variant>

#include "auth/jwt.h"
#include "protocol/channel.h"
#include "protocol/json_writer.h"

namespace herald::app {
namespace {

struct TokenOptions {
  std::string user;
  std::string info;
  bool has_info = false;
  long long ttl_s = 3600;
  std::string secret;
  std::string key_path;  // PEM private key: RS256 or ES256
  std::string kid;
  std::string channel;  // a channel token when set
  std::string client;
  std::string audience;
  std::string issuer;
};

// RFC 7518 section 3.2: an HS256 key must be at least as long as the hash.
constexpr size_t kMinSecretSize = 32;
// 100 years: keeps now + ttl far from overflow; "never" is --ttl 0.
constexpr long long kMaxTtlS = 100LL * 365 * 24 * 3600;

int fail(const std::string& message) {
  std::fprintf(stderr, "herald token: %s\n", message.c_str());
  return 1;
}

// The signer of the options: --key, else --secret, else $HERALD_TOKEN_SECRET.
Result<auth::TokenSigner> signer_of(const TokenOptions& o) {
  if (!o.key_path.empty()) {
    if (!o.secret.empty()) {
      return Error{"--key and --secret exclude each other: one key signs a token"};
    }
    return auth::TokenSigner::load_private_pem(o.key_path);
  }
  std::string secret = o.secret;
  if (secret.empty()) {
    const char* env = std::getenv("HERALD_TOKEN_SECRET");
    secret = env != nullptr ? env : "";
  }
  if (secret.empty()) {
    return Error{"no key: pass --secret (or set HERALD_TOKEN_SECRET) or --key PRIVATE.pem"};
  }
  if (secret.size() < kMinSecretSize) {
    std::fprintf(stderr, "herald token: warning: the secret is shorter than %zu bytes\n",
                 kMinSecretSize);
  }
  return auth::TokenSigner::hs256(std::move(secret));
}

void add_string_claim(std::string& claims, std::string_view name, std::string_view value) {
  claims += ",\"";
  claims += name;
  claims += "\":";
  protocol::append_json_string(claims, value);
}

int run(const TokenOptions& o) {
  if (!o.client.empty() && o.channel.empty()) {
    return fail("--client binds a channel token: it needs --channel");
  }
  if (!o.channel.empty() && o.has_info) {
    return fail("--info goes in connection tokens; a channel token carries none");
  }
  if (!o.channel.empty() && !protocol::is_valid_channel(o.channel)) {
    return fail(
        "--channel: not a channel name (1-255 bytes of A-Z a-z 0-9 _-.:@/=,!~#, not "
        "starting with ':')");
  }
  auto signer = signer_of(o);
  if (!signer) {
    return fail(signer.error());
  }
  int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();

  std::string claims = "{\"sub\":";
  protocol::append_json_string(claims, o.user);
  if (!o.channel.empty()) {
    add_string_claim(claims, "channel", o.channel);
    if (!o.client.empty()) {
      add_string_claim(claims, "client", o.client);
    }
  }
  if (o.has_info) {
    simdjson::dom::parser parser;
    simdjson::dom::element ignored;
    simdjson::padded_string padded(o.info);
    if (auto error = parser.parse(padded).get(ignored); error != simdjson::SUCCESS) {
      return fail(std::string("--info is not valid JSON: ") + simdjson::error_message(error));
    }
    // Whitespace-free, numbers and escapes as the user wrote them.
    std::string info(o.info.size(), '\0');
    size_t size = 0;
    if (simdjson::minify(o.info.data(), o.info.size(), info.data(), size) != simdjson::SUCCESS) {
      return fail("--info is not valid JSON");
    }
    info.resize(size);
    claims += ",\"info\":" + info;
  }
  if (!o.audience.empty()) {
    add_string_claim(claims, "aud", o.audience);
  }
  if (!o.issuer.empty()) {
    add_string_claim(claims, "iss", o.issuer);
  }
  claims += ",\"iat\":" + std::to_string(now_s);
  if (o.ttl_s > 0) {
    claims += ",\"exp\":" + std::to_string(now_s + o.ttl_s);
  }
  claims += "}";

  std::string token = signer->sign(claims, o.kid);
  if (token.empty()) {
    return fail("signing failed");
  }
  // The server's own check, so a token this prints is one the server accepts (e.g. --info
  // nested too deep or a token over the size limit are caught here, not at connect time).
  auth::TokenVerifier verifier(
      auth::VerifierConfig{{signer->verification_key(o.kid)}, o.audience, o.issuer, 0});
  auth::VerifyResult checked =
      o.channel.empty() ? verifier.verify(token, now_s)
                        : verifier.verify_channel(
                              token, now_s, auth::ChannelRequest{o.user, o.client, o.channel});
  if (const auto* error = std::get_if<auth::TokenError>(&checked)) {
    if (*error == auth::TokenError::kBadClaims && o.has_info) {
      // The only claims we did not build ourselves: --info was checked to be JSON.
      return fail("--info nests deeper than " + std::to_string(auth::kMaxClaimsDepth - 1) +
                  " levels");
    }
    return fail("the server would refuse this token: " + std::string(auth::to_string(*error)));
  }
  std::printf("%s\n", token.c_str());
  return 0;
}

}  // namespace

void register_token_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<TokenOptions>();
  CLI::App* cmd = app.add_subcommand(
      "token", "print a connection token for a user, or a channel token with --channel");
  cmd->add_option("--user", o->user, "user id (the token's \"sub\"; \"\" = anonymous)")->required();
  cmd->add_option("--channel", o->channel,
                  "make a channel token for this channel (subscribe's params.token)");
  cmd->add_option("--client", o->client,
                  "bind the channel token to this connection (the client id of its connect "
                  "result)");
  cmd->add_option("--info", o->info, "JSON the connection carries as its client info");
  cmd->add_option("--ttl", o->ttl_s, "seconds until it expires; 0 = never")
      ->capture_default_str()
      ->check(CLI::Range(0LL, kMaxTtlS));
  cmd->add_option("--secret", o->secret, "HS256 secret (default: $HERALD_TOKEN_SECRET)");
  cmd->add_option("--key", o->key_path,
                  "PEM private key: RSA signs RS256, EC P-256 signs ES256 (instead of --secret)");
  cmd->add_option("--kid", o->kid, "key id for the header (the key's \"kid\" in a JWKS)");
  cmd->add_option("--audience", o->audience, "\"aud\" claim (the server's token_audience)");
  cmd->add_option("--issuer", o->issuer, "\"iss\" claim (the server's token_issuer)");
  cmd->callback([o, cmd, &exit_code] {
    o->has_info = cmd->count("--info") > 0;
    exit_code = run(*o);
  });
}

}  // namespace herald::app
