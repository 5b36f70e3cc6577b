#include "base/prometheus_text.h"

#include <gtest/gtest.h>

namespace herald {
namespace {

TEST(PrometheusText, SamplesWithAndWithoutLabels) {
  std::string out;
  PrometheusText t(out);
  t.family("herald_x_total", "counter", "X things");
  t.sample("herald_x_total", 3);
  t.sample("herald_x_total", {{"transport", "sse"}, {"reason", "a\"b\\c\nd"}}, uint64_t{4});
  t.sample("herald_lag_seconds", {{"loop", "0"}}, 0.25);
  EXPECT_EQ(out,
            "# HELP herald_x_total X things\n# TYPE herald_x_total counter\n"
            "herald_x_total 3\n"
            "herald_x_total{transport=\"sse\",reason=\"a\\\"b\\\\c\\nd\"} 4\n"
            "herald_lag_seconds{loop=\"0\"} 0.25\n");
}

TEST(PrometheusText, HistogramIsCumulativeInSeconds) {
  Histogram a;
  a.observe_ns(5'000);        // <= 10 us
  a.observe_ns(30'000, 2);    // <= 50 us
  a.observe_ns(60'000'000'000);  // +Inf
  HistogramSnapshot s;
  s.add(a);
  std::string out;
  PrometheusText t(out);
  t.histogram("herald_d_seconds", {{"command", "publish"}}, s);
  EXPECT_NE(out.find("herald_d_seconds_bucket{command=\"publish\",le=\"1e-05\"} 1\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("herald_d_seconds_bucket{command=\"publish\",le=\"2.5e-05\"} 1\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("herald_d_seconds_bucket{command=\"publish\",le=\"5e-05\"} 3\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("herald_d_seconds_bucket{command=\"publish\",le=\"10\"} 3\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("herald_d_seconds_bucket{command=\"publish\",le=\"+Inf\"} 4\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("herald_d_seconds_sum{command=\"publish\"} 60.000065\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("herald_d_seconds_count{command=\"publish\"} 4\n"), std::string::npos)
      << out;
  // One bucket line per bound plus +Inf, then _sum and _count.
  size_t lines = 0;
  for (char c : out) {
    lines += c == '\n' ? 1 : 0;
  }
  EXPECT_EQ(lines, kHistogramBuckets + 2);
}

}  // namespace
}  // namespace herald
