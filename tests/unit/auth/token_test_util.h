#pragma once
// Helpers shared by the JWT tests: build tokens part by part and read verify()'s answer.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>

#include "auth/base64url.h"
#include "auth/jwt.h"

namespace herald::auth::testing {

inline constexpr std::string_view kSecret = "herald-test-secret-0123456789abcdef";
inline constexpr int64_t kNow = 1'700'000'000;

inline std::string b64(std::string_view bytes) {
  std::string out;
  append_base64url(out, bytes);
  return out;
}

// A token signed with kSecret whose claims are `claims` (as given, not validated).
inline std::string signed_token(std::string_view claims, std::string_view header = kHs256Header) {
  return make_hs256_token(kSecret, claims, header);
}

// Success iff verify() refused with `expected`.
inline ::testing::AssertionResult refused_with(const VerifyResult& r, TokenError expected) {
  if (const auto* e = std::get_if<TokenError>(&r)) {
    if (*e == expected) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "refused with " << to_string(*e) << ", expected " << to_string(expected);
  }
  return ::testing::AssertionFailure() << "accepted, expected " << to_string(expected);
}

// The claims of an accepted token (a copy: verify()'s result is usually a temporary).
inline TokenClaims accepted(const VerifyResult& r) {
  if (const auto* e = std::get_if<TokenError>(&r)) {
    ADD_FAILURE() << "refused with " << to_string(*e);
    return TokenClaims{"<refused>", "", -1, "", ""};
  }
  return std::get<TokenClaims>(r);
}

}  // namespace herald::auth::testing
