#pragma once
// Histogram: a latency distribution with one writer (an event loop, the store's writer thread),
// merged with the other writers' when /metrics is scraped. Fixed bucket bounds, the same for every
// Herald histogram (10 us to 10 s, 1-2.5-5 steps), so per-loop histograms add bucket by bucket
// and PromQL can aggregate them across loops and nodes. Observing is a few compares and two
// relaxed stores on counters no other thread writes: no lock, no contended cache line.
//
// A reader may see a bucket incremented before the sum (or the reverse): HistogramSnapshot takes
// the count from the buckets, so a scrape is always self-consistent in count, and the sum is at
// most one observation behind.
// Thread: one writer (observe); any thread reads (snapshot).

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/counter.h"

namespace herald {

// Upper bounds of the buckets in nanoseconds; a last bucket (+Inf) takes the rest.
inline constexpr std::array<uint64_t, 19> kHistogramBoundsNs = {
    10'000,        25'000,        50'000,         100'000,       250'000,
    500'000,       1'000'000,     2'500'000,      5'000'000,     10'000'000,
    25'000'000,    50'000'000,    100'000'000,    250'000'000,   500'000'000,
    1'000'000'000, 2'500'000'000, 5'000'000'000,  10'000'000'000};
inline constexpr size_t kHistogramBuckets = kHistogramBoundsNs.size() + 1;

// The bucket that `ns` falls in: the first whose bound is >= ns (Prometheus' `le`).
constexpr size_t histogram_bucket(uint64_t ns) {
  size_t i = 0;
  while (i < kHistogramBoundsNs.size() && ns > kHistogramBoundsNs[i]) {
    ++i;
  }
  return i;
}

class Histogram {
 public:
  // Records `n` observations of `ns` nanoseconds (n > 1: one latency shared by n deliveries).
  void observe_ns(uint64_t ns, uint64_t n = 1) {
    buckets_[histogram_bucket(ns)].add(n);
    sum_ns_.add(ns * n);
  }
  uint64_t bucket(size_t i) const { return buckets_[i].get(); }
  uint64_t sum_ns() const { return sum_ns_.get(); }

 private:
  std::array<Counter, kHistogramBuckets> buckets_;  // not cumulative
  Counter sum_ns_;
};

// Several writers' histograms added together, for one exposition.
struct HistogramSnapshot {
  std::array<uint64_t, kHistogramBuckets> buckets{};  // not cumulative
  uint64_t sum_ns = 0;

  void add(const Histogram& h) {
    for (size_t i = 0; i < kHistogramBuckets; ++i) {
      buckets[i] += h.bucket(i);
    }
    sum_ns += h.sum_ns();
  }
  uint64_t count() const {
    uint64_t n = 0;
    for (uint64_t b : buckets) {
      n += b;
    }
    return n;
  }
};

}  // namespace herald
