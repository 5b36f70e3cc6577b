#include "server/metrics.h"

#include <gtest/gtest.h>

namespace herald::server {
namespace {

TEST(Metrics, SumsLoopsInPrometheusFormat) {
  transport::TransportMetrics a;
  transport::TransportMetrics b;
  LoopMetrics pa;
  pa.api_requests.add(5);
  a.ws_messages_in.add(3);
  b.ws_messages_in.add(4);
  a.websockets_open.add(2);
  a.websockets_open.sub();
  std::string text = render_prometheus({&a, &b}, {&pa});
  EXPECT_NE(text.find("# TYPE herald_ws_messages_received_total counter\n"
                      "herald_ws_messages_received_total 7\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE herald_websockets_open gauge\nherald_websockets_open 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("herald_api_requests_total 5\n"), std::string::npos) << text;
  // Every sample line is "name value" and every metric has HELP and TYPE.
  size_t help = 0;
  size_t type = 0;
  for (size_t pos = 0; (pos = text.find("# HELP ", pos)) != std::string::npos; ++pos) {
    ++help;
  }
  for (size_t pos = 0; (pos = text.find("# TYPE ", pos)) != std::string::npos; ++pos) {
    ++type;
  }
  EXPECT_EQ(help, type);
  EXPECT_GE(help, 10u);
}

}  // namespace
}  // namespace herald::server
