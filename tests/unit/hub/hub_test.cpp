#include "hub/hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "broker/memory_broker.h"
#include "store/history_store.h"
#include "../store/test_util.h"
#include "../broker/loop_threads.h"

namespace herald::hub {
namespace {

using broker::HistoryOptions;
using broker::MemoryBroker;
using broker::PresenceStats;
using broker::PublishResult;

// A connection stand-in: records the offsets it was sent, from the subscribe reply and live.
class FakeMember : public ChannelMember {
 public:
  void on_channel_publication(std::string_view, const std::string& epoch,
                              const std::shared_ptr<const PublicationRecord>& pub) override {
    std::lock_guard<std::mutex> lock(mutex);
    offsets.push_back(pub->offset);
    last_epoch = epoch;
  }
  void on_reply(const SubscribeReply& reply) {
    std::lock_guard<std::mutex> lock(mutex);
    replied = true;
    recovered = reply.recovered;
    top = reply.top;
    for (const auto& p : reply.publications) {
      offsets.push_back(p.offset);
    }
  }
  std::vector<uint64_t> snapshot() {
    std::lock_guard<std::mutex> lock(mutex);
    return offsets;
  }
  void on_channel_lost(std::string_view channel) override {
    std::lock_guard<std::mutex> lock(mutex);
    lost.emplace_back(channel);
  }
  std::vector<std::string> lost;

  std::mutex mutex;
  std::vector<uint64_t> offsets;
  std::string last_epoch;
  bool replied = false;
  bool recovered = false;
  StreamTop top;
};

// Wraps the memory broker so that history results take a detour through another loop, as they
// would over a network: live publications sent after the history read can then overtake the
// result, which is what the hub's buffering during recovery is for (the memory broker alone
// never reorders them, being FIFO from owner to subscriber).
class SlowHistoryBroker : public Broker {
 public:
  SlowHistoryBroker(MemoryBroker& inner, std::vector<net::EventLoop*> loops)
      : inner_(inner), loops_(std::move(loops)) {}
  void attach(int loop, BrokerSink* sink) override { inner_.attach(loop, sink); }
  void publish(int loop, std::string_view channel, PublishRequest request,
               PublishCallback done) override {
    inner_.publish(loop, channel, std::move(request), std::move(done));
  }
  void subscribe(int loop, std::string_view channel, SubscribeCallback done) override {
    inner_.subscribe(loop, channel, std::move(done));
  }
  void unsubscribe(int loop, std::string_view channel) override {
    inner_.unsubscribe(loop, channel);
  }
  void presence_add(int loop, std::string_view channel, ClientInfo who, bool announce,
                    size_t limit, AddedCallback done) override {
    inner_.presence_add(loop, channel, std::move(who), announce, limit, std::move(done));
  }
  void presence_remove(int loop, std::string_view channel, std::string_view client,
                       bool announce) override {
    inner_.presence_remove(loop, channel, client, announce);
  }
  void presence(int loop, std::string_view channel, PresenceCallback done) override {
    inner_.presence(loop, channel, std::move(done));
  }
  void presence_stats(int loop, std::string_view channel, PresenceStatsCallback done) override {
    inner_.presence_stats(loop, channel, std::move(done));
  }
  void read_history(int loop, std::string_view channel, const HistoryQuery& query,
                    HistoryCallback done) override {
    inner_.read_history(loop, channel, query,
                        [this, loop, done = std::move(done)](Result<HistoryResult> r) mutable {
                          net::EventLoop* other = loops_[(loop + 1) % loops_.size()];
                          other->post([this, loop, done = std::move(done),
                                       r = std::move(r)]() mutable {
                            std::this_thread::sleep_for(std::chrono::microseconds(300));
                            loops_[loop]->post([done = std::move(done), r = std::move(r)]() mutable {
                              done(std::move(r));
                            });
                          });
                        });
  }

 private:
  MemoryBroker& inner_;
  std::vector<net::EventLoop*> loops_;
};

enum class BrokerKind { kMemory, kSlowHistory, kDurable };

class HubTest : public ::testing::TestWithParam<BrokerKind> {
 protected:
  static constexpr int kLoops = 3;

