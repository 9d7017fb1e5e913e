#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace its::load {

// Latency histogram in the manner of HdrHistogram: log-linear buckets (every
// power of two split into 128 linear sub-buckets), so any recorded value is
// reproduced within 1/128 (< 0.8 %) over the whole range, in fixed memory.
// Values are microseconds, 1 µs .. about 2^40 µs (12 days).
// (Debian 12 packages no C/C++ HDR histogram; this is the small part we need.)
class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kMaxExp = 40;

  Histogram() : counts_(static_cast<size_t>((kMaxExp + 1) * kSub), 0) {}

  void Record(int64_t us) {
    if (us < 0) us = 0;
    ++counts_[Index(static_cast<uint64_t>(us))];
    ++total_;
    max_ = std::max(max_, us);
    min_ = total_ == 1 ? us : std::min(min_, us);
    sum_ += static_cast<double>(us);
  }

  void Merge(const Histogram& o) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    if (o.total_ > 0) {
      min_ = total_ == 0 ? o.min_ : std::min(min_, o.min_);
      max_ = std::max(max_, o.max_);
    }
    total_ += o.total_;
    sum_ += o.sum_;
  }

  // Value at percentile p (0..100): the upper edge of the bucket that holds it.
  int64_t Percentile(double p) const {
    if (total_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(
        std::ceil(p / 100.0 * static_cast<double>(total_)));
    rank = std::clamp<uint64_t>(rank, 1, total_);
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min<int64_t>(UpperEdge(i), max_);
    }
    return max_;
  }

  // The non-empty buckets as (index, count), in index order: what a worker
  // sends its coordinator, and what a finished second of the timeline keeps.
  // Adding them back (with the extremes and sum) gives the same histogram.
  using Buckets = std::vector<std::pair<uint32_t, uint64_t>>;
  Buckets NonEmpty() const {
    Buckets out;
    for (size_t i = 0; i < counts_.size(); ++i) {
      if (counts_[i] != 0)
        out.emplace_back(static_cast<uint32_t>(i), counts_[i]);
    }
    return out;
  }
  // Adds buckets from NonEmpty() of a histogram with these extremes and
  // sum. Indices out of range are ignored (a corrupt message).
  void Add(const Buckets& buckets, int64_t min, int64_t max, double sum) {
    uint64_t n = 0;
    for (const auto& [i, c] : buckets) {
      if (i >= counts_.size()) continue;
      counts_[i] += c;
      n += c;
    }
    if (n == 0) return;
    min_ = total_ == 0 ? min : std::min(min_, min);
    max_ = std::max(max_, max);
    total_ += n;
    sum_ += sum;
  }
  void Clear() {
    std::fill(counts_.begin(), counts_.end(), 0);
    total_ = 0;
    max_ = min_ = 0;
    sum_ = 0;
  }
  double sum() const { return sum_; }

  uint64_t count() const { return total_; }
  int64_t max() const { return max_; }
  int64_t min() const { return min_; }
  double mean() const {
    return total_ ? sum_ / static_cast<double>(total_) : 0;
  }

 private:
  static size_t Index(uint64_t v) {
    if (v < kSub) return static_cast<size_t>(v);  // exact below 128 µs
    int exp = 63 - __builtin_clzll(v);            // v in [2^exp, 2^(exp+1))
    if (exp > kMaxExp) return static_cast<size_t>((kMaxExp + 1) * kSub - 1);
    int shift = exp - kSubBits;
    uint64_t sub = (v >> shift) - kSub;  // 0..127
    return static_cast<size_t>((shift + 1) * kSub + static_cast<int>(sub));
  }
  static int64_t UpperEdge(size_t i) {
    if (i < static_cast<size_t>(kSub)) return static_cast<int64_t>(i);
    int shift = static_cast<int>(i / kSub) - 1;
    uint64_t sub = i % kSub + kSub;
    return static_cast<int64_t>(((sub + 1) << shift) - 1);
  }

  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  int64_t max_ = 0;
  int64_t min_ = 0;
  double sum_ = 0;
};

}  // namespace its::load
