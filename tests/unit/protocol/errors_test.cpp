#include "protocol/errors.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace herald::protocol {
namespace {

TEST(ErrorCodes, RangesNamesAndStatuses) {
  std::set<uint16_t> values;
  std::set<std::string_view> names;
  for (ErrorCode c : kAllErrorCodes) {
    uint16_t v = code_value(c);
    SCOPED_TRACE(v);
    EXPECT_TRUE(values.insert(v).second);
    EXPECT_TRUE(names.insert(error_name(c)).second);
    EXPECT_TRUE((v >= 100 && v <= 199) || (v >= 500 && v <= 599));
    EXPECT_FALSE(error_message(c).empty());
    EXPECT_EQ(is_temporary(c), v >= 500 || c == ErrorCode::kTooManyRequests);
    int status = http_status(c);
    EXPECT_GE(status, 400);
    EXPECT_LE(status, 599);
    // Temporary errors are the ones an HTTP client may retry: 429 and 5xx.
    EXPECT_EQ(is_temporary(c), status == 429 || status >= 500);
  }
}

TEST(ErrorCodes, SpecificStatuses) {
  EXPECT_EQ(http_status(ErrorCode::kBadRequest), 400);
  EXPECT_EQ(http_status(ErrorCode::kUnknownMethod), 404);
  EXPECT_EQ(http_status(ErrorCode::kTooLarge), 413);
  EXPECT_EQ(http_status(ErrorCode::kUnauthorized), 401);
  EXPECT_EQ(http_status(ErrorCode::kPermissionDenied), 403);
  EXPECT_EQ(http_status(ErrorCode::kTooManyRequests), 429);
  EXPECT_EQ(http_status(ErrorCode::kInternal), 500);
  EXPECT_EQ(http_status(ErrorCode::kTimeout), 504);
  EXPECT_EQ(error_name(ErrorCode::kInvalidUtf8), "invalid_utf8");
  EXPECT_EQ(error_message(ErrorCode::kNotSubscribed), "not subscribed");
}

TEST(DisconnectCodes, ReconnectRuleFollowsTheRanges) {
  std::set<uint16_t> values;
  for (DisconnectCode c : kAllDisconnectCodes) {
    auto v = static_cast<uint16_t>(c);
    SCOPED_TRACE(v);
    EXPECT_TRUE(values.insert(v).second);
    EXPECT_TRUE(v == 1001 || v == 1013 || (v >= 4000 && v <= 4999));
    EXPECT_FALSE(disconnect_reason(c).empty());
    EXPECT_LE(disconnect_reason(c).size(), 123u);  // fits a close frame
  }
  EXPECT_TRUE(should_reconnect(1001));
  EXPECT_TRUE(should_reconnect(1013));
  EXPECT_TRUE(should_reconnect(1011));
  EXPECT_TRUE(should_reconnect(4000));
  EXPECT_TRUE(should_reconnect(4499));
  EXPECT_FALSE(should_reconnect(4500));
  EXPECT_FALSE(should_reconnect(4503));
  EXPECT_FALSE(should_reconnect(4999));
  EXPECT_TRUE(should_reconnect(5000));
}

TEST(UnsubscribeCodes, ResubscribeRuleFollowsTheRanges) {
  for (UnsubscribeCode c : kAllUnsubscribeCodes) {
    auto v = static_cast<uint16_t>(c);
    EXPECT_TRUE(v >= 2000 && v <= 2999) << v;
    EXPECT_FALSE(unsubscribe_reason(c).empty());
  }
  EXPECT_TRUE(should_resubscribe(2000));
  EXPECT_TRUE(should_resubscribe(2499));
  EXPECT_FALSE(should_resubscribe(2500));
  EXPECT_FALSE(should_resubscribe(1999));
  EXPECT_FALSE(should_resubscribe(3000));
}

}  // namespace
}  // namespace herald::protocol
