#pragma once
// TimerWheel: a hashed timing wheel of intrusive timers with a fixed tick, one per event loop.
// Arming, re-arming and cancelling are O(1) pointer updates, so a connection that pushes its idle
// deadline forward on every message costs no syscall; the loop's epoll_wait timeout is the only
// clock the wheel needs. Deadlines are rounded up to the next tick, so a timer fires up to one tick
// late, never early. Thread: owning loop only.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace herald::net {

class TimerWheel;

// Embedded in an object that needs a timeout. The owner must outlive the armed timer or cancel it
// (the destructor cancels).
class Timer {
 public:
  virtual ~Timer() { cancel(); }
  Timer() = default;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool armed() const { return wheel_ != nullptr; }
  void cancel();

 protected:
  // Called by TimerWheel::advance() on the owning loop once the deadline has passed; the timer is
  // already disarmed, so the callback may re-arm it or destroy its owner's state.
  virtual void on_timer() = 0;

 private:
  friend class TimerWheel;
  TimerWheel* wheel_ = nullptr;
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
  uint64_t deadline_tick_ = 0;
};

class TimerWheel {
 public:
  // tick_ms: resolution; slots: how many ticks the wheel spans before a timer needs a second lap.
  explicit TimerWheel(uint32_t tick_ms = 100, uint32_t slots = 512);
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Arms (or re-arms) t to fire once now_ms + delay_ms has passed.
  void arm(Timer& t, uint64_t now_ms, uint64_t delay_ms);
  // Fires every timer whose deadline is at or before now_ms.
  void advance(uint64_t now_ms);
  // Milliseconds until the next tick that holds a timer, or -1 if none (an epoll_wait timeout).
  int next_timeout_ms(uint64_t now_ms) const;
  size_t size() const { return count_; }

 private:
  friend class Timer;
  static constexpr uint64_t kFiring = UINT64_MAX;  // deadline_tick_ of a timer on firing_

  Timer*& head_of(const Timer& t);
  void unlink(Timer& t);
  void link(Timer& t);

  uint32_t tick_ms_;
  std::vector<Timer*> slots_;  // heads of intrusive lists
  Timer* firing_ = nullptr;    // expired timers whose callbacks are being run
  uint64_t current_tick_ = 0;  // every tick below this has been processed
  bool started_ = false;
  size_t count_ = 0;
};

}  // namespace herald::net
