#include "net/timer_wheel.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

namespace herald::net {
namespace {

class TestTimer : public Timer {
 public:
  std::function<void()> fn;
  int fired = 0;

 protected:
  void on_timer() override {
    ++fired;
    if (fn) {
      fn();
    }
  }
};

TEST(TimerWheel, FiresAtOrAfterDeadlineNeverBefore) {
  TimerWheel wheel(100, 16);
  TestTimer t;
  wheel.arm(t, 1000, 250);  // deadline 1250 -> rounded up to tick 13 (1300)
  wheel.advance(1200);
  EXPECT_EQ(t.fired, 0);
  wheel.advance(1299);
  EXPECT_EQ(t.fired, 0);
  wheel.advance(1300);
  EXPECT_EQ(t.fired, 1);
  EXPECT_FALSE(t.armed());
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, DeadlineBeyondOneLapWaitsForItsLap) {
  TimerWheel wheel(10, 8);  // one lap = 80 ms
  TestTimer t;
  wheel.arm(t, 0, 200);
  for (uint64_t now = 0; now < 200; now += 10) {
    wheel.advance(now);
    ASSERT_EQ(t.fired, 0) << "fired early at " << now;
  }
  wheel.advance(200);
  EXPECT_EQ(t.fired, 1);
}

TEST(TimerWheel, LargeJumpFiresEverythingDue) {
  TimerWheel wheel(10, 8);
  std::vector<TestTimer> timers(20);
  for (size_t i = 0; i < timers.size(); ++i) {
    wheel.arm(timers[i], 0, 10 * i);
  }
  wheel.advance(10'000);
  for (const auto& t : timers) {
    EXPECT_EQ(t.fired, 1);
  }
}

TEST(TimerWheel, RearmAndCancel) {
  TimerWheel wheel(10, 64);
  TestTimer a;
  TestTimer b;
  wheel.arm(a, 0, 50);
  wheel.arm(b, 0, 50);
  wheel.arm(a, 0, 500);  // pushed forward: must not fire at 50
  b.cancel();
  wheel.advance(100);
  EXPECT_EQ(a.fired, 0);
  EXPECT_EQ(b.fired, 0);
  EXPECT_EQ(wheel.size(), 1u);
  wheel.advance(500);
  EXPECT_EQ(a.fired, 1);
}

TEST(TimerWheel, CallbackMayCancelANeighbourAndRearmItself) {
  TimerWheel wheel(10, 8);
  TestTimer a;
  TestTimer b;
  TestTimer c;
  wheel.arm(a, 0, 20);
  wheel.arm(b, 0, 20);
  wheel.arm(c, 0, 20);
  int rearmed = 0;
  a.fn = [&] {
    b.cancel();
    c.cancel();
    if (rearmed++ == 0) {
      wheel.arm(a, 20, 30);
    }
  };
  b.fn = [&] { a.cancel(); c.cancel(); };
  c.fn = [&] { a.cancel(); b.cancel(); };
  wheel.advance(20);
  EXPECT_EQ(a.fired + b.fired + c.fired, 1) << "exactly one survives the mutual cancels";
  wheel.advance(1000);
  EXPECT_LE(a.fired, 2);
}

TEST(TimerWheel, DestroyedTimerUnlinksItself) {
  TimerWheel wheel(10, 8);
  {
    TestTimer t;
    wheel.arm(t, 0, 20);
    EXPECT_EQ(wheel.size(), 1u);
  }
  EXPECT_EQ(wheel.size(), 0u);
  wheel.advance(100);  // must not touch freed memory (ASan checks)
}

TEST(TimerWheel, NextTimeout) {
  TimerWheel wheel(100, 8);
  EXPECT_EQ(wheel.next_timeout_ms(1000), -1);
  TestTimer t;
  wheel.arm(t, 1000, 5000);
  int next = wheel.next_timeout_ms(1030);
  EXPECT_GT(next, 0);
  EXPECT_LE(next, 100);
}

}  // namespace
}  // namespace herald::net
