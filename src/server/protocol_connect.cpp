// The connection's identity and lifetime (ProtocolHandler, protocol_handler_impl.h): the
// connect command, authentication by the connection token (or anonymous), the per-user
// connection count on this node and over every node, the token's expiry timer and refresh.
// Thread: the loop's own.
#include <algorithm>
#include <variant>

#include "auth/jwt.h"
#include "protocol/messages.h"
#include "server/loop_context.h"
#include "server/protocol_handler_impl.h"
#include "server/token_checks.h"
#include "server/version.h"

namespace herald::server {
namespace {

// A token's expiry timer is armed at most this far ahead ("exp" in the year 3000 would overflow
// the milliseconds): such a token is as good as eternal for one connection.
constexpr int64_t kMaxExpiryTimerS = 10LL * 365 * 24 * 3600;

}  // namespace

void ProtocolHandler::connect(Session& s, const protocol::Command& cmd, std::string& out) {
  add_line(out);
  if (s.connected) {
    error(out, cmd.id, protocol::ErrorCode::kAlreadyConnected);
    return;
  }
  uint64_t ttl_s = 0;
  if (!authenticate(s, cmd, out, ttl_s)) {
    return;
  }
  s.connected = true;
  ctx_.metrics.protocol_clients.add();
  std::string result;
  protocol::append_connect_result(result, s.info().client, kServerVersion,
                                  // Whole seconds, rounded up: 0 would read as "no
                                  // keepalive" to a client with a sub-second interval.
                                  (ctx_.core.options.ping_interval_ms + 999) / 1000,
                                  // pong: only where the client can answer a keepalive
                                  // (not on an SSE stream or a poll session).
                                  s.transport().session_id().empty(),
                                  s.transport().session_id(), ttl_s);
  protocol::append_reply(out, cmd.id, result);
}

bool ProtocolHandler::authenticate(Session& s, const protocol::Command& cmd, std::string& out,
                                   uint64_t& ttl_s) {
  if (cmd.token.empty()) {
    if (!ctx_.core.options.allow_anonymous) {
      ctx_.metrics.token_rejections.add();
      std::string why = "unauthorized: a connection token is required";
      error(out, cmd.id, protocol::ErrorCode::kUnauthorized, why);
      end_after_replies(s, out, protocol::DisconnectCode::kInvalidToken, why);
      return false;
    }
    s.info().info = cmd.data;
    return true;
  }
  int64_t now_s = unix_now_s();
  TokenCheck checked = check_connect_token(ctx_.tokens.get(), cmd.token, now_s, ctx_.metrics);
  if (const auto* refusal = std::get_if<TokenRefusal>(&checked)) {
    ctx_.metrics.token_rejections.add();
    error(out, cmd.id, refusal->error, refusal->message);
    end_after_replies(s, out, refusal->close, refusal->message);
    return false;
  }
  auto& claims = std::get<auth::TokenClaims>(checked);
  if (!claims.user.empty()) {
    if (!ctx_.core.limits->admit_user(claims.user)) {
      ctx_.metrics.user_connection_refusals.add();
      error(out, cmd.id, protocol::ErrorCode::kLimitExceeded,
            "too many connections for this user");
      end_after_replies(s, out, protocol::DisconnectCode::kConnectionLimit,
                        "too many connections for this user");
      return false;
    }
    s.user_counted = true;
    count_user_on_every_node(s, claims.user);
  }
  s.info().user = std::move(claims.user);
  s.info().info = claims.info.empty() ? cmd.data : std::move(claims.info);
  ttl_s = arm_expiry(s, claims.expires_at_s, now_s);
  return true;
}

void ProtocolHandler::count_user_on_every_node(Session& s, const std::string& user) {
  size_t limit = ctx_.core.limits->options().connections_per_user;
  if (limit == 0 || ctx_.core.broker->node_id().empty()) {
    return;
  }
  ctx_.core.broker->user_admit(
      ctx_.loop.index(), user, s.info().client, limit,
      [this, id = s.transport().id()](Result<bool> admitted) {
        Session* over = find(id);
        if (!admitted.ok() || *admitted || over == nullptr) {
          return;
        }
        ctx_.metrics.user_connection_refusals.add();
        auto code = protocol::DisconnectCode::kConnectionLimit;
        std::string push;
        protocol::append_disconnect_push(push, code, "too many connections for this user");
        over->transport().send_text(push);
        over->transport().close(static_cast<uint16_t>(code),
                                "too many connections for this user");
      });
}

uint64_t ProtocolHandler::arm_expiry(Session& s, int64_t expires_at_s, int64_t now_s) {
  if (expires_at_s <= 0) {
    s.cancel();
    return 0;
  }
  int64_t left_s = std::min(expires_at_s - now_s, kMaxExpiryTimerS);
  ctx_.loop.timers().arm(s, ctx_.loop.now_ms(), static_cast<uint64_t>(left_s) * 1000);
  return static_cast<uint64_t>(left_s);
}

void ProtocolHandler::refresh(Session& s, const protocol::Command& cmd, std::string& out) {
  add_line(out);
  int64_t now_s = unix_now_s();
  TokenCheck checked =
      check_refresh_token(ctx_.tokens.get(), cmd.token, now_s, s.info().user, ctx_.metrics);
  if (const auto* refusal = std::get_if<TokenRefusal>(&checked)) {
    error(out, cmd.id, refusal->error, refusal->message);
    if (refusal->close != protocol::DisconnectCode{0}) {
      end_after_replies(s, out, refusal->close, refusal->message);
    }
    return;
  }
  uint64_t ttl_s = arm_expiry(s, std::get<auth::TokenClaims>(checked).expires_at_s, now_s);
  ctx_.metrics.token_refreshes.add();
  std::string result;
  protocol::append_refresh_result(result, ttl_s);
  protocol::append_reply(out, cmd.id, result);
}

}  // namespace herald::server
