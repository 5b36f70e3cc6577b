#include "net/timer_wheel.h"

#include <cassert>

namespace herald::net {

void Timer::cancel() {
  if (wheel_ != nullptr) {
    wheel_->unlink(*this);
  }
}

TimerWheel::TimerWheel(uint32_t tick_ms, uint32_t slots) : tick_ms_(tick_ms), slots_(slots) {
  assert(tick_ms > 0 && slots > 0);
}

TimerWheel::~TimerWheel() {
  for (Timer*& head : slots_) {
    while (head != nullptr) {
      unlink(*head);
    }
  }
}

void TimerWheel::link(Timer& t) {
  Timer*& head = head_of(t);
  t.wheel_ = this;
  t.prev_ = nullptr;
  t.next_ = head;
  if (head != nullptr) {
    head->prev_ = &t;
  }
  head = &t;
  ++count_;
}

Timer*& TimerWheel::head_of(const Timer& t) {
  return t.deadline_tick_ == kFiring ? firing_ : slots_[t.deadline_tick_ % slots_.size()];
}

void TimerWheel::unlink(Timer& t) {
  assert(t.wheel_ == this);
  if (t.prev_ != nullptr) {
    t.prev_->next_ = t.next_;
  } else {
    head_of(t) = t.next_;
  }
  if (t.next_ != nullptr) {
    t.next_->prev_ = t.prev_;
  }
  t.wheel_ = nullptr;
  t.prev_ = t.next_ = nullptr;
  --count_;
}

void TimerWheel::arm(Timer& t, uint64_t now_ms, uint64_t delay_ms) {
  if (t.wheel_ != nullptr) {
    t.wheel_->unlink(t);
  }
  if (!started_) {
    current_tick_ = now_ms / tick_ms_;
    started_ = true;
  }
  // Round up so a timer never fires early; never schedule into a tick already processed.
  uint64_t tick = (now_ms + delay_ms + tick_ms_ - 1) / tick_ms_;
  t.deadline_tick_ = tick < current_tick_ ? current_tick_ : tick;
  link(t);
}

void TimerWheel::advance(uint64_t now_ms) {
  if (!started_) {
    current_tick_ = now_ms / tick_ms_;
    started_ = true;
    return;
  }
  uint64_t target = now_ms / tick_ms_;
  // Visiting more than one lap of slots is pointless: a full lap sees every slot once.
  uint64_t first = current_tick_;
  if (target >= first + slots_.size()) {
    first = target + 1 - slots_.size();
  }
  for (uint64_t tick = first; tick <= target && count_ > 0; ++tick) {
    // Move the expired timers of this slot to the firing list first: a callback may then cancel
    // or re-arm any timer (itself, a neighbour) without invalidating the walk.
    Timer* t = slots_[tick % slots_.size()];
    while (t != nullptr) {
      Timer* next = t->next_;
      if (t->deadline_tick_ <= target) {
        unlink(*t);
        t->deadline_tick_ = kFiring;
        link(*t);
      }
      t = next;
    }
    while (firing_ != nullptr) {
      Timer* due = firing_;
      unlink(*due);
      due->on_timer();
    }
  }
  current_tick_ = target + 1;
}

int TimerWheel::next_timeout_ms(uint64_t now_ms) const {
  if (count_ == 0) {
    return -1;
  }
  // Waking once per tick while timers exist is cheap (one epoll_wait return) and keeps this O(1).
  uint64_t next_tick_ms = (now_ms / tick_ms_ + 1) * tick_ms_;
  return static_cast<int>(next_tick_ms - now_ms);
}

}  // namespace herald::net
