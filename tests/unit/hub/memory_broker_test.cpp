#include "hub/memory_broker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../store/test_util.h"
#include "loop_threads.h"
#include "store/history_store.h"

namespace herald::hub {
namespace {

// Records what one loop's sink received. Written on that loop, read by the test after a barrier.
class RecordingSink : public BrokerSink {
 public:
  void on_publications(std::string_view channel, const std::string& epoch,
                       const std::shared_ptr<const PublicationBatch>& batch) override {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_FALSE(batch->empty());
    for (const auto& pub : *batch) {
      received[std::string(channel)].push_back(pub->offset);
    }
    epochs.insert(epoch);
    batches.push_back(batch->size());
  }
  void on_join(std::string_view channel, const ClientInfo& who) override {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back("join " + std::string(channel) + " " + who.client);
  }
  void on_leave(std::string_view channel, const ClientInfo& who) override {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back("leave " + std::string(channel) + " " + who.client);
  }
  std::vector<std::string> events;
  std::mutex mutex;
  std::map<std::string, std::vector<uint64_t>> received;
  std::vector<size_t> batches;  // sizes of the batches, in arrival order
  std::set<std::string> epochs;
};

// N real event loops on their own threads, and a broker over them (with a store in a temporary
// directory when durable() says so).
class BrokerTest : public ::testing::Test {
 protected:
  static constexpr int kLoops = 3;

  virtual bool durable() const { return false; }

  void SetUp() override {
    ASSERT_TRUE(loops_.ok());
    if (durable()) {
      store_ = store::testing::open_or_fail(store::testing::options_in(dir_));
      ASSERT_TRUE(store_);
    }
    broker_ = std::make_unique<MemoryBroker>(loops_.pointers(), store_.get(),
                                             [this](std::string_view channel) {
      auto it = policies_.find(channel);
      return it == policies_.end() ? HistoryOptions{} : it->second;
    });
    for (int i = 0; i < kLoops; ++i) {
      sinks_.push_back(std::make_unique<RecordingSink>());
      broker_->attach(i, sinks_.back().get());
    }
    loops_.start();
  }

  void TearDown() override {
    if (store_) {
      // Every commit answered before the loops stop, so none reaches a stopped loop.
      ASSERT_TRUE(store_->flush().ok());
      settle();
    }
    loops_.stop();
  }

  template <typename Fn>
  void on_loop(int i, Fn fn) {
    loops_.on_loop(i, fn);
  }

  PublishResult publish_and_wait(int from, const std::string& channel, const std::string& data,
                                 const std::string& key = "") {
    std::promise<Result<PublishResult>> p;
    on_loop(from, [&] {
      broker_->publish(from, channel, PublishRequest{data, {}, key},
                       [&](Result<PublishResult> r) {
        EXPECT_EQ(net::EventLoop::current(), loops_[static_cast<size_t>(from)])
            << "callbacks run on the calling loop";
        p.set_value(std::move(r));
      });
    });
    auto r = p.get_future().get();
    EXPECT_TRUE(r.ok());
    return r.value();
  }

  HistoryResult history(int from, const std::string& channel, const HistoryQuery& query = {}) {
    std::promise<Result<HistoryResult>> p;
    on_loop(from, [&] {
      broker_->read_history(from, channel, query,
                            [&](Result<HistoryResult> r) { p.set_value(std::move(r)); });
    });
    auto r = p.get_future().get();
    EXPECT_TRUE(r.ok());
    return r.value();
  }

  void subscribe_and_wait(int from, const std::string& channel) {
    std::promise<void> p;
    on_loop(from, [&] { broker_->subscribe(from, channel, [&] { p.set_value(); }); });
    p.get_future().wait();
  }

  // Waits until every loop has run everything queued before this call (twice: a task may post
  // one more hop to another loop).
  void settle() {
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < kLoops; ++i) {
        on_loop(i, [] {});
      }
    }
  }

