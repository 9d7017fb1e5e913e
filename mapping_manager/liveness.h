#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

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
  // An assignment the process has not received this long after it was made
  // never will (its request was lost with a broken stream, or the wgate gave
  // up): it stops counting as a session. Above the wgate's step timeout.
  std::chrono::milliseconds assignment_lost_after{35'000};
  // A process that has not registered this long after its start is
  // unresponsive (hung before it registered) and, restart_after later,
  // restarted. Until then it counts as starting: a slow start (a sanitizer
  // build on a busy machine) makes no other process start.
  std::chrono::milliseconds registration_grace{10'000};
};

// Assignments a process has not received yet (they count as its sessions
// until its load report says it has), oldest first. A process receives its
// starts in the order they were assigned, so the starts a report adds confirm
// the oldest; one not received within `lost_after` never will be. O(1) per
// assignment.
class UnconfirmedStarts {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  void Assigned(TimePoint now) { times_.push_back(now); }
  // A report: the process has received `starts` in all (a new incarnation
  // counts from 0). Returns how many assignments were given up as lost.
  int Reported(uint64_t starts, TimePoint now,
               std::chrono::milliseconds lost_after) {
    uint64_t received = starts >= starts_ ? starts - starts_ : starts;
    starts_ = starts;
    for (; received > 0 && !times_.empty(); --received) times_.pop_front();
    int lost = 0;
    while (!times_.empty() && now - times_.front() > lost_after) {
      times_.pop_front();
      ++lost;
    }
    return lost;
  }
  void Clear() {
    times_.clear();
    starts_ = 0;
  }
  int count() const { return static_cast<int>(times_.size()); }

 private:
  std::deque<TimePoint> times_;
  uint64_t starts_ = 0;  // the process's count at its last report
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

// The same for a process that has not registered since `started`.
inline Liveness JudgeStart(std::chrono::steady_clock::time_point started,
                           std::chrono::steady_clock::time_point now,
                           const LivenessLimits& limits) {
  auto waited = now - started;
  if (waited < limits.registration_grace) return Liveness::kResponsive;
  if (limits.restart_after.count() > 0 &&
      waited >= limits.registration_grace + limits.restart_after) {
    return Liveness::kRestart;
  }
  return Liveness::kUnresponsive;
}

}  // namespace its::mm
