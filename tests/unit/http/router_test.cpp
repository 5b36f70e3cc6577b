#include "http/router.h"

#include "gtest/gtest.h"

namespace herald::http {
namespace {

using R = Router::Result;

enum : uint32_t { kWs = 1, kApi = 2, kApiPublish = 3, kRoot = 4, kHealth = 5, kApiV2 = 6 };

Router make() {
  Router r;
  EXPECT_TRUE(r.add_exact("/connection/websocket", method_bit(Method::kGet), kWs));
  EXPECT_TRUE(r.add_prefix("/api/", method_bit(Method::kPost), kApi));
  EXPECT_TRUE(r.add_exact("/api/publish", method_bit(Method::kPost) | method_bit(Method::kPut),
                          kApiPublish));
  EXPECT_TRUE(r.add_prefix("/", method_bit(Method::kGet), kRoot));
  EXPECT_TRUE(r.add_exact("/health", kAnyMethod, kHealth));
  EXPECT_TRUE(r.add_prefix("/api/v2/", method_bit(Method::kDelete), kApiV2));
  return r;
}

TEST(Router, ExactMatch) {
  Router r = make();
  Router::Match m = r.match(Method::kGet, "/connection/websocket");
  EXPECT_EQ(m.result, R::kFound);
  EXPECT_EQ(m.route_id, kWs);
}

TEST(Router, GetImpliesHead) {
  Router r = make();
  EXPECT_EQ(r.match(Method::kHead, "/connection/websocket").result, R::kFound);
}

TEST(Router, MethodNotAllowedCarriesAllow) {
  Router r = make();
  Router::Match m = r.match(Method::kPost, "/connection/websocket");
  EXPECT_EQ(m.result, R::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, HEAD");
  m = r.match(Method::kGet, "/api/publish");
  EXPECT_EQ(m.result, R::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "POST, PUT");
}

TEST(Router, ExactBeatsPrefix) {
  Router r = make();
  EXPECT_EQ(r.match(Method::kPost, "/api/publish").route_id, kApiPublish);
  EXPECT_EQ(r.match(Method::kPost, "/api/publishx").route_id, kApi);
}

TEST(Router, LongestPrefixWins) {
  Router r = make();
  EXPECT_EQ(r.match(Method::kDelete, "/api/v2/x").route_id, kApiV2);
  EXPECT_EQ(r.match(Method::kPost, "/api/v1/x").route_id, kApi);
  EXPECT_EQ(r.match(Method::kGet, "/chat").route_id, kRoot);
  // The longest matching prefix decides, even if its methods do not fit.
  EXPECT_EQ(r.match(Method::kPost, "/api/v2/x").result, R::kMethodNotAllowed);
  EXPECT_EQ(r.match(Method::kPost, "/api").result, R::kMethodNotAllowed);  // only "/" matches
}

TEST(Router, AnyMethodIncludesUnknown) {
  Router r = make();
  EXPECT_EQ(r.match(Method::kOther, "/health").result, R::kFound);
  EXPECT_EQ(r.match(Method::kOptions, "/health").result, R::kFound);
}

TEST(Router, NotFound) {
  Router r;
  EXPECT_TRUE(r.add_exact("/a", kAnyMethod, 1));
  EXPECT_EQ(r.match(Method::kGet, "/b").result, R::kNotFound);
  EXPECT_EQ(r.match(Method::kGet, "").result, R::kNotFound);
  EXPECT_EQ(r.match(Method::kGet, "/a/").result, R::kNotFound);
}

TEST(Router, RejectsDuplicatesAndUnrootedPaths) {
  Router r;
  EXPECT_TRUE(r.add_exact("/a", kAnyMethod, 1));
  EXPECT_FALSE(r.add_exact("/a", kAnyMethod, 2));
  EXPECT_TRUE(r.add_prefix("/a", kAnyMethod, 3));  // exact and prefix tables are separate
  EXPECT_FALSE(r.add_prefix("/a", kAnyMethod, 4));
  EXPECT_FALSE(r.add_exact("a", kAnyMethod, 5));
  EXPECT_FALSE(r.add_prefix("", kAnyMethod, 6));
  EXPECT_EQ(r.match(Method::kGet, "/a").route_id, 1u);
  EXPECT_EQ(r.match(Method::kGet, "/ab").route_id, 3u);
}

}  // namespace
}  // namespace herald::http
