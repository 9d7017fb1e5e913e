#pragma once

#include <chrono>
#include <deque>
#include <optional>

#include "common/cluster_config.h"

namespace its {

// When to restart a process that died, as a service manager would: after a
// delay that doubles with every crash in the window (first_delay_s up to
// max_delay_s), and not at all once it crashed more than max_restarts times
// within window_s. Pure: the caller passes the time.
class RestartPolicy {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RestartPolicy(const SupervisorConfig& config) : config_(config) {}

  // The process died at `now`: the delay before its restart, or nullopt if
  // it crashed too often and must stay down.
  std::optional<std::chrono::milliseconds> OnExit(Clock::time_point now);

  // Crashes within the window as of the last OnExit().
  int recent_crashes() const { return static_cast<int>(exits_.size()); }
  const SupervisorConfig& config() const { return config_; }

 private:
  SupervisorConfig config_;
  std::deque<Clock::time_point> exits_;  // within the window, oldest first
};

}  // namespace its
