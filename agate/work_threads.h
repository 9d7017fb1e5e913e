#pragma once

// The simulated work-thread pool of an AGate process (MaxWorkThreads): how
// many dialog steps and logons may be with R/3 at once, the FIFO queue of the
// rest, and the turnaround the load report averages. Pure: no real threads,
// time from the injected Clock. Runs on the agate's logic thread.

#include <cstdint>
#include <deque>
#include <functional>

#include "common/clock.h"

namespace its::agate {

class WorkThreads {
 public:
  // `work(started)` holds a thread from `started` (the time it got it) until
  // it calls Release(started).
  using Work = std::function<void(SimMicros started)>;

  WorkThreads(const Clock& clock, int max_threads)
      : clock_(clock), max_threads_(max_threads) {}

  // Runs `work` at once if a thread is free, else when one is (FIFO).
  void Run(Work work);
  // Gives back the thread taken at `started` and counts its turnaround; the
  // next queued work, if any, gets it at once.
  void Release(SimMicros started);

  int busy() const { return busy_; }
  size_t queued() const { return queue_.size(); }
  // How many works had to wait for a thread, ever: more than none under a
  // steady load means MaxWorkThreads is smaller than that load needs.
  uint64_t waited() const { return waited_; }
  // Average turnaround in seconds of the releases since the last call (0 if
  // none), and starts counting anew: one load report's figure.
  double TakeTurnaround();

 private:
  const Clock& clock_;
  const int max_threads_;
  int busy_ = 0;
  std::deque<Work> queue_;
  uint64_t waited_ = 0;
  double tat_sum_s_ = 0;
  uint64_t tat_count_ = 0;
};

}  // namespace its::agate
