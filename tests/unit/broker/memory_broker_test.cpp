#include "broker/memory_broker.h"

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
#include "broker_fixture.h"
#include "loop_threads.h"
#include "store/history_store.h"

namespace herald::broker {
namespace {

TEST_F(BrokerTest, QueriesDoNotCreateChannelsAndUnusedChannelsAreForgotten) {
  std::promise<PresenceStats> stats;
  on_loop(0, [&] {
    broker_->presence_stats(0, "ghost",
                            [&](Result<PresenceStats> r) { stats.set_value(r.value()); });
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

  set_policy("z", HistoryOptions{0, 0});  // no history: forgotten as soon as unused
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
    if (memory()->owner_of(name) == 0) {
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




class DurableBrokerTest : public BrokerTest {
 protected:
  Kind kind() const override { return Kind::kDurable; }
};

// A durable publication is in the database before its commit answer reaches the owner, which
// fans it out; until then a read must not return it (subscribers would get it twice): not as
// the newest of a reverse read, not at the end of a forward one.
TEST_F(DurableBrokerTest, ReadsStopAtWhatWasFannedOut) {
  for (int i = 1; i <= 3; ++i) {
    publish_and_wait(0, "c", std::to_string(i));
  }
  const int owner = memory()->owner_of("c");
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
}  // namespace herald::broker
