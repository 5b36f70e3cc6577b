#pragma once
// What the protocol makes of a token, wherever it is presented (docs/PROTOCOL.md): `connect`
// and `refresh` carry connection tokens, `subscribe` a channel token. Each check verifies with
// the loop's verifier, counts a refusal by use and reason (herald_token_refusals_total) and
// says how it is answered: the error code, and the disconnect that follows (if any). The
// protocol handler writes the replies. Thread: the loop's own (it writes the loop's metrics).

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "auth/jwt.h"
#include "protocol/errors.h"
#include "server/metrics.h"

namespace herald::server {

// A refused token and its answer.
struct TokenRefusal {
  auth::TokenError reason;
  protocol::ErrorCode error;          // 120 unauthorized, or 122 token_expired
  protocol::DisconnectCode close{0};  // 0: the connection stays
  std::string message;                // e.g. "token: bad_signature"
};

using TokenCheck = std::variant<auth::TokenClaims, TokenRefusal>;

// The current Unix time in seconds (what tokens' "exp" and "nbf" are compared with).
int64_t unix_now_s();

// connect: refused with 120, then disconnect 4004 when expired (come back with a fresh token)
// or 4501 for anything else. verifier null: no key configured, refused as kUnsupportedAlgorithm.
TokenCheck check_connect_token(const auth::TokenVerifier* verifier, std::string_view token,
                               int64_t now_s, LoopMetrics& metrics);

// refresh: the token must be a valid connection token of the same user. Expired: 122 and the
// connection stays (its current token may still be good). Another user (kWrongUser) or any
// other refusal: 120, then disconnect 4501: a client that sends forged or foreign tokens is cut.
TokenCheck check_refresh_token(const auth::TokenVerifier* verifier, std::string_view token,
                               int64_t now_s, std::string_view user, LoopMetrics& metrics);

// subscribe: a channel token for this user, client and channel. Expired: 122; any other
// refusal: 120. The connection stays either way.
TokenCheck check_channel_token(const auth::TokenVerifier* verifier, std::string_view token,
                               int64_t now_s, const auth::ChannelRequest& request,
                               LoopMetrics& metrics);

}  // namespace herald::server
