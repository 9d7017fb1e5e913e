#pragma once

// The metrics of one AGate process (docs/architecture.md §7, README
// "Metrics"), served by its metrics endpoint (common/metrics_http.h). Every
// series carries the process's labels instance, process and pid (the same
// the wgate's directory gauges and the Mapping Manager's /sd document use).
//
// Updated on the logic thread, read by the metrics endpoint's thread:
// counters and gauges are prometheus-cpp's atomics (lock-free), a histogram
// observation takes the histogram's own mutex, which only a scrape (once a
// second) contends. The gauges are set with every load report (every
// 250 ms), not at scrape time, so nothing reads the process's state from
// another thread.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <string>

#include "common/metrics_http.h"
#include "proto/its.pb.h"

namespace its::agate {

// How a session ended (session_ends_total{reason}).
enum class EndReason {
  kTimeout,     // ~timeout passed
  kLogoff,      // ~command=logoff, endofsession
  kNex,         // /nex
  kTerminated,  // SISP / DSM termination (USR_ABORT, USR_LOGOFF)
  kReplaced,    // the browser started the service anew
  kR3Ended,     // R/3 ended it (its own limits, displacement)
  kR3Lost,      // the connection to R/3 broke
  kCount
};
const char* EndReasonLabel(EndReason r);

class AgateMetrics {
 public:
  // `labels`: instance, process, pid.
  AgateMetrics(prometheus::Registry& registry,
               const std::map<std::string, std::string>& labels,
               int max_sessions, int max_threads, uint32_t incarnation);

  // Every answer to a wgate, by outcome: an error outcome also counts in
  // errors_total{kind}.
  void Answered(proto::Outcome outcome);
  void Ended(EndReason why) { ends_[static_cast<int>(why)]->Increment(); }
  void SessionStarted() { starts_.Increment(); }
  void Request() { requests_.Increment(); }
  void StepDone(double real_s) { step_.Observe(real_s); }
  void LogonDone(double real_s) { logon_.Observe(real_s); }
  // `waited`: works that ever waited for a work thread (WorkThreads).
  void Load(int sessions, int busy_threads, double weight, size_t queued,
            uint64_t waited) {
    sessions_.Set(sessions);
    busy_threads_.Set(busy_threads);
    weight_.Set(weight);
    queued_.Set(static_cast<double>(queued));
    if (waited > waited_seen_) {
      waited_.Increment(static_cast<double>(waited - waited_seen_));
      waited_seen_ = waited;
    }
  }
  void set_draining(bool draining) { draining_.Set(draining ? 1 : 0); }

 private:
  prometheus::Counter& requests_;
  prometheus::Counter& starts_;
  std::array<prometheus::Counter*, static_cast<int>(EndReason::kCount)> ends_{};
  std::array<prometheus::Counter*, proto::Outcome_ARRAYSIZE> errors_{};
  prometheus::Histogram& step_;
  prometheus::Histogram& logon_;
  prometheus::Gauge& sessions_;
  prometheus::Gauge& busy_threads_;
  prometheus::Gauge& queued_;
  prometheus::Counter& waited_;
  uint64_t waited_seen_ = 0;
  prometheus::Gauge& weight_;
  prometheus::Gauge& draining_;
};

}  // namespace its::agate
