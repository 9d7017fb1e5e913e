#pragma once

#include <asio.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "clients/backoff.h"
#include "clients/journey.h"
#include "clients/load_report.h"  // StepStats, HtmlReport
#include "clients/scenario.h"

namespace its::load {

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  int users = 0;         // closed model: this many virtual users loop journeys
  double rate = 0;       // open model: journeys started per second (Poisson)
  double ramp_up_s = 0;  // closed model: users start evenly over this time
  double duration_s = 10;
  double think_ms = -1;  // >= 0: replaces every think time
  // Open model: journeys in progress at most (more are dropped).
  int max_active = 20000;
  uint64_t seed = 1;
  bool progress = true;  // a line per second on stderr
  // Closed model: how long a virtual user waits before its next journey when
  // a request got no response at all (connection refused, reset, closed).
  Backoff::Policy backoff;
};

// Runs a scenario against a wgate and measures it. All on one io_context
// thread. Latency is measured from the moment a request was *meant* to be
// sent (after its think time, or its arrival in the open model), so a
// generator or server that falls behind shows up in the figures
// (coordinated omission corrected). The engine keeps time, starts virtual
// users and ends the run; Journeys drive them, LoadStats counts.
class LoadEngine {
 public:
  LoadEngine(asio::io_context& io, const Scenario& scenario,
             const LoadOptions& options);
  ~LoadEngine();

  void Run();  // returns when the duration is over and the last requests are in
  nlohmann::json Report() const;

 private:
  using Clock = std::chrono::steady_clock;

  void ScheduleArrival();
  void Tick();
  void Finish();
  void Drain();
  std::shared_ptr<VirtualUser> NewUser(bool open_model);

  asio::io_context& io_;
  const Scenario& scenario_;
  LoadOptions options_;
  asio::ip::tcp::endpoint endpoint_;
  std::mt19937_64 rng_;
  LoadStats stats_;
  Journeys journeys_;
  bool stopping_ = false;
  asio::steady_timer tick_;
  asio::steady_timer arrivals_;
  asio::steady_timer drain_;
  Clock::time_point drain_deadline_;
  Clock::time_point next_arrival_;
  std::vector<std::shared_ptr<VirtualUser>> users_;  // closed model
  int64_t ticks_ = 0;                                // seconds reported so far
};

}  // namespace its::load
