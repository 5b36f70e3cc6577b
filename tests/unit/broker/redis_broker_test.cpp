// What is particular to the Redis broker, over a real redis-server: the RESP client against real
// replies, two nodes sharing one order and one idempotency window, and the failures (Redis
// restarted without persistence, Redis paused).
#include "broker/redis_broker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "broker/redis_connection.h"
#include "broker_fixture.h"

namespace herald::broker {
namespace {

class RedisBrokerTest : public BrokerTest {
 protected:
  Kind kind() const override { return Kind::kRedis; }

  // Another node: its own loops, sinks and broker, on the same Redis and prefix.
  struct Node {
    ~Node() {
      broker->stop();
      loops.stop();  // before the sinks go: nothing posted to them may still run
    }
    testing::LoopThreads loops{2};
    std::vector<std::unique_ptr<RecordingSink>> sinks;
    std::unique_ptr<RedisBroker> broker;
  };
  // lease_ms: of its presence and holds (renewed, and swept, every lease/3).
  std::unique_ptr<Node> second_node(const std::string& url, uint32_t lease_ms = 60'000,
                                    HoldSink* holds = nullptr) {
    auto node = std::make_unique<Node>();
    RedisBrokerOptions options;
    options.shards = {parse_redis_url(url).value()};
    options.prefix = prefix();
    options.presence_lease_ms = lease_ms;
    node->broker = std::make_unique<RedisBroker>(node->loops.pointers(), options);
    node->broker->set_hold_sink(holds);
    for (int i = 0; i < 2; ++i) {
      node->sinks.push_back(std::make_unique<RecordingSink>());
      node->broker->attach(i, node->sinks.back().get());
    }
    EXPECT_TRUE(node->broker->start().ok());
    node->loops.start();
    EXPECT_TRUE(wait_until([&] { return node->broker->ready(); }));
    return node;
  }

  // hold (or release) of key through node n's loop 0, and its answer.
  static Result<HoldChange> change(Node& n, bool hold, const std::string& key) {
    std::promise<Result<HoldChange>> p;
    n.loops.on_loop(0, [&] {
      auto done = [&](Result<HoldChange> r) { p.set_value(std::move(r)); };
      if (hold) {
        n.broker->hold(0, key, done);
      } else {
        n.broker->release(0, key, done);
      }
    });
    return p.get_future().get();
  }

