#pragma once

#include <asio.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "clients/backoff.h"
#include "clients/histogram.h"
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

struct StepStats {
  Histogram latency;
  uint64_t requests = 0;
  uint64_t errors = 0;
};

// Runs a scenario against a wgate and measures it. All on one io_context
// thread. Latency is measured from the moment a request was *meant* to be
// sent (after its think time, or its arrival in the open model), so a
// generator or server that falls behind shows up in the figures
// (coordinated omission corrected).
class LoadEngine {
 public:
  LoadEngine(asio::io_context& io, const Scenario& scenario,
             const LoadOptions& options);
  ~LoadEngine();

  void Run();  // returns when the duration is over and the last requests are in
  nlohmann::json Report() const;

 private:
  class Connection;
  struct VirtualUser;
  using Clock = std::chrono::steady_clock;

  void StartJourney(const std::shared_ptr<VirtualUser>& vu,
                    Clock::time_point intended);
  void NextStep(const std::shared_ptr<VirtualUser>& vu);
  void EndJourney(const std::shared_ptr<VirtualUser>& vu, bool ok);
  void Send(const std::shared_ptr<VirtualUser>& vu, const std::string& step,
            std::string request, Clock::time_point intended,
            std::function<void(int status, const std::string& body)> then);
  void After(const std::shared_ptr<VirtualUser>& vu, double ms,
             std::function<void()> fn);
  void ScheduleArrival();
  void Tick();
  void Finish();
  void Drain();
  const JourneyDef& PickJourney();
  std::string NextUser(const JourneyDef& j);
  double ThinkMs(const Think& t);

  asio::io_context& io_;
  const Scenario& scenario_;
  LoadOptions options_;
  std::mt19937_64 rng_;
  Clock::time_point start_;
  Clock::time_point end_;
  bool stopping_ = false;
  asio::steady_timer tick_;
  asio::steady_timer arrivals_;
  asio::steady_timer drain_;
  Clock::time_point drain_deadline_;
  Clock::time_point next_arrival_;
  std::vector<std::shared_ptr<VirtualUser>> users_;  // closed model
  std::map<const JourneyDef*, int> next_user_;
  int active_ = 0;
  int64_t ticks_ = 0;  // seconds reported so far
  int in_flight_ = 0;

  Histogram latency_;
  uint64_t requests_ = 0, errors_ = 0;
  uint64_t transport_errors_ = 0;  // errors without any HTTP response
  uint64_t backoffs_ = 0;          // waits before a virtual user tried again
  double backoff_wait_s_ = 0;      // the sum of those waits
  uint64_t started_ = 0, completed_ = 0, failed_ = 0, dropped_ = 0;
  std::map<std::string, StepStats> steps_;
  std::map<std::string, uint64_t> agates_;
  std::map<std::string, uint64_t> error_kinds_;
  struct Second {
    uint64_t requests = 0, errors = 0;
    Histogram latency;
    int active = 0;
  };
  std::vector<Second> timeline_;
  double cpu_s_ = 0;
  double wall_s_ = 0;
};

// HTML report with SVG plots: throughput and latency over time, requests per
// AGate process.
std::string HtmlReport(const nlohmann::json& report);

}  // namespace its::load
