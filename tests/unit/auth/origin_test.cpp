#include "auth/origin.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace herald::auth {
namespace {

struct Case {
  const char* origin;
  const char* host;
  bool allowed;
};

TEST(OriginPolicy, EmptyListAndStarAllowEverything) {
  OriginPolicy none;
  EXPECT_FALSE(none.checks());
  EXPECT_TRUE(none.allows("https://evil.example", "herald:8080"));
  OriginPolicy star({"*"});
  EXPECT_FALSE(star.checks());
  EXPECT_TRUE(star.allows("https://evil.example", "herald:8080"));
}

TEST(OriginPolicy, Patterns) {
  OriginPolicy policy({"https://app.example.com", "https://*.example.org", "http://localhost:*",
                       "null"});
  const Case cases[] = {
      {"https://app.example.com", "herald:8080", true},
      {"HTTPS://APP.EXAMPLE.COM", "herald:8080", true},        // case-insensitive
      {"http://app.example.com", "herald:8080", false},        // other scheme
      {"https://app.example.com:8443", "herald:8080", false},  // other port
      {"https://app.example.com.evil.net", "herald:8080", false},
      {"https://a.example.org", "herald:8080", true},
      {"https://a.b.example.org", "herald:8080", true},
      {"https://example.org", "herald:8080", false},  // the wildcard needs a label
      {"https://evilexample.org", "herald:8080", false},
      {"http://localhost:3000", "herald:8080", true},
      {"http://localhost", "herald:8080", true},  // any port includes the default one
      {"null", "herald:8080", true},
      {"https://evil.example", "herald:8080", false},
      {"", "herald:8080", true},                         // not from a browser
      {"http://herald:8080", "herald:8080", true},       // the server's own pages
      {"https://herald:8080", "HERALD:8080", true},
      {"http://herald:8081", "herald:8080", false},
      {"garbage", "herald:8080", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(policy.allows(c.origin, c.host), c.allowed) << c.origin << " on " << c.host;
  }
}

TEST(OriginPolicy, ValidPatterns) {
  for (const char* ok : {"*", "null", "https://a.b", "https://*.b.c", "http://localhost:*",
                         "http://[::1]:8080"}) {
    EXPECT_TRUE(OriginPolicy::valid_pattern(ok, nullptr)) << ok;
  }
  for (const char* bad : {"", "example.com", "https://", "https://a*.b", "https://*", "*://a.b",
                          "https://a.b/path"}) {
    std::string why;
    EXPECT_FALSE(OriginPolicy::valid_pattern(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

}  // namespace
}  // namespace herald::auth