  void SetUp() override {
    ASSERT_TRUE(loops_.ok());
    std::vector<net::EventLoop*> raw = loops_.pointers();
    if (GetParam() == BrokerKind::kDurable) {
      auto opened = store::HistoryStore::open(store::testing::options_in(dir_));
      ASSERT_TRUE(opened.ok()) << opened.error();
      store_ = std::move(*opened);
    }
    // Channel "w" keeps a short window; the others keep everything these tests publish.
    memory_ = std::make_unique<MemoryBroker>(raw, store_.get(), [](std::string_view channel) {
      return channel == "w" ? HistoryOptions{10, 0} : HistoryOptions{100000, 0};
    });
    Broker* broker = memory_.get();
    if (GetParam() == BrokerKind::kSlowHistory) {
      slow_ = std::make_unique<SlowHistoryBroker>(*memory_, raw);
      broker = slow_.get();
    }
    for (int i = 0; i < kLoops; ++i) {
      hubs_.push_back(std::make_unique<Hub>(i, *broker));
    }
    loops_.start();
  }

  void TearDown() override {
    if (store_) {
      ASSERT_TRUE(store_->flush().ok());
    }
    settle();
    loops_.stop();
  }

  template <typename Fn>
  void on_loop(int i, Fn fn) {
    loops_.on_loop(i, fn);
  }

  void settle() {
    if (store_) {
      ASSERT_TRUE(store_->flush().ok());  // commit callbacks are then on their way to the owners
    }
    for (int round = 0; round < 4; ++round) {
      for (int i = 0; i < kLoops; ++i) {
        on_loop(i, [] {});
      }
    }
  }

  // Subscribes m on loop i and waits for the reply.
  void subscribe(int i, FakeMember& m, const std::string& channel,
                 std::optional<Position> since = std::nullopt) {
    std::promise<void> replied;
    on_loop(i, [&] {
      hubs_[static_cast<size_t>(i)]->subscribe(&m, channel, since,
                                               [&](Result<SubscribeReply> r) {
                                                 ASSERT_TRUE(r.ok());
                                                 m.on_reply(r.value());
                                                 replied.set_value();
                                               });
    });
    replied.get_future().wait();
  }

