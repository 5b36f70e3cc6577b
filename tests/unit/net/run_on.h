#pragma once
// run_on: runs fn on an event loop's thread and waits until it has run, for tests that drive a
// loop from the test thread (everything of a loop must happen on its own thread).

#include <future>

#include "net/event_loop.h"

namespace herald::net::testing {

template <typename Fn>
void run_on(EventLoop& loop, Fn fn) {
  std::promise<void> done;
  loop.post([&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace herald::net::testing
