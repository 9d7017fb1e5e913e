#pragma once

// The metrics of the R/3 stub (docs/architecture.md §7, README "Metrics").
// Updated on its loop thread, read by its metrics endpoint's thread:
// prometheus-cpp's atomics; a histogram observation takes the histogram's
// mutex, which only a scrape contends.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>

#include "proto/its.pb.h"

namespace its::r3 {

class R3Metrics {
 public:
  explicit R3Metrics(prometheus::Registry& registry);

  // A request answered with `code`; `processing_s` is the simulated
  // processing time in real seconds (steps and logons).
  void Answered(proto::R3Request::KindCase kind, proto::R3Response::Code code,
                double processing_s);
  // Sessions R/3 ended on its own (pushed to the agates), and those ended
  // because an agate's connection broke.
  void EndedByR3(size_t n) { ended_by_r3_.Increment(static_cast<double>(n)); }
  void EndedByBrokenStream(size_t n) {
    ended_by_stream_.Increment(static_cast<double>(n));
  }
  void Tick(size_t user_sessions, size_t security_sessions, size_t locks,
            size_t streams);

 private:
  static constexpr int kKinds = 3;  // logon, step, logoff
  static constexpr int kCodes = 7;  // proto::R3Response::Code
  std::array<std::array<prometheus::Counter*, kCodes>, kKinds> requests_{};
  prometheus::Histogram& step_;
  prometheus::Histogram& logon_;
  prometheus::Counter& ended_by_r3_;
  prometheus::Counter& ended_by_stream_;
  prometheus::Gauge& user_sessions_;
  prometheus::Gauge& security_sessions_;
  prometheus::Gauge& locks_;
  prometheus::Gauge& streams_;
};

}  // namespace its::r3
