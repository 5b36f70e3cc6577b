#pragma once
// The fixture of the broker tests: real event loops on their own threads, a broker over them
// (memory, durable memory, or Redis over a real redis-server), and a recording sink per loop.
// The contract tests (broker_contract_test.cpp) run over every kind; memory_broker_test.cpp and
// redis_broker_test.cpp test what is particular to each. Thread: the test's main thread.

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
#include "broker/memory_broker.h"
#include "broker/redis_broker.h"
#include "loop_threads.h"
#include "redis_server.h"
#include "store/history_store.h"

namespace herald::broker {

using testing::RedisServer;

// Records what one loop's sink received. Written on that loop, read by the test after a barrier.
class RecordingSink : public BrokerSink {
 public:
  void on_publications(std::string_view channel, const std::string& epoch,
                       const std::shared_ptr<const PublicationBatch>& batch) override {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_FALSE(batch->empty());
    for (const auto& pub : *batch) {
      received[std::string(channel)].push_back(pub->offset);
      published_ns.push_back(pub->published_ns);
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
  void on_lost(std::string_view channel) override {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back("lost " + std::string(channel));
  }
  std::vector<std::string> events;
  std::mutex mutex;
  std::map<std::string, std::vector<uint64_t>> received;
  std::vector<int64_t> published_ns;  // of every publication received, in arrival order
  std::vector<size_t> batches;  // sizes of the batches, in arrival order
  std::set<std::string> epochs;
};

enum class Kind { kMemory, kDurable, kRedis };

inline std::string kind_name(Kind k) {
  return k == Kind::kMemory ? "Memory" : k == Kind::kDurable ? "Durable" : "Redis";
}

// One redis-server for the whole test binary, started on first use (each test has its own key
// prefix, so tests never see each other's channels). Stopped by its PID at exit.
inline RedisServer& shared_redis() {
  static RedisServer server;
  static bool started = server.start();
  EXPECT_TRUE(started) << "redis-server did not start";
  return server;
}

// N real event loops on their own threads, and a broker over them: the memory broker (with a
// store in a temporary directory for kDurable) or the Redis broker over a real redis-server.
class BrokerTest : public ::testing::Test {
 protected:
  static constexpr int kLoops = 3;

  virtual Kind kind() const { return Kind::kMemory; }
  bool redis() const { return kind() == Kind::kRedis; }

  void SetUp() override {
    ASSERT_TRUE(loops_.ok());
    HistoryPolicy policy = [this](std::string_view channel) {
      std::lock_guard<std::mutex> lock(policy_mutex_);
      auto it = policies_.find(channel);
      return it == policies_.end() ? HistoryOptions{} : it->second;
    };
    if (redis()) {
      if (!RedisServer::available()) {
        GTEST_SKIP() << "redis-server is not installed (scripts/deps --test installs it)";
      }
      broker_ = make_redis_broker(shared_redis().url(), policy);
      ASSERT_TRUE(broker_);
    } else {
      if (kind() == Kind::kDurable) {
        store_ = store::testing::open_or_fail(store::testing::options_in(dir_));
        ASSERT_TRUE(store_);
      }
      broker_ = std::make_unique<MemoryBroker>(loops_.pointers(), store_.get(), policy);
    }
    for (int i = 0; i < kLoops; ++i) {
      sinks_.push_back(std::make_unique<RecordingSink>());
      broker_->attach(i, sinks_.back().get());
    }
    loops_.start();
    if (redis()) {
      ASSERT_TRUE(wait_until([&] { return redis_broker()->ready(); })) << "connected to Redis";
    }
  }

  // A Redis broker over the fixture's loops, with a key prefix of this test's own.
  std::unique_ptr<RedisBroker> make_redis_broker(const std::string& url, HistoryPolicy policy) {
    RedisBrokerOptions options;
    options.shards = {parse_redis_url(url).value()};
    options.prefix = prefix();
    auto broker = std::make_unique<RedisBroker>(loops_.pointers(), options, std::move(policy));
    if (!broker->start().ok()) {
      return nullptr;
    }
    return broker;
  }

  // This test's key prefix: its name, the process and a run counter, so that repeated runs
  // (--gtest_repeat) and other test processes on the same Redis never meet.
  std::string prefix() {
    if (prefix_.empty()) {
      static std::atomic<int> runs{0};
      const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
      prefix_ = std::string("t-") + info->test_suite_name() + "-" + info->name() + "-" +
                std::to_string(getpid()) + "-" + std::to_string(++runs);
    }
    return prefix_;
  }

  void TearDown() override {
    if (store_) {
      // Every commit answered before the loops stop, so none reaches a stopped loop.
      ASSERT_TRUE(store_->flush().ok());
      settle();
    }
    if (redis() && broker_) {
      redis_broker()->stop();  // no more posts to the loops
    }
    loops_.stop();
  }

  MemoryBroker* memory() { return static_cast<MemoryBroker*>(broker_.get()); }
  RedisBroker* redis_broker() { return static_cast<RedisBroker*>(broker_.get()); }

  void set_policy(const std::string& channel, HistoryOptions options) {
    std::lock_guard<std::mutex> lock(policy_mutex_);
    policies_[channel] = options;
  }

  // Polls pred (every millisecond) until it holds or 10 s pass.
  template <typename Pred>
  static bool wait_until(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  // The offsets loop i's sink received for channel (a copy, under the sink's lock).
  std::vector<uint64_t> received(int i, const std::string& channel) {
    std::lock_guard<std::mutex> lock(sinks_[static_cast<size_t>(i)]->mutex);
    return sinks_[static_cast<size_t>(i)]->received[channel];
  }
  std::vector<std::string> events(int i) {
    std::lock_guard<std::mutex> lock(sinks_[static_cast<size_t>(i)]->mutex);
    return sinks_[static_cast<size_t>(i)]->events;
  }

  template <typename Fn>
  void on_loop(int i, Fn fn) {
    loops_.on_loop(i, fn);
  }

  PublishResult publish_and_wait(int from, const std::string& channel, const std::string& data,
                                 const std::string& key = "") {
    std::promise<Result<PublishResult>> p;
    on_loop(from, [&] {
      broker_->publish(from, channel, PublishRequest{data, {}, key}, [&](Result<PublishResult> r) {
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
    std::promise<Result<Ok>> p;
    on_loop(from, [&] {
      broker_->subscribe(from, channel, [&](Result<Ok> r) { p.set_value(std::move(r)); });
    });
    Result<Ok> r = p.get_future().get();
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
  }

  // Waits until every loop has run everything queued before this call (twice: a task may post
  // one more hop to another loop). Over Redis, what is in flight in Redis and on the network is
  // given 200 ms first: this is for checks that nothing *more* arrives.
  void settle() {
    if (redis()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < kLoops; ++i) {
        on_loop(i, [] {});
      }
    }
  }

  testing::LoopThreads loops_{kLoops};
  std::string prefix_;
  std::mutex policy_mutex_;  // the Redis broker asks for policies on its own thread
  std::map<std::string, HistoryOptions, std::less<>> policies_;  // set before first use
  store::testing::TempDir dir_;
  std::unique_ptr<store::HistoryStore> store_;  // declared before the broker, which uses it
  std::unique_ptr<Broker> broker_;
  std::vector<std::unique_ptr<RecordingSink>> sinks_;
};

}  // namespace herald::broker
