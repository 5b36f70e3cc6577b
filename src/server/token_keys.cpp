#include "server/token_keys.h"

#include <utility>

namespace herald::server {

Result<std::shared_ptr<const auth::TokenVerifier>> load_token_verifier(
    const ServerOptions& options) {
  auth::VerifierConfig config;
  if (!options.token_hmac_secret.empty()) {
    config.keys.push_back(auth::VerificationKey::hmac(options.token_hmac_secret));
  }
  struct Source {
    const char* option;
    const std::string& path;
    Result<auth::ParsedKeys> (*load)(const std::string&);
  };
  const Source sources[] = {
      {"token_public_key", options.token_public_key, auth::load_pem_public_keys},
      {"token_jwks_file", options.token_jwks_file, auth::load_jwks},
  };
  for (const Source& source : sources) {
    if (source.path.empty()) {
      continue;
    }
    auto parsed = source.load(source.path);
    if (!parsed) {
      return Error{std::string(source.option) + ": " + parsed.error()};
    }
    for (auth::VerificationKey& key : parsed->keys) {
      config.keys.push_back(std::move(key));
    }
  }
  if (config.keys.empty()) {
    return std::shared_ptr<const auth::TokenVerifier>();
  }
  config.audience = options.token_audience;
  config.issuer = options.token_issuer;
  return std::shared_ptr<const auth::TokenVerifier>(
      std::make_shared<auth::TokenVerifier>(std::move(config)));
}

}  // namespace herald::server
