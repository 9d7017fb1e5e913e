#pragma once

#include <asio.hpp>
#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clients/backoff.h"
#include "clients/load_connection.h"
#include "clients/load_report.h"
#include "clients/scenario.h"

namespace its::load {

struct LoadOptions;

// A scripted user: one connection, one journey after another.
struct VirtualUser {
  using Clock = std::chrono::steady_clock;

  std::shared_ptr<LoadConnection> conn;
  std::unique_ptr<asio::steady_timer> timer;
  const JourneyDef* journey = nullptr;
  int journey_index = 0;
  std::string cookie;    // URL-encoded ~session value
  std::string sess_url;  // SISP termination URL (close_tab)
  std::string user;      // the journey's R/3 user (upper case)
  DataRow row;           // the journey's data row (empty without data)
  // data_per = "user": the row this user keeps, per data file.
  std::vector<std::pair<const DataFile*, size_t>> kept_rows;
  size_t step = 0;
  int repeat_left = 0;
  bool open_model = false;
  bool in_journey = false;   // between Start and End
  bool in_flight = false;    // a request sent, its response not in
  bool interrupted = false;  // the run's end cut its journey short
  bool had_error = false;    // a request of this journey failed a check
  // The request in flight: what it is, its step slot and intended start
  // (for the run's end, which records it if it never comes back).
  enum class Pending { kStep, kEndLogoff, kFailureLogoff };
  Pending pending = Pending::kStep;
  int pending_slot = 0;
  Clock::time_point pending_intended;
  // Closed model: the user loops journeys (or waits to), and whether the
  // load plan asked it to stop after the current one.
  bool looping = false;
  bool retire = false;
  std::list<std::shared_ptr<VirtualUser>>::iterator active_it;
  Backoff backoff;        // closed model: transport failures in a row
  double backoff_ms = 0;  // to wait before the next journey, set by a failure
  Clock::time_point intended;
};

// Takes virtual users through the scenario's journeys: the logon, the steps
// with their think times and repeats, the end (log off, abandon, close the
// tab), and for the closed model the next journey. Every request is counted
// in `stats`. Draws from `rng`, which the engine shares, so a seed gives one
// sequence.
class Journeys {
 public:
  using Clock = std::chrono::steady_clock;

  Journeys(const Scenario& scenario, const LoadOptions& options,
           std::mt19937_64& rng, LoadStats& stats);

  // Starts a journey for `vu`, meant to begin at `intended`.
  void Start(const std::shared_ptr<VirtualUser>& vu,
             Clock::time_point intended);
  // Starts a journey for `vu` in `ms` milliseconds.
  void StartAfter(const std::shared_ptr<VirtualUser>& vu, double ms);
  // The run's time is over: no journey starts any more; those running go on
  // to their ends (the graceful stop).
  void StopStarting() { phase_ = kGraceful; }
  // The graceful stop is over: journeys still running are cut short, each
  // logged off (/nex) unless its end is abandon. Those with a request in
  // flight are when it comes back.
  void Interrupt();
  // The run is over for good: requests still in flight are counted as
  // failed (no answer before the end), their journeys as interrupted and
  // their sessions as not logged off. Call before closing the connections.
  void AbandonInFlight();

  int active() const { return active_; }        // journeys in progress
  int in_flight() const { return in_flight_; }  // requests sent, not answered

 private:
  using Then = std::function<void(int status, std::string_view body)>;

  enum Phase { kRunning, kGraceful, kInterrupting };

  void NextStep(const std::shared_ptr<VirtualUser>& vu);
  void End(const std::shared_ptr<VirtualUser>& vu, LoadStats::Ending how);
  // A journey with a failed check anywhere counts as failed.
  void End(const std::shared_ptr<VirtualUser>& vu, bool ok) {
    End(vu, ok && !vu->had_error ? LoadStats::Ending::kCompleted
                                 : LoadStats::Ending::kFailed);
  }
  // A request failed: the journey ends as failed, but a session the server
  // kept (the cookie is still set) is logged off first, so no session or
  // lock stays behind until ~timeout.
  void Fail(const std::shared_ptr<VirtualUser>& vu);
  // Sends /nex for `vu`'s session outside the load's figures; `then(ok)`
  // when it is answered (ok: the session ended). A logoff that reaches no
  // wgate (refused, closed: one restarting after a crash, whose sessions
  // live on) or gets 503 (one just restarted, still without its
  // directories; the session is kept) is tried again every 250 ms, at most
  // kLogoffTries times.
  void LogOffApart(const std::shared_ptr<VirtualUser>& vu,
                   VirtualUser::Pending why, std::function<void(bool ok)> then);
  static constexpr int kLogoffTries = 20;
  void SendLogoff(const std::shared_ptr<VirtualUser>& vu,
                  std::function<void(bool ok)> then, int tries_left);
  // Ends `vu`'s journey at the run's end: logs it off unless it abandons.
  void Cut(const std::shared_ptr<VirtualUser>& vu);
  // `checks`: the step whose page checks apply (clients/page_check.h), or
  // nullptr.
  void Send(const std::shared_ptr<VirtualUser>& vu, int slot,
            std::string request, Clock::time_point intended, Then then,
            const StepDef* checks = nullptr);
  void After(const std::shared_ptr<VirtualUser>& vu, double ms,
             std::function<void()> fn);
  size_t Pick();
  std::string NextUser(const JourneyDef& j);
  // The data row for `vu`'s journey `j` (data_order, data_per).
  DataRow NextRow(VirtualUser& vu, const JourneyDef& j);
  double ThinkMs(const Think& t);

  const Scenario& scenario_;
  const LoadOptions& options_;
  std::mt19937_64& rng_;
  LoadStats& stats_;
  std::map<const JourneyDef*, int> next_user_;
  Phase phase_ = kRunning;
  std::list<std::shared_ptr<VirtualUser>> running_;  // journeys in progress
  std::map<const DataFile*, size_t> next_row_;  // data_order = "sequential"
  int active_ = 0;
  int in_flight_ = 0;
};

}  // namespace its::load
