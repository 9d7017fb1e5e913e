#pragma once

namespace its {

// Load of one AGate process, as its Mapping Manager sees it.
struct LoadSample {
  int sessions = 0;
  int max_sessions = 1;
  int busy_threads = 0;
  int max_threads = 1;
  double turnaround_s = 0;  // average turnaround of recent requests
};

// Load weight w (docs/architecture.md §1.2): 1.0 when idle, falling with load:
//   w = free_sessions/max_sessions × free_threads/max_threads × tat_factor
// with tat_factor = 1 / (1 + turnaround_s). The real turnaround factor is
// undocumented; this one halves w at a one-second turnaround.
inline double LoadWeight(const LoadSample& s) {
  auto ratio = [](int used, int max) {
    if (max <= 0) return 0.0;
    double free = static_cast<double>(max - used) / max;
    return free < 0 ? 0.0 : (free > 1 ? 1.0 : free);
  };
  double tat = s.turnaround_s < 0 ? 0 : s.turnaround_s;
  return ratio(s.sessions, s.max_sessions) *
         ratio(s.busy_threads, s.max_threads) / (1.0 + tat);
}

}  // namespace its
