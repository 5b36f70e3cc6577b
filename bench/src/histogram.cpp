#include "histogram.h"

#include <algorithm>
#include <cmath>

namespace herald::bench {

LatencyHistogram::LatencyHistogram() : counts_(index_of(UINT64_MAX) + 1, 0) {}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) {
    counts_[i] += other.counts_[i];
  }
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

uint64_t LatencyHistogram::lower_bound_of(size_t index) {
  if (index < kSub) {
    return index;
  }
  uint64_t shift = (index - kSub) / kSub;
  uint64_t mantissa = kSub + (index - kSub) % kSub;
  return mantissa << shift;
}

uint64_t LatencyHistogram::width_of(size_t index) {
  if (index < kSub) {
    return 1;
  }
  return uint64_t{1} << ((index - kSub) / kSub);
}

uint64_t LatencyHistogram::quantile(double q) const {
  if (count_ == 0) {
    return 0;
  }
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      uint64_t mid = lower_bound_of(i) + width_of(i) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace herald::bench
