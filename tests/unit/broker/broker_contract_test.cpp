// The broker contract (broker/broker.h) over every broker: the memory broker, the memory broker
// with durable history, and the Redis broker over a real redis-server. What is particular to one
// broker is tested in memory_broker_test.cpp and redis_broker_test.cpp.
#include <gtest/gtest.h>

#include "broker_fixture.h"

namespace herald::broker {
namespace {

class ContractTest : public BrokerTest, public ::testing::WithParamInterface<Kind> {
 protected:
  Kind kind() const override { return GetParam(); }
};

TEST_P(ContractTest, OffsetsIncreaseByOnePerChannelWithAStableEpoch) {
  PublishResult a1 = publish_and_wait(0, "a", "1");
  PublishResult a2 = publish_and_wait(1, "a", "2");
  PublishResult b1 = publish_and_wait(2, "b", "1");
  EXPECT_EQ(a1.top.offset, 1u);
  EXPECT_EQ(a2.top.offset, 2u);
  EXPECT_EQ(b1.top.offset, 1u);
  EXPECT_EQ(a1.top.epoch, a2.top.epoch);
  EXPECT_FALSE(a1.top.epoch.empty());
  EXPECT_NE(a1.top.epoch, b1.top.epoch) << "epochs are per channel and random";
}

TEST_P(ContractTest, SubscribedLoopsGetEveryPublicationInOrderOthersNone) {
  subscribe_and_wait(0, "room");
  subscribe_and_wait(2, "room");
  for (int i = 0; i < 200; ++i) {
    publish_and_wait(i % kLoops, "room", "\"x\"");
  }
  wait_until(
      [&] { return received(0, "room").size() >= 200 && received(2, "room").size() >= 200; });
  settle();
  std::vector<uint64_t> expected;
  for (uint64_t i = 1; i <= 200; ++i) {
    expected.push_back(i);
  }
  EXPECT_EQ(received(0, "room"), expected);
  EXPECT_EQ(received(2, "room"), expected);
  EXPECT_TRUE(received(1, "room").empty());
}

TEST_P(ContractTest, UnsubscribeStopsDeliveryOnlyWhenTheLastSubscriptionGoes) {
  subscribe_and_wait(1, "c");
  subscribe_and_wait(1, "c");
  on_loop(1, [&] { broker_->unsubscribe(1, "c"); });
  publish_and_wait(0, "c", "1");
  wait_until([&] { return !received(1, "c").empty(); });
  on_loop(1, [&] { broker_->unsubscribe(1, "c"); });
  publish_and_wait(0, "c", "2");
  settle();
  EXPECT_EQ(received(1, "c"), std::vector<uint64_t>{1});
}

TEST_P(ContractTest, HistoryAfterAnOffsetWithLimitAndRetention) {
  set_policy("h", HistoryOptions{5, 0});
  for (int i = 1; i <= 8; ++i) {
    publish_and_wait(0, "h", std::to_string(i));
  }
  HistoryResult all = history(1, "h");
  EXPECT_EQ(all.top.offset, 8u);
  EXPECT_EQ(all.top.first_offset, 4u) << "only the newest 5 are kept";
  ASSERT_EQ(all.publications.size(), 5u);
  EXPECT_EQ(all.publications.front().offset, 4u);
  EXPECT_EQ(all.publications.front().data, "4");
  HistoryResult after6 = history(2, "h", {.after = 6});
  ASSERT_EQ(after6.publications.size(), 2u);
  EXPECT_EQ(after6.publications[0].offset, 7u);
  HistoryResult limited = history(0, "h", {.limit = 2});
  ASSERT_EQ(limited.publications.size(), 2u);
  EXPECT_EQ(limited.publications[1].offset, 5u);
  HistoryResult empty = history(0, "never-published");
  EXPECT_EQ(empty.top.offset, 0u);
  EXPECT_EQ(empty.top.first_offset, 1u);
  EXPECT_TRUE(empty.publications.empty());
}

TEST_P(ContractTest, IdempotencyKeyPublishesOnce) {
  PublishResult first = publish_and_wait(0, "i", "1", "order-17");
  PublishResult again = publish_and_wait(1, "i", "1", "order-17");
  PublishResult other = publish_and_wait(2, "i", "2", "order-18");
  EXPECT_FALSE(first.duplicate);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.top.offset, first.top.offset) << "the first publish's offset comes back";
  EXPECT_EQ(other.top.offset, first.top.offset + 1);
  EXPECT_EQ(history(0, "i").publications.size(), 2u) << "published once";
  PublishResult elsewhere = publish_and_wait(0, "j", "1", "order-17");
  EXPECT_FALSE(elsewhere.duplicate) << "keys are per channel";
}

TEST_P(ContractTest, PresenceAddRemoveStatsAndAnnouncements) {
  subscribe_and_wait(1, "p");
  on_loop(0, [&] {
    broker_->presence_add(0, "p", ClientInfo{"c1", "u1", R"({"name":"Ann"})"}, true, 0, nullptr);
    broker_->presence_add(0, "p", ClientInfo{"c2", "u1", ""}, true, 0, nullptr);
    broker_->presence_add(2, "p", ClientInfo{"c3", "u2", ""}, false, 0, nullptr);  // silent
    broker_->presence_add(2, "p", ClientInfo{"c4", "", ""}, false, 0, nullptr);    // anonymous
  });
  settle();
  std::promise<std::vector<ClientInfo>> who;
  on_loop(2, [&] {
    broker_->presence(2, "p", [&](Result<std::vector<ClientInfo>> r) { who.set_value(r.value()); });
  });
  auto clients = who.get_future().get();
  EXPECT_EQ(clients.size(), 4u);
  std::promise<PresenceStats> stats;
  on_loop(1, [&] {
    broker_->presence_stats(1, "p", [&](Result<PresenceStats> r) { stats.set_value(r.value()); });
  });
  PresenceStats st = stats.get_future().get();
  EXPECT_EQ(st.clients, 4u);
  EXPECT_EQ(st.users, 2u) << "distinct non-empty user ids";
  on_loop(0, [&] { broker_->presence_remove(0, "p", "c1", true); });
  wait_until([&] { return events(1).size() >= 3; });
  settle();
  EXPECT_EQ(events(1), (std::vector<std::string>{"join p c1", "join p c2", "leave p c1"}));
  EXPECT_TRUE(events(0).empty()) << "only subscribed loops hear joins and leaves";
}

// max_subscribers: adds from several loops at once never pass the limit, and a client already
// present is not refused.
TEST_P(ContractTest, PresenceLimitHoldsUnderConcurrentAdds) {
  constexpr int kPerLoop = 20;
  constexpr size_t kLimit = 7;
  std::atomic<int> added{0};
  std::atomic<int> answered{0};
  for (int l = 0; l < kLoops; ++l) {
    loops_[static_cast<size_t>(l)]->post([&, l] {
      for (int i = 0; i < kPerLoop; ++i) {
        std::string id = std::to_string(l) + "-" + std::to_string(i);
        broker_->presence_add(l, "full", ClientInfo{id, "", ""}, false, kLimit,
                              [&](Result<bool> ok) {
                                added += ok.value() ? 1 : 0;
                                ++answered;
                              });
      }
    });
  }
  while (answered.load() < kLoops * kPerLoop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(added.load(), static_cast<int>(kLimit));
  std::promise<bool> again;
  on_loop(0, [&] {
    broker_->presence_add(0, "full", ClientInfo{"new", "", ""}, false, kLimit,
                          [&](Result<bool> ok) { again.set_value(ok.value()); });
  });
  EXPECT_FALSE(again.get_future().get()) << "the channel is full";
  std::promise<bool> present;
  on_loop(1, [&] {
    broker_->presence(1, "full", [&](Result<std::vector<ClientInfo>> r) {
      std::string id = r.value().front().client;
      broker_->presence_add(1, "full", ClientInfo{id, "", ""}, false, kLimit,
                            [&](Result<bool> ok) { present.set_value(ok.value()); });
    });
  });
  EXPECT_TRUE(present.get_future().get()) << "re-adding a present client is not refused";
}

TEST_P(ContractTest, TtlDropsOldPublications) {
  if (kind() == Kind::kDurable) {
    GTEST_SKIP() << "the store drops expired rows on its own retention pass, not on read";
  }
  set_policy("t", HistoryOptions{100, 1});  // 1 ms
  publish_and_wait(0, "t", "1");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  HistoryResult h = history(0, "t");
  EXPECT_TRUE(h.publications.empty());
  EXPECT_EQ(h.top.first_offset, 2u) << "a client at offset 0 can tell its window is gone";
}

// The recovery contract: subscribe, then read history; every offset is either in the history
// result or delivered live afterwards, while another thread keeps publishing.
TEST_P(ContractTest, SubscribeThenReadHistoryLeavesNoGapUnderConcurrentPublishing) {
  constexpr int kTotal = 5000;
  set_policy("race", HistoryOptions{100000, 0});
  std::atomic<int> published{0};
  std::thread publisher([&] {
    for (int i = 0; i < kTotal; ++i) {
      loops_[0]->post([&, i] {
        broker_->publish(0, "race", PublishRequest{std::to_string(i), {}, ""},
                         [&](Result<PublishResult>) { ++published; });
      });
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  subscribe_and_wait(2, "race");
  HistoryResult h = history(2, "race");
  publisher.join();
  while (published.load() < kTotal) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  wait_until([&] {
    auto live = received(2, "race");
    const auto total = static_cast<uint64_t>(kTotal);
    return h.top.offset == total || (!live.empty() && live.back() == total);
  });
  settle();
  std::set<uint64_t> seen;
  for (const auto& p : h.publications) {
    seen.insert(p.offset);
  }
  const std::vector<uint64_t> live = received(2, "race");
  for (uint64_t off : live) {
    seen.insert(off);
  }
  for (uint64_t off = 1; off <= kTotal; ++off) {
    ASSERT_TRUE(seen.count(off) == 1) << "offset " << off << " neither in history nor live";
  }
  // Live delivery is strictly increasing.
  for (size_t i = 1; i < live.size(); ++i) {
    ASSERT_EQ(live[i], live[i - 1] + 1);
  }
  if (!live.empty()) {
    EXPECT_LE(live.front(), h.top.offset + 1) << "no gap between history and live";
  }
}

// One case of a history read: the query's bound (`after` or `before`, by direction), its limit,
// and the offsets expected, in the order expected.
struct ReadCase {
  bool reverse;
  std::optional<uint64_t> bound;  // absent: from the oldest (forward) or newest (reverse) kept
  std::optional<size_t> limit;    // absent: no limit
  std::vector<uint64_t> offsets;
};

std::string describe(const ReadCase& c) {
  return std::string(c.reverse ? "reverse" : "forward") +
         (c.bound ? (c.reverse ? " before " : " after ") + std::to_string(*c.bound) : "") +
         (c.limit ? " limit " + std::to_string(*c.limit) : " no limit");
}

// Offsets 1..12 published, the newest 10 kept (3..12): every combination of a bound or none,
// limit none / 0 / smaller / larger than what the bound leaves, forward and reverse.
const ReadCase kReadCases[] = {
    {false, {}, {}, {3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
    {true, {}, {}, {12, 11, 10, 9, 8, 7, 6, 5, 4, 3}},
    {false, {}, 0, {}},
    {true, {}, 0, {}},
    {false, {}, 2, {3, 4}},
    {true, {}, 2, {12, 11}},
    {false, {}, 20, {3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
    {true, {}, 20, {12, 11, 10, 9, 8, 7, 6, 5, 4, 3}},
    {false, 8, {}, {9, 10, 11, 12}},
    {true, 8, {}, {7, 6, 5, 4, 3}},
    {false, 8, 0, {}},
    {true, 8, 0, {}},
    {false, 8, 2, {9, 10}},
    {true, 8, 2, {7, 6}},
    {false, 8, 20, {9, 10, 11, 12}},
    {true, 8, 20, {7, 6, 5, 4, 3}},
    // Bounds at and past the ends: nothing beyond the top or below the oldest kept.
    {false, 12, {}, {}},
    {true, 3, {}, {}},
    {true, 1000, 2, {12, 11}},
    {false, 0, 1, {3}},
};

TEST_P(ContractTest, HistoryReadsEveryBoundLimitAndDirection) {
  set_policy("r", HistoryOptions{10, 0});
  for (int i = 1; i <= 12; ++i) {
    publish_and_wait(i % kLoops, "r", std::to_string(i));
  }
  for (const ReadCase& c : kReadCases) {
    SCOPED_TRACE(describe(c));
    HistoryQuery q;
    q.reverse = c.reverse;
    if (c.bound && c.reverse) {
      q.before = *c.bound;
    } else if (c.bound) {
      q.after = *c.bound;
    }
    if (c.limit) {
      q.limit = *c.limit;
    }
    HistoryResult h = history(1, "r", q);
    EXPECT_EQ(h.top.offset, 12u) << "the position comes with every answer";
    EXPECT_EQ(h.top.first_offset, 3u);
    std::vector<uint64_t> got;
    for (const PublicationRecord& p : h.publications) {
      got.push_back(p.offset);
      EXPECT_EQ(p.data, std::to_string(p.offset)) << "each offset with its own data";
    }
    EXPECT_EQ(got, c.offsets);
  }
}

INSTANTIATE_TEST_SUITE_P(Brokers, ContractTest,
                         ::testing::Values(Kind::kMemory, Kind::kDurable, Kind::kRedis),
                         [](const ::testing::TestParamInfo<Kind>& param) {
                           return kind_name(param.param);
                         });

}  // namespace
}  // namespace herald::broker
