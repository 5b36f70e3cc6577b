#include "server/token_checks.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace herald::server {
namespace {

using auth::TokenError;
using protocol::DisconnectCode;
using protocol::ErrorCode;

constexpr std::string_view kSecret = "token-checks-secret-0123456789abcdef";
constexpr int64_t kNow = 1'700'000'000;

std::string token(std::string_view claims) {
  return auth::make_hs256_token(kSecret, claims);
}

const TokenRefusal* refusal(const TokenCheck& c) {
  return std::get_if<TokenRefusal>(&c);
}

// How each refusal is answered, by where the token was presented: the documented codes.
TEST(TokenChecks, AnswersByUseAndReason) {
  auth::TokenVerifier v{std::string(kSecret)};
  LoopMetrics m;
  struct Case {
    const char* name;
    TokenCheck check;
    TokenError reason;
    ErrorCode error;
    uint16_t close;  // 0: the connection stays
  };
  const auth::ChannelRequest req{"42", "c1", "p:a"};
  const Case cases[] = {
      {"connect expired", check_connect_token(&v, token(R"({"exp":1})"), kNow, m),
       TokenError::kExpired, ErrorCode::kUnauthorized, 4004},
      {"connect forged", check_connect_token(&v, auth::make_hs256_token("x", "{}"), kNow, m),
       TokenError::kBadSignature, ErrorCode::kUnauthorized, 4501},
      {"connect with a channel token",
       check_connect_token(&v, token(R"({"sub":"42","channel":"p:a"})"), kNow, m),
       TokenError::kWrongKind, ErrorCode::kUnauthorized, 4501},
      {"connect, no key", check_connect_token(nullptr, token("{}"), kNow, m),
       TokenError::kUnsupportedAlgorithm, ErrorCode::kUnauthorized, 4501},
      {"refresh expired", check_refresh_token(&v, token(R"({"sub":"42","exp":1})"), kNow, "42", m),
       TokenError::kExpired, ErrorCode::kTokenExpired, 0},
      {"refresh of another user", check_refresh_token(&v, token(R"({"sub":"43"})"), kNow, "42", m),
       TokenError::kWrongUser, ErrorCode::kUnauthorized, 4501},
      {"refresh to anonymous", check_refresh_token(&v, token("{}"), kNow, "42", m),
       TokenError::kWrongUser, ErrorCode::kUnauthorized, 4501},
      {"refresh malformed", check_refresh_token(&v, "a.b", kNow, "42", m), TokenError::kMalformed,
       ErrorCode::kUnauthorized, 4501},
      {"refresh, no key", check_refresh_token(nullptr, token("{}"), kNow, "", m),
       TokenError::kUnsupportedAlgorithm, ErrorCode::kUnauthorized, 4501},
      {"channel expired",
       check_channel_token(&v, token(R"({"sub":"42","channel":"p:a","exp":1})"), kNow, req, m),
       TokenError::kExpired, ErrorCode::kTokenExpired, 0},
      {"channel for another channel",
       check_channel_token(&v, token(R"({"sub":"42","channel":"p:b"})"), kNow, req, m),
       TokenError::kWrongChannel, ErrorCode::kUnauthorized, 0},
      {"channel for another client",
       check_channel_token(&v, token(R"({"sub":"42","channel":"p:a","client":"c2"})"), kNow, req,
                           m),
       TokenError::kWrongClient, ErrorCode::kUnauthorized, 0},
      {"channel, a connection token",
       check_channel_token(&v, token(R"({"sub":"42"})"), kNow, req, m), TokenError::kWrongKind,
       ErrorCode::kUnauthorized, 0},
      {"channel, no key", check_channel_token(nullptr, token("{}"), kNow, req, m),
       TokenError::kUnsupportedAlgorithm, ErrorCode::kUnauthorized, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const TokenRefusal* r = refusal(c.check);
    ASSERT_NE(r, nullptr) << "accepted";
    EXPECT_EQ(r->reason, c.reason);
    EXPECT_EQ(r->error, c.error);
    EXPECT_EQ(static_cast<uint16_t>(r->close), c.close);
    EXPECT_FALSE(r->message.empty());
  }
  EXPECT_EQ(refusal(cases[0].check)->message, "token: expired");
  EXPECT_EQ(refusal(cases[10].check)->message, "channel token: wrong_channel");
  EXPECT_NE(refusal(cases[3].check)->message.find("no token key configured"), std::string::npos);
  // Counted by use and reason.
  EXPECT_EQ(m.token_refusal(TokenUse::kConnect, TokenError::kExpired).get(), 1u);
  EXPECT_EQ(m.token_refusal(TokenUse::kRefresh, TokenError::kWrongUser).get(), 2u);
  EXPECT_EQ(m.token_refusal(TokenUse::kChannel, TokenError::kUnsupportedAlgorithm).get(), 1u);
  std::string text = render_prometheus({}, {&m});
  EXPECT_NE(text.find("herald_token_refusals_total{token=\"refresh\",reason=\"wrong_user\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("herald_token_refusals_total{token=\"channel\",reason=\"wrong_client\"} 1\n"),
            std::string::npos);
}

TEST(TokenChecks, AcceptedTokensGiveTheirClaims) {
  auth::TokenVerifier v{std::string(kSecret)};
  LoopMetrics m;
  TokenCheck c = check_connect_token(&v, token(R"({"sub":"42","exp":1700000600})"), kNow, m);
  ASSERT_EQ(refusal(c), nullptr);
  EXPECT_EQ(std::get<auth::TokenClaims>(c).expires_at_s, 1700000600);
  TokenCheck r = check_refresh_token(&v, token(R"({"sub":"42"})"), kNow, "42", m);
  ASSERT_EQ(refusal(r), nullptr);
  EXPECT_EQ(std::get<auth::TokenClaims>(r).expires_at_s, 0);
  TokenCheck ch = check_channel_token(&v, token(R"({"sub":"42","channel":"p:a"})"), kNow,
                                      auth::ChannelRequest{"42", "c1", "p:a"}, m);
  ASSERT_EQ(refusal(ch), nullptr);
  EXPECT_EQ(std::get<auth::TokenClaims>(ch).channel, "p:a");
  EXPECT_GT(unix_now_s(), kNow);
}

TEST(Metrics, PermissionRefusalsHaveEveryLabelPair) {
  LoopMetrics a;
  LoopMetrics b;
  a.permission_refusal(Operation::kPublish, Refusal::kNobody).add();
  b.permission_refusal(Operation::kPublish, Refusal::kNobody).add(2);
  a.token_refreshes.add();
  std::string text = render_prometheus({}, {&a, &b});
  EXPECT_NE(
      text.find("herald_permission_refusals_total{operation=\"publish\",reason=\"nobody\"} 3\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("herald_permission_refusals_total{operation=\"subscribe\","
                      "reason=\"user_limited\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("herald_token_refreshes_total 1\n"), std::string::npos);
  size_t lines = 0;
  for (size_t pos = 0;
       (pos = text.find("herald_permission_refusals_total{", pos)) != std::string::npos; ++pos) {
    ++lines;
  }
  EXPECT_EQ(lines, std::size(kAllOperations) * std::size(kAllRefusals));
}

}  // namespace
}  // namespace herald::server
