#include "server/token_checks.h"

#include <chrono>

namespace herald::server {
namespace {

using auth::TokenError;
using protocol::DisconnectCode;
using protocol::ErrorCode;

TokenRefusal refuse(LoopMetrics& metrics, TokenUse use, TokenError reason, ErrorCode error,
                    DisconnectCode close, std::string_view prefix) {
  metrics.token_refusal(use, reason).add();
  return TokenRefusal{reason, error, close, std::string(prefix) + std::string(to_string(reason))};
}

// The same for a server with no token key at all, with a message that says so.
TokenRefusal refuse_keyless(LoopMetrics& metrics, TokenUse use, ErrorCode error,
                            DisconnectCode close) {
  TokenRefusal r = refuse(metrics, use, TokenError::kUnsupportedAlgorithm, error, close, {});
  r.message = "unauthorized: this server verifies no tokens (no token key configured)";
  return r;
}

}  // namespace

int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TokenCheck check_connect_token(const auth::TokenVerifier* verifier, std::string_view token,
                               int64_t now_s, LoopMetrics& metrics) {
  if (verifier == nullptr) {
    return refuse_keyless(metrics, TokenUse::kConnect, ErrorCode::kUnauthorized,
                          DisconnectCode::kInvalidToken);
  }
  auth::VerifyResult v = verifier->verify(token, now_s);
  if (const auto* error = std::get_if<TokenError>(&v)) {
    bool expired = *error == TokenError::kExpired;
    return refuse(metrics, TokenUse::kConnect, *error, ErrorCode::kUnauthorized,
                  expired ? DisconnectCode::kTokenExpired : DisconnectCode::kInvalidToken,
                  "token: ");
  }
  return std::get<auth::TokenClaims>(std::move(v));
}

TokenCheck check_refresh_token(const auth::TokenVerifier* verifier, std::string_view token,
                               int64_t now_s, std::string_view user, LoopMetrics& metrics) {
  if (verifier == nullptr) {
    return refuse_keyless(metrics, TokenUse::kRefresh, ErrorCode::kUnauthorized,
                          DisconnectCode::kInvalidToken);
  }
  auth::VerifyResult v = verifier->verify(token, now_s);
  if (const auto* error = std::get_if<TokenError>(&v)) {
    if (*error == TokenError::kExpired) {
      return refuse(metrics, TokenUse::kRefresh, *error, ErrorCode::kTokenExpired,
                    DisconnectCode{0}, "token: ");
    }
    return refuse(metrics, TokenUse::kRefresh, *error, ErrorCode::kUnauthorized,
                  DisconnectCode::kInvalidToken, "token: ");
  }
  auto& claims = std::get<auth::TokenClaims>(v);
  if (claims.user != user) {
    // A connection is one user for its whole life: its presence, its user-limited channels and
    // its channel tokens were all granted to that user.
    return refuse(metrics, TokenUse::kRefresh, TokenError::kWrongUser, ErrorCode::kUnauthorized,
                  DisconnectCode::kInvalidToken, "token: ");
  }
  return std::move(claims);
}

TokenCheck check_channel_token(const auth::TokenVerifier* verifier, std::string_view token,
                               int64_t now_s, const auth::ChannelRequest& request,
                               LoopMetrics& metrics) {
  if (verifier == nullptr) {
    return refuse_keyless(metrics, TokenUse::kChannel, ErrorCode::kUnauthorized, DisconnectCode{0});
  }
  auth::VerifyResult v = verifier->verify_channel(token, now_s, request);
  if (const auto* error = std::get_if<TokenError>(&v)) {
    bool expired = *error == TokenError::kExpired;
    return refuse(metrics, TokenUse::kChannel, *error,
                  expired ? ErrorCode::kTokenExpired : ErrorCode::kUnauthorized, DisconnectCode{0},
                  "channel token: ");
  }
  return std::get<auth::TokenClaims>(std::move(v));
}

}  // namespace herald::server