  Result<PublishResult> try_publish(int from, const std::string& channel) {
    std::promise<Result<PublishResult>> p;
    on_loop(from, [&] {
      broker_->publish(from, channel, PublishRequest{"1", {}, ""},
                       [&](Result<PublishResult> r) { p.set_value(std::move(r)); });
    });
    return p.get_future().get();
  }
};

// The RESP client against real replies of every type (the parser's byte-by-byte cases are in
// resp_test.cpp).
TEST_F(RedisBrokerTest, RespClientReadsEveryReplyTypeFromARealRedis) {
  net::EventLoop loop(9);
  ASSERT_TRUE(loop.init().ok());
  struct Ready : RedisConnection::Listener {
    void on_ready(RedisConnection&) override { ready = true; }
    void on_down(RedisConnection&, const std::string&) override {}
    bool ready = false;
  } listener;
  RedisConnection::Options options;
  options.url = parse_redis_url(shared_redis().url()).value();
  RedisConnection conn(loop, options, &listener);
  std::vector<std::string> got;
  std::thread runner([&] { loop.run(); });
  loop.post([&] { conn.start(); });
  ASSERT_TRUE(wait_until([&] { return listener.ready; }));
  std::promise<void> done;
  loop.post([&] {
    auto keep = [&](Result<resp::Reply> r) { got.push_back(r.ok() ? r->debug_string() : "ERR"); };
    conn.command({"SET", "t-resp-k", "v\r\n"}, keep);
    conn.command({"GET", "t-resp-k"}, keep);
    conn.command({"GET", "t-resp-missing"}, keep);
    conn.command({"DEL", "t-resp-l"}, nullptr);
    conn.command({"RPUSH", "t-resp-l", "a", ""}, keep);
    conn.command({"LRANGE", "t-resp-l", "0", "-1"}, keep);
    conn.command({"LRANGE", "t-resp-missing", "0", "-1"}, keep);
    conn.command({"NOSUCHCOMMAND"}, keep);
    conn.command({"PING"}, [&, keep](Result<resp::Reply> r) {
      keep(std::move(r));
      done.set_value();
    });
  });
  done.get_future().wait();
  loop.post([&] {
    conn.stop();
    loop.stop();
  });
  runner.join();
  ASSERT_EQ(got.size(), 8u);
  EXPECT_EQ(got[0], "+OK");
  EXPECT_EQ(got[1], "\"v\r\n\"");
  EXPECT_EQ(got[2], "nil");
  EXPECT_EQ(got[3], ":2");
  EXPECT_EQ(got[4], "[\"a\", \"\"]");
  EXPECT_EQ(got[5], "[]");
  EXPECT_EQ(got[6].rfind("-ERR unknown command", 0), 0u) << got[6];
  EXPECT_EQ(got[7], "+PONG");
}

// A node subscribing gives a never-published channel its epoch: a client that saw it empty holds
// {0, epoch}, which recovers everything published since, and which a loss of the channel
// (another epoch) invalidates.
TEST_F(RedisBrokerTest, ASubscribedChannelHasAnEpochBeforeItsFirstPublication) {
  EXPECT_TRUE(history(0, "fresh").top.epoch.empty()) << "a query alone creates nothing";
  subscribe_and_wait(1, "fresh");
  HistoryResult seen = history(1, "fresh");
  EXPECT_FALSE(seen.top.epoch.empty());
  EXPECT_EQ(seen.top.offset, 0u);
  PublishResult first = publish_and_wait(0, "fresh", "1");
  EXPECT_EQ(first.top.epoch, seen.top.epoch);
  EXPECT_EQ(first.top.offset, 1u);
  ASSERT_TRUE(wait_until([&] { return received(1, "fresh") == std::vector<uint64_t>{1}; }));
}

// Presence lives in Redis for every node; a member removed is no longer renewed.
TEST_F(RedisBrokerTest, PresenceIsSharedByTheNodes) {
  auto other = second_node(shared_redis().url());
  on_loop(0, [&] {
    broker_->presence_add(0, "room", ClientInfo{"a1", "u1", ""}, false, 0, nullptr);
  });
  std::promise<Result<bool>> added;
  other->loops.on_loop(0, [&] {
    other->broker->presence_add(0, "room", ClientInfo{"b1", "u2", "{}"}, false, 0,
                                [&](Result<bool> r) { added.set_value(std::move(r)); });
  });
  ASSERT_TRUE(added.get_future().get().value());
  std::promise<PresenceStats> stats;
  on_loop(2, [&] {
    broker_->presence_stats(2, "room", [&](Result<PresenceStats> r) { stats.set_value(*r); });
  });
  PresenceStats st = stats.get_future().get();
  EXPECT_EQ(st.clients, 2u) << "members added through both nodes";
  EXPECT_EQ(st.users, 2u);
  other->loops.on_loop(0, [&] { other->broker->presence_remove(0, "room", "b1", false); });
  ASSERT_TRUE(wait_until([&] {
    std::promise<std::vector<ClientInfo>> who;
    on_loop(1, [&] {
      broker_->presence(1, "room", [&](Result<std::vector<ClientInfo>> r) { who.set_value(*r); });
    });
    auto clients = who.get_future().get();
    return clients.size() == 1 && clients[0].client == "a1" && clients[0].user == "u1";
  }));
}

// Two nodes publish into one channel in turn: both nodes' subscribed loops get every offset once,
// in the same order, and an idempotency key used on one node is known on the other.
TEST_F(RedisBrokerTest, TwoNodesShareOneOrderAndOneIdempotencyWindow) {
  auto other = second_node(shared_redis().url());
  subscribe_and_wait(0, "room");
  std::promise<Result<Ok>> sub;
  other->loops.on_loop(1, [&] {
    other->broker->subscribe(1, "room", [&](Result<Ok> r) { sub.set_value(std::move(r)); });
  });
  ASSERT_TRUE(sub.get_future().get().ok());
  for (int i = 0; i < 100; ++i) {
    if (i % 2 == 0) {
      publish_and_wait(1, "room", std::to_string(i));
    } else {
      std::promise<void> p;
      other->loops.on_loop(0, [&] {
        other->broker->publish(0, "room", PublishRequest{std::to_string(i), {}, ""},
                               [&](Result<PublishResult> r) {
                                 EXPECT_TRUE(r.ok());
                                 p.set_value();
                               });
      });
      p.get_future().wait();
    }
  }
  auto other_received = [&] {
    std::lock_guard<std::mutex> lock(other->sinks[1]->mutex);
    return other->sinks[1]->received["room"];
  };
  ASSERT_TRUE(wait_until(
      [&] { return received(0, "room").size() >= 100 && other_received().size() >= 100; }));
  std::vector<uint64_t> expected;
  for (uint64_t i = 1; i <= 100; ++i) {
    expected.push_back(i);
  }
  EXPECT_EQ(received(0, "room"), expected);
  EXPECT_EQ(other_received(), expected);

  PublishResult first = publish_and_wait(2, "orders", "1", "order-17");
  std::promise<Result<PublishResult>> again;
  other->loops.on_loop(0, [&] {
    other->broker->publish(0, "orders", PublishRequest{"1", {}, "order-17"},
                           [&](Result<PublishResult> r) { again.set_value(std::move(r)); });
  });
  Result<PublishResult> second = again.get_future().get();
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->duplicate) << "the key was recorded in Redis, not on the first node";
  EXPECT_EQ(second->top.offset, first.top.offset);
  EXPECT_EQ(history(0, "orders").publications.size(), 1u);
  other->broker->stop();
}

// A publication delivered through Redis carries when the publishing node's hub took it, on the
// receiving process's steady clock, so publish-to-delivery latency is observed on every node
// (here both nodes share one clock: the value comes back to within the clock conversions).
TEST_F(RedisBrokerTest, ADeliveryCarriesWhenThePublishWasTakenOnEveryNode) {
  auto other = second_node(shared_redis().url());
  subscribe_and_wait(0, "timed");
  std::promise<Result<Ok>> sub;
  other->loops.on_loop(1, [&] {
    other->broker->subscribe(1, "timed", [&](Result<Ok> r) { sub.set_value(std::move(r)); });
  });
  ASSERT_TRUE(sub.get_future().get().ok());
  int64_t taken = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count() -
                  20'000'000;  // taken 20 ms ago
  std::promise<void> done;
  on_loop(0, [&] {
    PublishRequest req{"1", {}, ""};
    req.published_ns = taken;
    broker_->publish(0, "timed", std::move(req), [&](Result<PublishResult> r) {
      EXPECT_TRUE(r.ok());
      done.set_value();
    });
  });
  done.get_future().wait();
  auto times = [](RecordingSink& sink) {
    std::lock_guard<std::mutex> lock(sink.mutex);
    return sink.published_ns;
  };
  ASSERT_TRUE(wait_until(
      [&] { return !times(*sinks_[0]).empty() && !times(*other->sinks[1]).empty(); }));
  for (int64_t got : {times(*sinks_[0]).front(), times(*other->sinks[1]).front()}) {
    EXPECT_NE(got, 0) << "known on arrival";
    EXPECT_LT(std::llabs(got - taken), 5'000'000) << "within 5 ms of when it was taken";
  }
  other->broker->stop();
}

// Redis restarted without persistence lost the channel: the subscribed loops hear on_lost (their
// members resubscribe), publishing goes on in a new epoch from offset 1, and the old position is
// not in it.
TEST_F(RedisBrokerTest, ARestartWithoutPersistenceIsALostStreamAndANewEpoch) {
  RedisServer own;
  ASSERT_TRUE(own.start());
  redis_broker()->stop();
  broker_ = make_redis_broker(own.url(), {});
  for (int i = 0; i < kLoops; ++i) {
    broker_->attach(i, sinks_[static_cast<size_t>(i)].get());
  }
  ASSERT_TRUE(wait_until([&] { return redis_broker()->ready(); }));
  subscribe_and_wait(1, "news");
  PublishResult before = publish_and_wait(0, "news", "1");
  publish_and_wait(0, "news", "2");
  ASSERT_TRUE(wait_until([&] { return received(1, "news").size() == 2; }));

  ASSERT_TRUE(own.restart());
  ASSERT_TRUE(wait_until([&] {
    auto e = events(1);
    return std::find(e.begin(), e.end(), "lost news") != e.end();
  })) << "the subscribed loop is told its stream broke";
  ASSERT_TRUE(wait_until([&] { return redis_broker()->ready(); }));
  PublishResult after = publish_and_wait(0, "news", "3");
  EXPECT_NE(after.top.epoch, before.top.epoch) << "the data was lost: a new epoch";
  EXPECT_EQ(after.top.offset, 1u);
  HistoryResult h = history(2, "news");
  EXPECT_EQ(h.top.epoch, after.top.epoch);
  EXPECT_EQ(h.publications.size(), 1u);
  redis_broker()->stop();
}

// An ACL user (AUTH user password) whose channels are limited: the allowed channel works, and a
// subscribe Redis refuses fails with an Error instead of waiting forever.
TEST_F(RedisBrokerTest, AnAclUserAndARefusedSubscribe) {
  RedisServer own;
  ASSERT_TRUE(own.start());
  std::string acl = "redis-cli -p " + std::to_string(own.port()) +
                    " ACL SETUSER herald on '>s3cret' '~*' '&*{allowed}*' +@all >/dev/null";
  ASSERT_EQ(std::system(acl.c_str()), 0);
  redis_broker()->stop();
  broker_ = make_redis_broker("redis://herald:s3cret@127.0.0.1:" + std::to_string(own.port()), {});
  for (int i = 0; i < kLoops; ++i) {
    broker_->attach(i, sinks_[static_cast<size_t>(i)].get());
  }
  ASSERT_TRUE(wait_until([&] { return redis_broker()->ready(); })) << "logged in as herald";
  subscribe_and_wait(0, "allowed");
  publish_and_wait(1, "allowed", "1");
  ASSERT_TRUE(wait_until([&] { return received(0, "allowed") == std::vector<uint64_t>{1}; }));

  std::promise<Result<Ok>> refused;
  on_loop(2, [&] {
    broker_->subscribe(2, "denied", [&](Result<Ok> r) { refused.set_value(std::move(r)); });
  });
  Result<Ok> r = refused.get_future().get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("NOPERM"), std::string::npos) << r.error();
  EXPECT_FALSE(try_publish(0, "denied").ok()) << "the script may not PUBLISH there either";
  publish_and_wait(1, "allowed", "2");
  ASSERT_TRUE(wait_until([&] { return received(0, "allowed").size() == 2; }))
      << "the refusal broke nothing else";
  redis_broker()->stop();
}

