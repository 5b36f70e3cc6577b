#include "net/event_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace herald::net {
namespace {

TEST(EventLoop, PostFromOtherThreadsRunsEveryTaskInOrderPerThread) {
  EventLoop loop(0);
  ASSERT_TRUE(loop.init().ok());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::vector<int>> seen(kThreads);
  std::atomic<int> done{0};
  std::thread runner([&] { loop.run(); });
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        loop.post([&, t, i] {
          seen[t].push_back(i);  // runs on the loop thread only
          if (done.fetch_add(1) + 1 == kThreads * kPerThread) {
            loop.stop();
          }
        });
      }
    });
  }
  for (auto& p : posters) {
    p.join();
  }
  runner.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[t].size(), static_cast<size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) {
      ASSERT_EQ(seen[t][i], i) << "posts from one thread must keep their order";
    }
  }
}

class CountingTimer : public Timer {
 public:
  explicit CountingTimer(EventLoop& loop) : loop_(loop) {}
  int fired = 0;

 protected:
  void on_timer() override {
    ++fired;
    loop_.stop();
  }

 private:
  EventLoop& loop_;
};

TEST(EventLoop, TimerWakesAnIdleLoop) {
  EventLoop loop(0);
  ASSERT_TRUE(loop.init().ok());
  CountingTimer t(loop);
  loop.timers().arm(t, loop.now_ms(), 50);
  loop.run();  // returns only because the timer fired and stopped it
  EXPECT_EQ(t.fired, 1);
}

TEST(EventLoop, DeferredTasksRunAfterTheIteration) {
  EventLoop loop(0);
  ASSERT_TRUE(loop.init().ok());
  std::vector<int> order;
  loop.post([&] {
    loop.defer([&] {
      order.push_back(2);
      loop.stop();
    });
    order.push_back(1);
  });
  loop.run();
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0], 1);
  EXPECT_EQ(order[1], 2);
}

TEST(EventLoop, RunAfterRunsOnceAfterItsDelayAndDropsWhatIsLeftAtDestruction) {
  auto loop = std::make_unique<EventLoop>(0);
  ASSERT_TRUE(loop->init().ok());
  std::vector<int> order;
  auto started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration waited{};
  bool dropped_ran = false;
  loop->post([&] {
    loop->run_after(250, [&] {
      order.push_back(250);
      waited = std::chrono::steady_clock::now() - started;
      loop->stop();
    });
    loop->run_after(0, [&] { order.push_back(0); });
    loop->run_after(60'000, [&] { dropped_ran = true; });  // still waiting when the loop goes
  });
  std::thread runner([&] { loop->run(); });
  runner.join();
  EXPECT_EQ(order, (std::vector<int>{0, 250}));
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  loop.reset();  // the pending task is dropped, not run, and nothing leaks (ASan)
  EXPECT_FALSE(dropped_ran);
}

}  // namespace
}  // namespace herald::net