  void publish(int i, const std::string& channel, int n) {
    std::atomic<int> acked{0};
    for (int k = 0; k < n; ++k) {
      loops_[static_cast<size_t>(i)]->post([&, i] {
        hubs_[static_cast<size_t>(i)]->publish(channel, PublishRequest{"{}", {}, ""},
                                               [&](Result<PublishResult>) { ++acked; });
      });
    }
    while (acked.load() < n) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

  broker::testing::LoopThreads loops_{kLoops};
  store::testing::TempDir dir_;
  std::unique_ptr<store::HistoryStore> store_;
  std::unique_ptr<MemoryBroker> memory_;
  std::unique_ptr<SlowHistoryBroker> slow_;
  std::vector<std::unique_ptr<Hub>> hubs_;
};

INSTANTIATE_TEST_SUITE_P(Brokers, HubTest,
                         ::testing::Values(BrokerKind::kMemory, BrokerKind::kSlowHistory,
                                           BrokerKind::kDurable),
                         [](const ::testing::TestParamInfo<BrokerKind>& param_info) {
                           switch (param_info.param) {
                             case BrokerKind::kMemory:
                               return "Memory";
                             case BrokerKind::kSlowHistory:
                               return "SlowHistory";
                             case BrokerKind::kDurable:
                               return "Durable";
                           }
                           return "unknown";
                         });

TEST_P(HubTest, LiveFanOutToMembersOnEveryLoop) {
  FakeMember a;
  FakeMember b;
  FakeMember c;
  subscribe(0, a, "room");
  subscribe(1, b, "room");
  subscribe(1, c, "room");
  publish(2, "room", 10);
  settle();
  std::vector<uint64_t> expected{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(a.snapshot(), expected);
  EXPECT_EQ(b.snapshot(), expected);
  EXPECT_EQ(c.snapshot(), expected);
  EXPECT_FALSE(a.recovered) << "no position given: nothing to recover";
}

// The broker lost the stream: live members are told (and may unsubscribe from the call), the
// channel stays for the others.
TEST_P(HubTest, ALostStreamIsToldToLiveMembers) {
  FakeMember a;
  FakeMember b;
  subscribe(1, a, "l");
  subscribe(1, b, "l");
  publish(0, "l", 2);
  settle();
  on_loop(1, [&] { hubs_[1]->on_lost("l"); });
  EXPECT_EQ(a.lost, std::vector<std::string>{"l"});
  EXPECT_EQ(b.lost, std::vector<std::string>{"l"});
  on_loop(1, [&] { hubs_[1]->on_lost("elsewhere"); });  // a channel the loop does not hold
  EXPECT_EQ(a.lost.size(), 1u);
  publish(0, "l", 1);
  settle();
  EXPECT_EQ(a.snapshot(), (std::vector<uint64_t>{1, 2, 3})) << "still subscribed";
}

TEST_P(HubTest, UnsubscribedMembersGetNothingMoreAndEmptyChannelsAreReleased) {
  FakeMember a;
  subscribe(0, a, "x");
  publish(1, "x", 3);
  settle();
  on_loop(0, [&] { hubs_[0]->unsubscribe(&a, "x"); });
  publish(1, "x", 3);
  settle();
  EXPECT_EQ(a.snapshot().size(), 3u);
  on_loop(0, [&] { EXPECT_EQ(hubs_[0]->channel_count(), 0u); });
}

TEST_P(HubTest, RecoveryAfterADisconnectGivesExactlyTheMissedThenLive) {
  FakeMember first;
  subscribe(2, first, "c");
  publish(0, "c", 5);
  settle();
  on_loop(2, [&] { hubs_[2]->leave_all(&first); });
  Position pos{first.snapshot().back(), first.last_epoch};
  publish(1, "c", 1000);  // missed while away
  FakeMember back;
  subscribe(1, back, "c", pos);
  EXPECT_TRUE(back.recovered);
  publish(0, "c", 10);  // live after the return
  settle();
  std::vector<uint64_t> got = back.snapshot();
  ASSERT_EQ(got.size(), 1010u);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i], 6 + i) << "at " << i;
  }
}

TEST_P(HubTest, LostWindowOrOtherEpochIsNotRecovered) {
  FakeMember m;
  publish(0, "w", 50);  // "w" keeps 10
  subscribe(1, m, "w", Position{5, ""});
  EXPECT_FALSE(m.recovered) << "epoch unknown to the client";
  FakeMember n;
  std::string epoch;
  on_loop(0, [&] {});
  {
    std::promise<std::string> p;
    on_loop(0, [&] {
      hubs_[0]->history("w", HistoryQuery{.limit = 0},
                        [&](Result<HistoryResult> r) { p.set_value(r.value().top.epoch); });
    });
    epoch = p.get_future().get();
  }
  subscribe(1, n, "w", Position{5, epoch});
  EXPECT_FALSE(n.recovered) << "offsets 6..40 were trimmed away";
  EXPECT_TRUE(n.snapshot().empty());
  FakeMember o;
  subscribe(2, o, "w", Position{45, epoch});
  EXPECT_TRUE(o.recovered);
  EXPECT_EQ(o.snapshot(), (std::vector<uint64_t>{46, 47, 48, 49, 50}));
}

// The issue's acceptance test at the hub level: a client leaves while publications continue,
// comes back with its position, and must see every offset exactly once, in order, then live
// ones. 50 rounds with random timing (publisher concurrent with the re-subscribe).
TEST_P(HubTest, RecoveryUnderConcurrentPublishingIsExactRandomized) {
  std::mt19937 rng(2026);
  for (int round = 0; round < 50; ++round) {
    std::string channel = "r" + std::to_string(round);
    int sub_loop = static_cast<int>(rng() % kLoops);
    int pub_loop = static_cast<int>(rng() % kLoops);
    FakeMember first;
    subscribe(sub_loop, first, channel);
    publish(pub_loop, channel, 1 + static_cast<int>(rng() % 20));
    settle();
    on_loop(sub_loop, [&] { hubs_[static_cast<size_t>(sub_loop)]->leave_all(&first); });
    Position pos{first.snapshot().back(), first.last_epoch};
    uint64_t before = pos.offset;

    constexpr int kMissedAndLive = 1000;
    std::atomic<int> acked{0};
    std::mt19937 pub_rng(rng());  // the publisher thread's own: a generator is not thread-safe
    std::thread publisher([&] {
      for (int k = 0; k < kMissedAndLive; ++k) {
        loops_[static_cast<size_t>(pub_loop)]->post([&] {
          hubs_[static_cast<size_t>(pub_loop)]->publish(
              channel, PublishRequest{"{}", {}, ""},
              [&](Result<PublishResult>) { ++acked; });
        });
        if (k % 100 == 0) {
          std::this_thread::sleep_for(std::chrono::microseconds(pub_rng() % 300));
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
    FakeMember back;
    int back_loop = static_cast<int>(rng() % kLoops);
    subscribe(back_loop, back, channel, pos);
    publisher.join();
    while (acked.load() < kMissedAndLive) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    settle();
    ASSERT_TRUE(back.recovered) << "round " << round;
    std::vector<uint64_t> got = back.snapshot();
    ASSERT_EQ(got.size(), static_cast<size_t>(kMissedAndLive)) << "round " << round;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i], before + 1 + i) << "round " << round << " index " << i;
    }
    on_loop(back_loop, [&] { hubs_[static_cast<size_t>(back_loop)]->leave_all(&back); });
  }
}

TEST_P(HubTest, LeavingBeforeTheReplyDropsTheCallback) {
  FakeMember m;
  bool called = false;
  on_loop(1, [&] {
    hubs_[1]->subscribe(&m, "gone", std::nullopt, [&](Result<SubscribeReply>) { called = true; });
    hubs_[1]->leave_all(&m);  // before the broker answered
  });
  publish(0, "gone", 3);
  settle();
  EXPECT_FALSE(called);
  EXPECT_TRUE(m.snapshot().empty());
  on_loop(1, [&] { EXPECT_EQ(hubs_[1]->channel_count(), 0u); });
}

// A broker that cannot subscribe (Redis unreachable): the waiting subscribes fail with its error,
// the hub keeps nothing of the channel and never unsubscribes what was never subscribed.
class RefusingBroker : public Broker {
 public:
  void attach(int, BrokerSink*) override {}
  void publish(int, std::string_view, PublishRequest, PublishCallback) override {}
  void subscribe(int, std::string_view, SubscribeCallback done) override {
    net::EventLoop::current()->run_soon([done = std::move(done)] { done(Error{"unavailable"}); });
  }
  void unsubscribe(int, std::string_view) override { ++unsubscribes; }
  void read_history(int, std::string_view, const HistoryQuery&, HistoryCallback) override {}
  void presence_add(int, std::string_view, ClientInfo, bool, size_t, AddedCallback) override {}
  void presence_remove(int, std::string_view, std::string_view, bool) override {}
  void presence(int, std::string_view, PresenceCallback) override {}
  void presence_stats(int, std::string_view, PresenceStatsCallback) override {}
  int unsubscribes = 0;
};

TEST(HubFailures, AFailedBrokerSubscribeFailsEveryWaitingSubscribe) {
  broker::testing::LoopThreads loops(1);
  ASSERT_TRUE(loops.ok());
  RefusingBroker refusing;
  Hub hub(0, refusing);
  loops.start();
  FakeMember a;
  FakeMember b;
  std::vector<std::string> errors;
  std::promise<void> both;
  loops.on_loop(0, [&] {
    for (FakeMember* m : {&a, &b}) {
      hub.subscribe(m, "c", std::nullopt, [&](Result<SubscribeReply> r) {
        errors.push_back(r.ok() ? "ok" : r.error());
        if (errors.size() == 2) {
          both.set_value();
        }
      });
    }
  });
  both.get_future().wait();
  loops.on_loop(0, [&] {
    EXPECT_EQ(errors, (std::vector<std::string>{"unavailable", "unavailable"}));
    EXPECT_FALSE(hub.is_subscribed(&a, "c"));
    EXPECT_EQ(hub.channel_count(), 0u);
    EXPECT_EQ(hub.subscription_count(&b), 0u);
    hub.leave_all(&a);
  });
  EXPECT_EQ(refusing.unsubscribes, 0) << "nothing to undo";
  loops.stop();
}

}  // namespace
}  // namespace herald::hub

