#pragma once
// The token verifier of a server's options: the HS256 secret, the PEM public keys and the JWKS
// keys together, with the audience and issuer to check. Built by Server::start() (a bad key
// file stops the start with one line), by Server::reload_tokens() on SIGHUP and by
// `herald check-config`. Thread: any but a loop's (blocking file I/O).

#include <memory>
#include <string>

#include "auth/jwt.h"
#include "herald/result.h"
#include "herald/server.h"

namespace herald::server {

// A verifier (null when no key source is configured: then every token is refused), or the one
// line that says which file is wrong and why.
Result<std::shared_ptr<const auth::TokenVerifier>> load_token_verifier(
    const ServerOptions& options);

}  // namespace herald::server
