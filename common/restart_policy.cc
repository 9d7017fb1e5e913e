#include "common/restart_policy.h"

#include <algorithm>
#include <cmath>

namespace its {

std::optional<std::chrono::milliseconds> RestartPolicy::OnExit(
    Clock::time_point now) {
  auto window = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(config_.window_s));
  while (!exits_.empty() && now - exits_.front() >= window) exits_.pop_front();
  exits_.push_back(now);
  int n = static_cast<int>(exits_.size());
  if (n > config_.max_restarts) return std::nullopt;
  double delay = config_.first_delay_s * std::pow(2.0, std::min(n - 1, 30));
  delay = std::min(delay, config_.max_delay_s);
  return std::chrono::milliseconds(static_cast<int64_t>(delay * 1000 + 0.5));
}

}  // namespace its
