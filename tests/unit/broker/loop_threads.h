#pragma once
// LoopThreads: N real event loops, each run by a thread of its own, for the tests of code that
// lives on loops (the broker, the hubs). Thread: the test's main thread.

#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "net/event_loop.h"
#include "../net/run_on.h"

namespace herald::broker::testing {

class LoopThreads {
 public:
  explicit LoopThreads(int n) {
    for (int i = 0; i < n; ++i) {
      loops_.push_back(std::make_unique<net::EventLoop>(i));
      ok_ = loops_.back()->init().ok() && ok_;
    }
  }
  ~LoopThreads() { stop(); }
  LoopThreads(const LoopThreads&) = delete;
  LoopThreads& operator=(const LoopThreads&) = delete;

  bool ok() const { return ok_; }  // every loop initialized
  size_t size() const { return loops_.size(); }
  net::EventLoop* operator[](size_t i) const { return loops_[i].get(); }
  std::vector<net::EventLoop*> pointers() const {
    std::vector<net::EventLoop*> out;
    for (const auto& l : loops_) {
      out.push_back(l.get());
    }
    return out;
  }

  void start() {
    for (auto& l : loops_) {
      threads_.emplace_back([l = l.get()] { l->run(); });
    }
  }
  // Stops every loop and joins its thread; a second call does nothing.
  void stop() {
    for (auto& l : loops_) {
      l->stop();
    }
    for (auto& t : threads_) {
      t.join();
    }
    threads_.clear();
  }

  // Runs fn on loop i and waits until it has run.
  template <typename Fn>
  void on_loop(int i, Fn fn) {
    net::testing::run_on(*loops_[static_cast<size_t>(i)], fn);
  }

 private:
  std::vector<std::unique_ptr<net::EventLoop>> loops_;
  std::vector<std::thread> threads_;
  bool ok_ = true;
};

}  // namespace herald::broker::testing