// A paused Redis (SIGSTOP): a publish fails within the command timeout, the next ones fail at
// once, and after SIGCONT the broker is back by itself and the subscribers' stream continues.
TEST_F(RedisBrokerTest, APausedRedisFailsFastAndEverythingResumes) {
  RedisServer own;
  ASSERT_TRUE(own.start());
  redis_broker()->stop();
  broker_ = make_redis_broker(own.url(), {});
  for (int i = 0; i < kLoops; ++i) {
    broker_->attach(i, sinks_[static_cast<size_t>(i)].get());
  }
  ASSERT_TRUE(wait_until([&] { return redis_broker()->ready(); }));
  subscribe_and_wait(2, "live");
  publish_and_wait(0, "live", "1");

  own.pause();
  auto t0 = std::chrono::steady_clock::now();
  Result<PublishResult> stalled = try_publish(0, "live");
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(stalled.ok());
  EXPECT_LT(waited, std::chrono::seconds(3)) << "no longer than the command timeout (1 s)";
  t0 = std::chrono::steady_clock::now();
  Result<PublishResult> fast = try_publish(1, "live");
  EXPECT_FALSE(fast.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500))
      << "once the connection is known down, publishes fail at once";
  std::this_thread::sleep_for(std::chrono::seconds(2));
  own.resume();

  ASSERT_TRUE(wait_until([&] { return redis_broker()->ready(); }));
  ASSERT_TRUE(wait_until([&] { return try_publish(0, "live").ok(); }));
  HistoryResult h = history(2, "live");
  // The stalled publish may have run after SIGCONT (its outcome was unknown): 2 or 3 publications.
  EXPECT_GE(h.top.offset, 2u);
  ASSERT_TRUE(wait_until([&] {
    auto e = events(2);
    bool lost = std::find(e.begin(), e.end(), "lost live") != e.end();
    auto r = received(2, "live");
    return lost || (!r.empty() && r.back() == h.top.offset);
  })) << "either every publication arrived live, or the loop was told to recover";
  redis_broker()->stop();
}