  testing::LoopThreads loops_{kLoops};
  std::map<std::string, HistoryOptions, std::less<>> policies_;  // set before first use
  store::testing::TempDir dir_;
  std::unique_ptr<store::HistoryStore> store_;  // declared before the broker, which uses it
  std::unique_ptr<MemoryBroker> broker_;
  std::vector<std::unique_ptr<RecordingSink>> sinks_;
};

TEST_F(BrokerTest, OffsetsIncreaseByOnePerChannelWithAStableEpoch) {
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

TEST_F(BrokerTest, SubscribedLoopsGetEveryPublicationInOrderOthersNone) {
  subscribe_and_wait(0, "room");
  subscribe_and_wait(2, "room");
  for (int i = 0; i < 200; ++i) {
    publish_and_wait(i % kLoops, "room", "\"x\"");
  }
  settle();
  std::vector<uint64_t> expected;
  for (uint64_t i = 1; i <= 200; ++i) {
    expected.push_back(i);
  }
  EXPECT_EQ(sinks_[0]->received["room"], expected);
  EXPECT_EQ(sinks_[2]->received["room"], expected);
  EXPECT_TRUE(sinks_[1]->received["room"].empty());
}

TEST_F(BrokerTest, UnsubscribeStopsDeliveryOnlyWhenTheLastSubscriptionGoes) {
  subscribe_and_wait(1, "c");
  subscribe_and_wait(1, "c");
  on_loop(1, [&] { broker_->unsubscribe(1, "c"); });
  publish_and_wait(0, "c", "1");
  on_loop(1, [&] { broker_->unsubscribe(1, "c"); });
  publish_and_wait(0, "c", "2");
  settle();
  EXPECT_EQ(sinks_[1]->received["c"], std::vector<uint64_t>{1});
}

TEST_F(BrokerTest, HistoryAfterAnOffsetWithLimitAndRetention) {
  policies_["h"] = HistoryOptions{5, 0};
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

TEST_F(BrokerTest, IdempotencyKeyPublishesOnce) {
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

TEST_F(BrokerTest, PresenceAddRemoveStatsAndAnnouncements) {
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
  settle();
  EXPECT_EQ(sinks_[1]->events,
            (std::vector<std::string>{"join p c1", "join p c2", "leave p c1"}));
  EXPECT_TRUE(sinks_[0]->events.empty()) << "only subscribed loops hear joins and leaves";
}

// max_subscribers: adds from several loops at once never pass the limit, and a client already
// present is not refused.
TEST_F(BrokerTest, PresenceLimitHoldsUnderConcurrentAdds) {
  constexpr int kPerLoop = 20;
  constexpr size_t kLimit = 7;
  std::atomic<int> added{0};
  std::atomic<int> answered{0};
  for (int l = 0; l < kLoops; ++l) {
    loops_[static_cast<size_t>(l)]->post([&, l] {
      for (int i = 0; i < kPerLoop; ++i) {
        std::string id = std::to_string(l) + "-" + std::to_string(i);
        broker_->presence_add(l, "full", ClientInfo{id, "", ""}, false, kLimit, [&](bool ok) {
          added += ok ? 1 : 0;
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
                          [&](bool ok) { again.set_value(ok); });
  });
  EXPECT_FALSE(again.get_future().get()) << "the channel is full";
  std::promise<bool> present;
  on_loop(1, [&] {
    broker_->presence(1, "full", [&](Result<std::vector<ClientInfo>> r) {
      std::string id = r.value().front().client;
      broker_->presence_add(1, "full", ClientInfo{id, "", ""}, false, kLimit,
                            [&](bool ok) { present.set_value(ok); });
    });
  });
  EXPECT_TRUE(present.get_future().get()) << "re-adding a present client is not refused";
}

TEST_F(BrokerTest, QueriesDoNotCreateChannelsAndUnusedChannelsAreForgotten) {
  std::promise<PresenceStats> stats;
  on_loop(0, [&] {
    broker_->presence_stats(0, "ghost", [&](Result<PresenceStats> r) { stats.set_value(r.value()); });
  });
  EXPECT_EQ(stats.get_future().get().clients, 0u);
  HistoryResult h = history(1, "ghost");
  EXPECT_EQ(h.top.offset, 0u);
  EXPECT_TRUE(h.top.epoch.empty()) << "an unknown channel has no epoch yet";
  subscribe_and_wait(2, "brief");
  on_loop(2, [&] { broker_->unsubscribe(2, "brief"); });
  settle();
  HistoryResult after = history(1, "brief");
  EXPECT_TRUE(after.top.epoch.empty()) << "forgotten once unused";
}

// A client that saw a channel empty ({0, E}) can recover after the channel was forgotten and
// published to again; a channel forgotten after publications comes back in another epoch.
TEST_F(BrokerTest, EpochOfAForgottenChannel) {
  subscribe_and_wait(1, "e");
  std::string seen_empty = history(1, "e").top.epoch;
  ASSERT_FALSE(seen_empty.empty());
  on_loop(1, [&] { broker_->unsubscribe(1, "e"); });
  settle();
  EXPECT_TRUE(history(0, "e").top.epoch.empty()) << "forgotten";
  PublishResult first = publish_and_wait(0, "e", "1");
  EXPECT_EQ(first.top.epoch, seen_empty) << "nothing was published: the same epoch";
  EXPECT_EQ(first.top.offset, 1u);

  policies_["z"] = HistoryOptions{0, 0};  // no history: forgotten as soon as unused
  subscribe_and_wait(2, "z");
  std::string before = history(2, "z").top.epoch;
  publish_and_wait(2, "z", "1");
  on_loop(2, [&] { broker_->unsubscribe(2, "z"); });
  settle();
  subscribe_and_wait(2, "z");
  HistoryResult again = history(2, "z");
  EXPECT_EQ(again.top.offset, 0u);
  EXPECT_NE(again.top.epoch, before) << "offsets restart at 1: the epoch must change";
}

// Publications of one owner turn reach each subscribed loop as one batch (one frame for its
// subscribers), in order; a subscribe or history read in between splits it where it stands.
TEST_F(BrokerTest, ABurstOfOneTurnArrivesAsOneBatch) {
  std::string channel;
  for (int i = 0; channel.empty(); ++i) {
    std::string name = "burst" + std::to_string(i);
    if (broker_->owner_of(name) == 0) {
      channel = name;  // publishing from its owner: the whole burst runs in one turn
    }
  }
  subscribe_and_wait(1, channel);
  std::atomic<int> acked{0};
  on_loop(0, [&] {
    for (int i = 1; i <= 50; ++i) {
      broker_->publish(0, channel, PublishRequest{std::to_string(i), {}, ""},
                       [&](Result<PublishResult>) { ++acked; });
    }
  });
  while (acked.load() < 50) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  settle();
  {
    std::lock_guard<std::mutex> lock(sinks_[1]->mutex);
    EXPECT_EQ(sinks_[1]->batches, std::vector<size_t>{50});
    ASSERT_EQ(sinks_[1]->received[channel].size(), 50u);
    for (uint64_t i = 0; i < 50; ++i) {
      EXPECT_EQ(sinks_[1]->received[channel][i], i + 1);
    }
  }
  on_loop(0, [&] {
    for (int i = 51; i <= 60; ++i) {
      broker_->publish(0, channel, PublishRequest{std::to_string(i), {}, ""},
                       [](Result<PublishResult>) {});
      if (i == 55) {
        broker_->read_history(0, channel, {.limit = 1}, [](Result<HistoryResult>) {});
      }
    }
  });
  settle();
  std::lock_guard<std::mutex> lock(sinks_[1]->mutex);
  EXPECT_EQ(sinks_[1]->batches, (std::vector<size_t>{50, 5, 5}))
      << "the read flushed what was published before it";
}

TEST_F(BrokerTest, TtlDropsOldPublications) {
  policies_["t"] = HistoryOptions{100, 1};  // 1 ms
  publish_and_wait(0, "t", "1");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  HistoryResult h = history(0, "t");
  EXPECT_TRUE(h.publications.empty());
  EXPECT_EQ(h.top.first_offset, 2u) << "a client at offset 0 can tell its window is gone";
}

// The recovery contract: subscribe, then read history; every offset is either in the history
// result or delivered live afterwards, while another thread keeps publishing.
TEST_F(BrokerTest, SubscribeThenReadHistoryLeavesNoGapUnderConcurrentPublishing) {
  constexpr int kTotal = 5000;
  policies_["race"] = HistoryOptions{100000, 0};
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
  settle();
  std::set<uint64_t> seen;
  for (const auto& p : h.publications) {
    seen.insert(p.offset);
  }
  for (uint64_t off : sinks_[2]->received["race"]) {
    seen.insert(off);
  }
  for (uint64_t off = 1; off <= kTotal; ++off) {
    ASSERT_TRUE(seen.count(off) == 1) << "offset " << off << " neither in history nor live";
  }
  // Live delivery is strictly increasing.
  const auto& live = sinks_[2]->received["race"];
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

class HistoryReadTest : public BrokerTest, public ::testing::WithParamInterface<bool> {
 protected:
  bool durable() const override { return GetParam(); }
};

TEST_P(HistoryReadTest, EveryBoundLimitAndDirection) {
  policies_["r"] = HistoryOptions{10, 0};
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

INSTANTIATE_TEST_SUITE_P(MemoryAndDurable, HistoryReadTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "Durable" : "Memory";
                         });

class DurableBrokerTest : public BrokerTest {
 protected:
  bool durable() const override { return true; }
};

// A durable publication is in the database before its commit answer reaches the owner, which
// fans it out; until then a read must not return it (subscribers would get it twice): not as
// the newest of a reverse read, not at the end of a forward one.
TEST_F(DurableBrokerTest, ReadsStopAtWhatWasFannedOut) {
  for (int i = 1; i <= 3; ++i) {
    publish_and_wait(0, "c", std::to_string(i));
  }
  const int owner = broker_->owner_of("c");
  std::promise<Result<HistoryResult>> newest, oldest;
  on_loop(owner, [&] {
    broker_->publish(owner, "c", PublishRequest{"4", {}, ""}, [](Result<PublishResult>) {});
    // Runs after the publish's own task (which queues the append) in this same turn, and holds
    // the owner while offset 4 commits: the commit's answer is posted, so it waits for the next
    // turn. The reads, queued from here, still run in this one.
    loops_[static_cast<size_t>(owner)]->run_soon([&] {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (store_->stats().appended < 4 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      EXPECT_EQ(store_->stats().appended, 4u);
      broker_->read_history(owner, "c", {.reverse = true, .limit = 2},
                            [&](Result<HistoryResult> r) { newest.set_value(std::move(r)); });
      broker_->read_history(owner, "c", {.after = 1},
                            [&](Result<HistoryResult> r) { oldest.set_value(std::move(r)); });
    });
  });
  Result<HistoryResult> rev = newest.get_future().get();
  Result<HistoryResult> fwd = oldest.get_future().get();
  ASSERT_TRUE(rev.ok() && fwd.ok());
  std::vector<uint64_t> rev_offsets, fwd_offsets;
  for (const auto& p : rev->publications) {
    rev_offsets.push_back(p.offset);
  }
  for (const auto& p : fwd->publications) {
    fwd_offsets.push_back(p.offset);
  }
  EXPECT_EQ(rev->top.offset, 3u);
  EXPECT_EQ(rev_offsets, (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(fwd_offsets, (std::vector<uint64_t>{2, 3}));
  settle();
  EXPECT_EQ(history(0, "c", {.reverse = true, .limit = 1}).publications.at(0).offset, 4u)
      << "fanned out now, so read";
}

}  // namespace
}  // namespace herald::hub
