#pragma once
// A log-linear latency histogram (HDR-style): 128 sub-buckets per power of two, so every
// recorded value is kept to within 0.8%, in fixed memory (60 KiB) whatever the sample count.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace herald::bench {

// Owned by one worker thread while recording; merged by the main thread after the workers stop.
class LatencyHistogram {
 public:
  LatencyHistogram();

  void record(uint64_t value_ns) {
    ++counts_[index_of(value_ns)];
    ++count_;
    sum_ += value_ns;
    if (value_ns > max_) {
      max_ = value_ns;
    }
    if (value_ns < min_) {
      min_ = value_ns;
    }
  }
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t max() const { return count_ == 0 ? 0 : max_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  // The value at quantile q (0..1): the middle of the bucket holding the ceil(q*count)-th value,
  // clamped to [min, max].
  uint64_t quantile(double q) const;

  static constexpr int kSubBits = 7;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;

  static size_t index_of(uint64_t v) {
    if (v < kSub) {
      return static_cast<size_t>(v);
    }
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - kSubBits;
    return static_cast<size_t>(kSub + static_cast<uint64_t>(shift) * kSub + ((v >> shift) - kSub));
  }
  static uint64_t lower_bound_of(size_t index);
  static uint64_t width_of(size_t index);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

}  // namespace herald::bench