// Holds over every node: of two nodes holding a key, the first to hold is told it is the first
// and the last to release that it is the last; the others are told neither.
TEST_F(RedisBrokerTest, AHoldIsDecidedOnceOverTheNodes) {
  auto a = second_node(shared_redis().url());
  auto b = second_node(shared_redis().url());
  auto first = change(*a, true, "k");
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_TRUE(first->decisive);
  EXPECT_FALSE(first->ended_before);
  EXPECT_FALSE(change(*b, true, "k")->decisive) << "a holds it already";
  EXPECT_FALSE(change(*a, false, "k")->decisive) << "b still holds it";
  EXPECT_TRUE(change(*b, false, "k")->decisive) << "nobody holds it now";
  EXPECT_TRUE(change(*a, true, "k")->decisive) << "a key that ended can start again";
  EXPECT_TRUE(change(*a, false, "k")->decisive);
  EXPECT_TRUE(change(*b, true, "other")->decisive) << "keys are independent";
  EXPECT_TRUE(change(*b, false, "other")->decisive);
}

struct RecordingHolds final : HoldSink {
  void on_holds_abandoned(std::vector<std::string> keys) override {
    std::lock_guard lock(mutex);
    for (auto& k : keys) {
      ended.push_back(std::move(k));
    }
  }
  std::vector<std::string> taken() {
    std::lock_guard lock(mutex);
    return ended;
  }
  std::mutex mutex;
  std::vector<std::string> ended;
};

