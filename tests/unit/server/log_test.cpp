#include "server/log.h"

#include <gtest/gtest.h>

namespace herald::server {
namespace {

TEST(Log, ParsesFormatsAndLevels) {
  EXPECT_EQ(parse_log_format("json").value(), LogFormat::kJson);
  EXPECT_EQ(parse_log_format("logfmt").value(), LogFormat::kLogfmt);
  EXPECT_EQ(parse_log_format("text").value(), LogFormat::kText);
  EXPECT_FALSE(parse_log_format("xml").ok());
  EXPECT_EQ(parse_log_level("warn").value(), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("error").value(), spdlog::level::err);
  EXPECT_FALSE(parse_log_level("verbose").ok());  // spdlog alone would read it as "off"
}

TEST(LogLimiter, AdmitsTheBurstThenCountsAndRefills) {
  LogLimiter limiter(10, 20);  // 10 lines/s, bursts of 20
  uint64_t now = 1'000'000;
  int admitted = 0;
  for (int i = 0; i < 1000; ++i) {
    admitted += limiter.admit(LogEvent::kConnect, now) ? 1 : 0;
  }
  EXPECT_EQ(admitted, 20);
  EXPECT_EQ(limiter.suppressed(LogEvent::kConnect), 980u);
  EXPECT_EQ(limiter.suppressed(LogEvent::kDisconnect), 0u);
  EXPECT_TRUE(limiter.admit(LogEvent::kDisconnect, now));  // each event has its own bucket
  // 500 ms later: 5 more lines.
  admitted = 0;
  for (int i = 0; i < 100; ++i) {
    admitted += limiter.admit(LogEvent::kConnect, now + 500) ? 1 : 0;
  }
  EXPECT_EQ(admitted, 5);
}

TEST(LogLimiter, ZeroRateIsUnlimited) {
  LogLimiter limiter(0, 0);
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(limiter.admit(LogEvent::kDisconnect, 5));
  }
  EXPECT_EQ(limiter.suppressed(LogEvent::kDisconnect), 0u);
}

}  // namespace
}  // namespace herald::server
