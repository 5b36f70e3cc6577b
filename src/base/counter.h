#pragma once
// Counter: a metric value with one writer (an event loop, the store's writer thread) and any
// number of readers (the /metrics scrape). The writer adds with a relaxed load and store, not a
// read-modify-write: on x86 that is two plain moves, no locked instruction and no cache line
// shared with another loop, because every loop has its own counters and the scrape sums them.
// Thread: one writer; any thread reads.

#include <atomic>
#include <cstdint>

namespace herald {

class Counter {
 public:
  void add(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

}  // namespace herald
