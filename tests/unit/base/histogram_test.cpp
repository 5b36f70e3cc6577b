#include "base/histogram.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace herald {
namespace {

TEST(Histogram, BucketIsTheFirstBoundAtOrAboveTheValue) {
  // Prometheus' `le`: a value equal to a bound belongs to that bound's bucket.
  EXPECT_EQ(histogram_bucket(0), 0u);
  EXPECT_EQ(histogram_bucket(10'000), 0u);
  EXPECT_EQ(histogram_bucket(10'001), 1u);
  EXPECT_EQ(histogram_bucket(25'000), 1u);
  EXPECT_EQ(histogram_bucket(999'999), 6u);      // <= 1 ms
  EXPECT_EQ(histogram_bucket(1'000'000), 6u);
  EXPECT_EQ(histogram_bucket(1'000'001), 7u);    // <= 2.5 ms
  EXPECT_EQ(histogram_bucket(10'000'000'000), kHistogramBuckets - 2);  // 10 s
  EXPECT_EQ(histogram_bucket(10'000'000'001), kHistogramBuckets - 1);  // +Inf
  EXPECT_EQ(histogram_bucket(UINT64_MAX), kHistogramBuckets - 1);
}

TEST(Histogram, BoundsAscend) {
  for (size_t i = 1; i < kHistogramBoundsNs.size(); ++i) {
    EXPECT_LT(kHistogramBoundsNs[i - 1], kHistogramBoundsNs[i]);
  }
}

TEST(Histogram, ObserveCountsAndSums) {
  Histogram h;
  h.observe_ns(5'000);          // bucket 0
  h.observe_ns(300'000, 4);     // bucket 5 (<= 500 us), weight 4
  h.observe_ns(20'000'000'000); // +Inf
  EXPECT_EQ(h.bucket(0), 1u);
  EXPECT_EQ(h.bucket(5), 4u);
  EXPECT_EQ(h.bucket(kHistogramBuckets - 1), 1u);
  EXPECT_EQ(h.sum_ns(), 5'000u + 4 * 300'000u + 20'000'000'000u);
}

TEST(Histogram, SnapshotMergesWritersBucketByBucket) {
  Histogram a;
  Histogram b;
  a.observe_ns(40'000);
  a.observe_ns(40'000);
  b.observe_ns(40'000);
  b.observe_ns(2'000'000);
  HistogramSnapshot s;
  s.add(a);
  s.add(b);
  EXPECT_EQ(s.buckets[2], 3u);  // <= 50 us
  EXPECT_EQ(s.buckets[7], 1u);  // <= 2.5 ms
  EXPECT_EQ(s.count(), 4u);
  EXPECT_EQ(s.sum_ns, 3 * 40'000u + 2'000'000u);
}

// One writer per histogram (as each loop has its own) and a reader summing meanwhile: the reader
// never sees a count go down, and the end total is exact.
TEST(Histogram, ReaderSeesMonotonicCountsWhileWritersObserve) {
  constexpr int kWriters = 2;
  constexpr uint64_t kEach = 200'000;
  Histogram hs[kWriters];
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&hs, w] {
      for (uint64_t i = 0; i < kEach; ++i) {
        hs[w].observe_ns((i % 7) * 100'000);
      }
    });
  }
  std::thread reader([&] {
    uint64_t last = 0;
    while (!done.load()) {
      HistogramSnapshot s;
      for (const Histogram& h : hs) {
        s.add(h);
      }
      EXPECT_GE(s.count(), last);
      last = s.count();
    }
  });
  for (auto& t : writers) {
    t.join();
  }
  done.store(true);
  reader.join();
  HistogramSnapshot s;
  for (const Histogram& h : hs) {
    s.add(h);
  }
  EXPECT_EQ(s.count(), kWriters * kEach);
}

}  // namespace
}  // namespace herald
