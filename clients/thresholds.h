#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/load_report.h"

namespace its::load {

// A pass/fail criterion of a run, as testers write it:
//   p99<50ms   p99.9<=0.2s   mean<10ms   max<1s     latency (unit: us, ms, s)
//   errors<1%  errors==0     errors<=10             error rate or count
//   failed<1%  failed<5                             failed journeys
//   rps>100    requests>=1000
// scoped to a journey or a step (of one journey, or of every journey):
//   journey:display-logoff:p95<40ms   step:enter-document:p95<20ms
//   step:display-logoff/refresh:errors==0
struct Threshold {
  enum Metric {
    kPercentile,
    kMin,
    kMax,
    kMean,
    kErrors,
    kFailed,
    kRps,
    kRequests
  };
  enum Op { kLt, kLe, kGt, kGe, kEq };

  std::string text;     // as written
  std::string journey;  // scope; empty: every journey
  std::string step;     // scope; empty: every step
  Metric metric = kPercentile;
  double percentile = 0;  // kPercentile
  bool percent = false;   // kErrors, kFailed: a share, not a count
  Op op = kLt;
  double limit = 0;  // latency in ms, shares in %, else plain
  // Stop the run as soon as it fails (checked every second), but not in the
  // first `abort_after_s` seconds.
  bool abort = false;
  double abort_after_s = 0;
};

absl::StatusOr<Threshold> ParseThreshold(std::string_view text);

struct ThresholdResult {
  bool ok = false;
  bool no_data = false;  // nothing to measure (no request, no journey)
  double value = 0;      // in the threshold's unit
  std::string unit;      // "ms", "%", "" (count), "/s"
};

// Evaluates `t` against the figures so far. A scope that does not exist, or
// a latency or share of nothing, fails (a run that measured nothing passes
// no threshold).
ThresholdResult Evaluate(const Threshold& t, const LoadStats& stats,
                         double elapsed_s);

// "p99<50ms (12.3 ms)".
std::string Describe(const Threshold& t, const ThresholdResult& r);

}  // namespace its::load
