#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "clients/histogram.h"

namespace its::load {

struct StepStats {
  Histogram latency;
  uint64_t requests = 0;
  uint64_t errors = 0;
};

// What a load run measured: requests by step, per second and per AGate
// process, journeys, errors by kind, back-offs. Latency is what the caller
// passes: from the moment a request was meant to be sent.
class LoadStats {
 public:
  using Clock = std::chrono::steady_clock;

  // The measured window starts at `start` and lasts `duration_s`; the
  // timeline gets one entry per (started) second.
  void Start(Clock::time_point start, double duration_s);
  Clock::time_point start() const { return start_; }
  Clock::time_point end() const { return end_; }

  // A request of `step` ended at `now`: `status` 0 if no response came
  // (`error` says why); with a status, a non-empty `error` is a check the
  // page failed. `agate` the answering process if known. Only what ends
  // inside the measured window counts.
  void Request(const std::string& step, int status, const std::string& error,
               const std::string& agate, Clock::time_point intended,
               Clock::time_point now);
  void JourneyStarted() { ++started_; }
  void JourneyEnded(bool ok) { ++(ok ? completed_ : failed_); }
  void JourneyDropped() { ++dropped_; }
  // A virtual user waits `wait_ms` before its next journey.
  void BackedOff(double wait_ms);
  // An error the figures would not show otherwise.
  void Error(const std::string& kind) { ++error_kinds_[kind]; }
  // Second `n` (from 1) is over with `active` journeys: notes them and
  // returns the progress line for it.
  std::string EndOfSecond(int64_t n, int active);
  // The whole run took `wall_s`, and the generator `cpu_s` of CPU.
  void Finished(double wall_s, double cpu_s);

  // The report (itsload --report): the run's description and the figures.
  nlohmann::json Report(const std::string& scenario, bool open_model, int users,
                        double rate, double duration_s) const;

 private:
  struct Second {
    uint64_t requests = 0, errors = 0;
    Histogram latency;
    int active = 0;
  };

  Clock::time_point start_;
  Clock::time_point end_;
  Histogram latency_;
  uint64_t requests_ = 0, errors_ = 0;
  uint64_t transport_errors_ = 0;  // errors without any HTTP response
  uint64_t backoffs_ = 0;          // waits before a virtual user tried again
  double backoff_wait_s_ = 0;      // the sum of those waits
  uint64_t started_ = 0, completed_ = 0, failed_ = 0, dropped_ = 0;
  std::map<std::string, StepStats> steps_;
  std::map<std::string, uint64_t> agates_;
  std::map<std::string, uint64_t> error_kinds_;
  std::vector<Second> timeline_;
  double cpu_s_ = 0;
  double wall_s_ = 0;
};

// HTML report with SVG plots: throughput and latency over time, requests per
// AGate process.
std::string HtmlReport(const nlohmann::json& report);

}  // namespace its::load
