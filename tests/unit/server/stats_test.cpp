#include "server/stats.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

namespace herald::server {
namespace {

TEST(Stats, TotalSumsLoopsCountsChannelsOnceAndTakesTheLargestLag) {
  StatsSnapshot snap;
  snap.version = "0.1.0";
  snap.uptime_ms = 1500;
  snap.time_ms = 1764000000000;
  snap.heap_bytes = 4096;
  LoopStats a;
  a.connections = 3;
  a.websocket = 2;
  a.tcp = 1;
  a.clients = 3;
  a.messages_in = 10;
  a.messages_out = 20;
  a.publications = 5;
  a.lag_us = 40;
  a.channel_hashes = {1, 2, 3};
  a.channels = 3;
  LoopStats b;
  b.connections = 4;
  b.websocket = 1;
  b.sse = 2;
  b.poll = 1;
  b.clients = 4;
  b.messages_in = 1;
  b.messages_out = 2;
  b.lag_us = 900;
  b.answered = false;  // a stalled loop
  b.channel_hashes = {3, 4};  // channel 3 has subscribers on both loops
  b.channels = 2;
  snap.loops = {a, b};

  std::string json = render_stats(snap);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(doc["version"]), "0.1.0");
  EXPECT_EQ(uint64_t(doc["uptime_ms"]), 1500u);
  EXPECT_EQ(uint64_t(doc["time"]), 1764000000000u);
  EXPECT_EQ(uint64_t(doc["heap_bytes"]), 4096u);
  simdjson::dom::element total = doc["total"];
  EXPECT_EQ(uint64_t(total["connections"]), 7u);
  EXPECT_EQ(uint64_t(total["websocket"]), 3u);
  EXPECT_EQ(uint64_t(total["sse"]), 2u);
  EXPECT_EQ(uint64_t(total["poll"]), 1u);
  EXPECT_EQ(uint64_t(total["tcp"]), 1u);
  EXPECT_EQ(uint64_t(total["clients"]), 7u);
  EXPECT_EQ(uint64_t(total["channels"]), 4u) << "distinct over the loops";
  EXPECT_EQ(uint64_t(total["messages_in"]), 11u);
  EXPECT_EQ(uint64_t(total["messages_out"]), 22u);
  EXPECT_EQ(uint64_t(total["publications"]), 5u);
  EXPECT_EQ(uint64_t(total["lag_us"]), 900u) << "the largest";
  EXPECT_EQ(uint64_t(total["stalled"]), 1u) << "one loop did not answer";
  simdjson::dom::array loops = doc["loops"];
  ASSERT_EQ(loops.size(), 2u);
  EXPECT_EQ(uint64_t(loops.at(0)["channels"]), 3u);
  EXPECT_EQ(uint64_t(loops.at(1)["lag_us"]), 900u);
  EXPECT_EQ(uint64_t(loops.at(1)["sse"]), 2u);
  EXPECT_EQ(uint64_t(loops.at(0)["stalled"]), 0u);
  EXPECT_EQ(uint64_t(loops.at(1)["stalled"]), 1u);
}

TEST(Stats, NoLoopsIsStillAnObject) {
  StatsSnapshot snap;
  snap.version = "0.1.0";
  std::string json = render_stats(snap);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(uint64_t(doc["total"]["channels"]), 0u);
  EXPECT_EQ(simdjson::dom::array(doc["loops"]).size(), 0u);
}

}  // namespace
}  // namespace herald::server