// A node that stops renewing (it died) never releases: after its lease, exactly one of the
// surviving nodes that sweep ends its holds and tells its sink, and a key another node still
// holds is not ended. A node that holds a key whose holders all died unreported is told so
// (ended_before). c and d renew with a long lease (their sweeps, every lease/3, do not come
// within the test), so the moment d takes over a key is not raced by a sweep; e1 and e2 sweep
// every 333 ms once started.
TEST_F(RedisBrokerTest, TheHoldsOfANodeThatDiedEndOnceOnOneSurvivor) {
  auto c = second_node(shared_redis().url(), 30'000);
  auto d = second_node(shared_redis().url(), 30'000);
  auto dying = second_node(shared_redis().url(), 1'000);
  ASSERT_TRUE(change(*dying, true, "lonely")->decisive);
  ASSERT_TRUE(change(*dying, true, "shared")->decisive);
  ASSERT_TRUE(change(*dying, true, "taken-over")->decisive);
  ASSERT_FALSE(change(*c, true, "shared")->decisive);
  dying.reset();  // stops without releasing anything, as a killed node
  // Its leases end at most 1 s after its last renewal; nobody sweeps yet.
  std::this_thread::sleep_for(std::chrono::milliseconds(1'300));
  auto taken = change(*d, true, "taken-over");
  ASSERT_TRUE(taken.ok()) << taken.error();
  EXPECT_TRUE(taken->decisive);
  EXPECT_TRUE(taken->ended_before) << "d reports the dead holder's end before its own start";

  RecordingHolds seen1;
  RecordingHolds seen2;
  auto e1 = second_node(shared_redis().url(), 1'000, &seen1);
  auto e2 = second_node(shared_redis().url(), 1'000, &seen2);
  auto reported = [&] {
    std::vector<std::string> all = seen1.taken();
    for (auto& k : seen2.taken()) {
      all.push_back(k);
    }
    return all;
  };
  ASSERT_TRUE(wait_until([&] { return !reported().empty(); }, std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // two more sweeps of each
  EXPECT_EQ(reported(), std::vector<std::string>{"lonely"})
      << "ended once, and only what nobody holds";
  EXPECT_FALSE(change(*d, true, "shared")->decisive) << "c still holds it, renewed";
  EXPECT_FALSE(change(*c, false, "shared")->decisive);
  EXPECT_TRUE(change(*d, false, "shared")->decisive);
  EXPECT_TRUE(change(*d, false, "taken-over")->decisive);
}

}  // namespace
}  // namespace herald::broker
