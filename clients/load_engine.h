#pragma once

#include <asio.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "clients/backoff.h"
#include "clients/journey.h"
#include "clients/load_report.h"  // StepStats, HtmlReport
#include "clients/scenario.h"
#include "clients/stages.h"

namespace its::load {

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  // The load over time: virtual users looping journeys (closed model) or
  // journeys started per second at random, Poisson (open model).
  bool open_model = false;
  StagePlan plan = StagePlan::Constant(1, 10);
  // At the plan's end running journeys get this long to finish; those still
  // running then are logged off (unless they abandon).
  double graceful_stop_s = 10;
  double think_ms = -1;  // >= 0: replaces every think time
  // Open model: journeys in progress at most (more are dropped).
  int max_active = 20000;
  uint64_t seed = 1;
  bool progress = true;  // a line per second on stderr
  // SIGINT/SIGTERM end the run gracefully (see stopped_by); off where the
  // process handles its signals itself (a worker).
  bool handle_signals = false;
  // Closed model: how long a virtual user waits before its next journey when
  // a request got no response at all (connection refused, reset, closed).
  Backoff::Policy backoff;
  // Called at the end of every second with the figures so far: returns what
  // to add to that second's progress line; setting `*abort` ends the run
  // early (at once, with the journeys cut short as at the end).
  std::function<std::string(const LoadStats&, double elapsed_s,
                            std::string* abort)>
      monitor;
};

// Runs a scenario against a wgate and measures it. All on one io_context
// thread. Latency is measured from the moment a request was *meant* to be
// sent (after its think time, or its arrival in the open model), so a
// generator or server that falls behind shows up in the figures
// (coordinated omission corrected). The engine keeps time, follows the load
// plan and ends the run; Journeys drive the users, LoadStats counts.
class LoadEngine {
 public:
  LoadEngine(asio::io_context& io, const Scenario& scenario,
             const LoadOptions& options);
  ~LoadEngine();

  // Returns when the plan is over and the journeys ended (or were cut short
  // after the graceful stop).
  void Run();
  const LoadStats& stats() const { return stats_; }
  // Why the run ended early ("" if it did not): a failed threshold.
  const std::string& aborted() const { return aborted_; }
  // The signal that ended the run early ("" if none): the first SIGINT or
  // SIGTERM ends it as its time would (graceful stop), the second cuts the
  // journeys short at once (logged off), the third stops without waiting.
  const std::string& stopped_by() const { return stopped_by_; }

 private:
  using Clock = std::chrono::steady_clock;

  double Elapsed(Clock::time_point t) const;
  void ScheduleArrival();
  void FollowPlan();  // closed model: users up or down to the plan's count
  void SetUsers(int n);
  void Tick();
  void Finish();
  void Drain();
  void Done();
  void WaitForSignal();
  std::shared_ptr<VirtualUser> NewUser(bool open_model);

  asio::io_context& io_;
  const Scenario& scenario_;
  LoadOptions options_;
  asio::ip::tcp::endpoint endpoint_;
  std::mt19937_64 rng_;
  LoadStats stats_;
  Journeys journeys_;
  enum Phase { kRunning, kGraceful, kInterrupting, kDone } phase_ = kRunning;
  std::string aborted_;
  std::string stopped_by_;
  asio::steady_timer tick_;
  asio::steady_timer arrivals_;
  asio::steady_timer plan_;
  asio::steady_timer drain_;
  Clock::time_point end_;  // of the plan
  Clock::time_point drain_deadline_;
  Clock::time_point next_arrival_;
  // Closed model: users_[0 .. live_) loop journeys; those after are idle or
  // finishing the journey the plan retired them in.
  std::vector<std::shared_ptr<VirtualUser>> users_;
  size_t live_ = 0;
  asio::signal_set signals_;
  int64_t ticks_ = 0;          // the second the tick timer waits for the end of
  int64_t seconds_ended_ = 0;  // seconds in the timeline
};

}  // namespace its::load