namespace herald::hub {
namespace {

using broker::MemoryBroker;
using broker::PublicationRecord;

// A whole "process": loops, store and broker, opened on a data directory and closed again.
struct Node {
  explicit Node(const store::testing::TempDir& dir) {
    auto opened = store::HistoryStore::open(store::testing::options_in(dir));
    EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error());
    store = std::move(*opened);
    loop = std::make_unique<net::EventLoop>(0);
    EXPECT_TRUE(loop->init().ok());
    broker = std::make_unique<MemoryBroker>(std::vector<net::EventLoop*>{loop.get()}, store.get());
    thread = std::thread([this] { loop->run(); });
  }
  ~Node() {
    loop->stop();
    thread.join();
  }
  PublishResult publish(const std::string& channel, const std::string& data,
                        ClientInfo publisher = {}) {
    std::promise<Result<PublishResult>> p;
    loop->post([&] {
      broker->publish(0, channel, PublishRequest{data, publisher, ""},
                      [&](Result<PublishResult> r) { p.set_value(std::move(r)); });
    });
    auto r = p.get_future().get();
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
    return r.ok() ? r.value() : PublishResult{};
  }
  HistoryResult history(const std::string& channel, uint64_t after) {
    std::promise<Result<HistoryResult>> p;
    loop->post([&] {
      broker->read_history(0, channel, HistoryQuery{.after = after},
                           [&](Result<HistoryResult> r) { p.set_value(std::move(r)); });
    });
    auto r = p.get_future().get();
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.value() : HistoryResult{};
  }

