#pragma once

#include <prometheus/histogram.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "common/metrics_http.h"
#include "proto/its.pb.h"
#include "wgate/directory.h"

namespace its::wgate {

// Counters behind /metrics. Answers that have an outcome (proto Outcome)
// are counted once, by outcome, where the wgate turns them into HTTP; the
// rest are the wgate's own answers and events. Plain integers: only the
// HTTP thread touches them (it also answers /metrics), and they become
// prometheus-cpp metric families at scrape time.
struct Metrics {
  uint64_t requests = 0;
  uint64_t new_sessions = 0;  // steps 1-5 that reached an agate
  uint64_t dialog_steps = 0;  // steps 1,4,5
  uint64_t logon_pages = 0;   // logon pages served without a session
  uint64_t assign_calls = 0;
  uint64_t no_capacity = 0;  // 503: every instance full
  uint64_t no_session = 0;   // 400: a dialog request without a session ID
  uint64_t bad_request = 0;  // 400: malformed parameters
  uint64_t not_found = 0;
  uint64_t start_unreachable = 0;  // 503: the assigned process unreachable
  uint64_t start_timeouts = 0;     // 504: a start not answered in time
  // New sessions whose answer reached no browser (connection gone, or the
  // answer came after the deadline): the agate was told to end them.
  uint64_t undelivered_sessions = 0;
  uint64_t dsm_requests = 0;    // Terminator requests
  uint64_t dsm_terminated = 0;  // sessions it ended
  // Targets that reached no owner (naive routing, ended, wrong token).
  uint64_t dsm_missed = 0;
  uint64_t dsm_unanswered = 0;  // of dsm_missed: the owner did not answer
  // Terminations kept for an owner that could not be reached (each once),
  // how many are kept now, and those given up (kept too long, or too many).
  uint64_t terminations_held = 0;
  uint64_t terminations_kept = 0;
  uint64_t terminations_given_up = 0;
  // Targets refused: not this cluster's session URLs.
  uint64_t dsm_rejected = 0;
  uint64_t portal_refused = 0;  // absolute or foreign launch URLs
  // Session commands sent to a process other than the session's owner
  // (routing "naive"); the receiver logs each as access-log type 'm'.
  uint64_t misrouted_commands = 0;
  // Starts refused because ~agate_routing named what cannot take them.
  uint64_t routing_refused = 0;
  std::array<uint64_t, proto::Outcome_ARRAYSIZE> outcomes{};
  std::map<int, uint64_t> by_status;
  // Real seconds from a service request's arrival to its answer: a new
  // session (steps 1-5, logon included) and a request of a session
  // (steps 1,4,5). prometheus-cpp histograms (each observation takes the
  // histogram's uncontended mutex).
  prometheus::Histogram start_seconds{LatencyBuckets()};
  prometheus::Histogram step_seconds{LatencyBuckets()};

  void Count(proto::Outcome outcome) {
    if (outcome >= 0 && outcome < proto::Outcome_ARRAYSIZE) ++outcomes[outcome];
  }
  uint64_t operator[](proto::Outcome o) const { return outcomes[o]; }
};

// The Prometheus text exposition of `m` and the directory's gauges, by
// prometheus-cpp's TextSerializer.
std::string MetricsText(const Metrics& m, const ProcessDirectory& directory);

}  // namespace its::wgate
