#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "clients/histogram.h"
#include "clients/scenario.h"

namespace its::load {

// Requests of one step (or of all steps of a journey, or of the run).
struct StepStats {
  Histogram latency;
  uint64_t requests = 0;
  uint64_t errors = 0;
  void Add(const StepStats& o) {
    latency.Merge(o.latency);
    requests += o.requests;
    errors += o.errors;
  }
};

// How journeys ended.
struct JourneyCounts {
  uint64_t started = 0, completed = 0, failed = 0, interrupted = 0;
  void Add(const JourneyCounts& o) {
    started += o.started;
    completed += o.completed;
    failed += o.failed;
    interrupted += o.interrupted;
  }
};

// Where a request is counted: the journey (index in the scenario) and the
// step's slot in it (StepSlots).
struct StepKey {
  int journey = 0;
  int slot = 0;
};

// The slots of one journey's requests: the logon, each step (steps of the
// same name share one), and the end (logoff or close_tab; -1 for abandon).
struct StepSlots {
  int logon = 0;
  std::vector<int> steps;
  int end = -1;
};

// What a load run measured: requests by journey and step, per second and per
// AGate process, journeys by how they ended, errors by kind, back-offs.
// Latency is what the caller passes: from the moment a request was meant to
// be sent. Pure: fed with times, unit-tested; and mergeable, so a
// coordinator adds its workers' figures exactly (histograms, not
// percentiles).
class LoadStats {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LoadStats(const Scenario& scenario);

  const StepSlots& Slots(int journey) const { return slots_[journey]; }
  size_t journeys() const { return journeys_.size(); }

  // The run starts at `start`; the timeline gets an entry per second.
  void Start(Clock::time_point start);
  Clock::time_point start() const { return start_; }

  // A request ended at `now`: `status` 0 if no response came (`error` says
  // why); with a status, a non-empty `error` is a check the page failed.
  // `agate` the answering process if known.
  void Request(StepKey key, int status, const std::string& error,
               const std::string& agate, Clock::time_point intended,
               Clock::time_point now);
  enum class Ending { kCompleted, kFailed, kInterrupted };
  void JourneyStarted(int journey);
  void JourneyEnded(int journey, Ending how);
  void JourneyDropped() { ++dropped_; }
  // A journey still open when the run ended was logged off (`ok`) or not.
  void LoggedOffAtEnd(bool ok) { ++(ok ? logged_off_at_end_ : logoff_failed_); }
  // A journey that failed with its session kept was logged off (`ok`) or
  // not.
  void LoggedOffAfterFailure(bool ok) {
    ++(ok ? logged_off_after_failure_ : failure_logoff_failed_);
  }
  // A virtual user waits `wait_ms` before its next journey.
  void BackedOff(double wait_ms);
  // An error the figures would not show otherwise.
  void Error(const std::string& kind) { ++error_kinds_[kind]; }
  // Second `n` (from 1) is over with `active` journeys and a stage target of
  // `target` (users or journeys/s; -1: none): notes it and returns the
  // progress line for it.
  std::string EndOfSecond(int64_t n, int active, double target);
  // The whole run took `wall_s`, and the generator `cpu_s` of CPU.
  void Finished(double wall_s, double cpu_s);
  // Adds a worker's figures (same scenario) to these.
  void Merge(const LoadStats& o);

  // The figures of a part of the run, for thresholds: all of it, a journey,
  // or the steps of that name (in `journey`, or in every journey if empty).
  // Returns false if the journey or step does not exist.
  struct Figures {
    StepStats stats;
    JourneyCounts journeys;
  };
  bool Select(std::string_view journey, std::string_view step,
              Figures* out) const;
  double elapsed_s() const { return wall_s_; }

  // The report (itsload --report): the figures; the caller adds the run's
  // parameters, thresholds and processes.
  nlohmann::json Report(const std::string& scenario, bool open_model) const;

 private:
  friend class LoadStatsCodec;  // clients/load_stats_codec.h

  struct Journey {
    std::string name;
    std::vector<std::string> slot_names;
    std::vector<StepStats> slots;
    StepStats all;
    JourneyCounts counts;
  };
  struct Second {
    uint64_t requests = 0, errors = 0, arrivals = 0;
    int active = 0;
    double target = -1;
    Histogram::Buckets buckets;
    int64_t min = 0, max = 0;
    double sum = 0;
  };

  Clock::time_point start_;
  StepStats all_;
  uint64_t transport_errors_ = 0;  // errors without any HTTP response
  uint64_t backoffs_ = 0;          // waits before a virtual user tried again
  double backoff_wait_s_ = 0;      // the sum of those waits
  uint64_t dropped_ = 0;
  uint64_t logged_off_at_end_ = 0, logoff_failed_ = 0;
  uint64_t logged_off_after_failure_ = 0, failure_logoff_failed_ = 0;
  std::vector<Journey> journeys_;
  std::vector<StepSlots> slots_;
  std::map<std::string, uint64_t> agates_;
  std::map<std::string, uint64_t> error_kinds_;
  // The second in progress, and those before it.
  Second current_;
  Histogram current_latency_;
  std::vector<Second> timeline_;
  double cpu_s_ = 0;
  double wall_s_ = 0;
};

// Latency percentiles in ms: min, p50, p90, p95, p99, p999, max, mean.
nlohmann::json LatencyJson(const Histogram& h);

}  // namespace its::load
