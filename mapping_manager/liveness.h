#pragma once

#include <chrono>

namespace its::mm {

// Whether an AGate process still reports its load. Agates report at least
// once a second; a process that missed `missed_reports` reports counts as
// unresponsive (alive, maybe stopped or hung: it gets no new sessions); one
// that stays so for `restart_after` more is killed and restarted (never if
// restart_after is zero). Pure: the caller passes the time.
struct LivenessLimits {
  std::chrono::milliseconds report_interval{1000};
  int missed_reports = 3;
  std::chrono::milliseconds restart_after{60'000};  // 0: never
};

enum class Liveness {
  kResponsive,
  kUnresponsive,
  kRestart,  // unresponsive for too long: kill it, the slot restarts
};

inline Liveness JudgeLiveness(std::chrono::steady_clock::time_point last_report,
                              std::chrono::steady_clock::time_point now,
                              const LivenessLimits& limits) {
  auto silent = now - last_report;
  auto unresponsive = limits.report_interval * limits.missed_reports;
  if (silent < unresponsive) return Liveness::kResponsive;
  if (limits.restart_after.count() > 0 &&
      silent >= unresponsive + limits.restart_after) {
    return Liveness::kRestart;
  }
  return Liveness::kUnresponsive;
}

}  // namespace its::mm