  std::unique_ptr<store::HistoryStore> store;
  std::unique_ptr<net::EventLoop> loop;
  std::unique_ptr<MemoryBroker> broker;
  std::thread thread;
};

TEST(DurableBroker, OffsetsEpochAndHistorySurviveARestart) {
  store::testing::TempDir dir;
  std::string epoch;
  {
    Node first(dir);
    for (int i = 1; i <= 10; ++i) {
      PublishResult r = first.publish("news", "{\"n\":" + std::to_string(i) + "}");
      ASSERT_EQ(r.top.offset, static_cast<uint64_t>(i));
      epoch = r.top.epoch;
    }
  }
  Node second(dir);
  HistoryResult h = second.history("news", 7);
  EXPECT_EQ(h.top.epoch, epoch);
  EXPECT_EQ(h.top.offset, 10u);
  ASSERT_EQ(h.publications.size(), 3u);
  EXPECT_EQ(h.publications[0].data, "{\"n\":8}");
  PublishResult next = second.publish("news", "{\"n\":11}");
  EXPECT_EQ(next.top.offset, 11u) << "offsets continue after the restart";
  EXPECT_EQ(next.top.epoch, epoch);
}

TEST(DurableBroker, HistoryKeepsThePublisher) {
  store::testing::TempDir dir;
  ClientInfo ann{"c0ffee", "42", R"({"name":"Ann"})"};
  {
    Node first(dir);
    first.publish("room", "1", ann);
    first.publish("room", "2");  // from a backend
  }
  Node second(dir);
  HistoryResult h = second.history("room", 0);
  ASSERT_EQ(h.publications.size(), 2u);
  EXPECT_EQ(h.publications[0].publisher.client, ann.client);
  EXPECT_EQ(h.publications[0].publisher.user, ann.user);
  EXPECT_EQ(h.publications[0].publisher.info, ann.info);
  EXPECT_TRUE(h.publications[1].publisher.client.empty());
}

}  // namespace
}  // namespace herald::hub
