#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/cluster_config.h"
#include "common/grpc_loop.h"
#include "common/log.h"
#include "common/pidfd_watcher.h"
#include "common/restart_policy.h"
#include "mapping_manager/assignment.h"
#include "mapping_manager/liveness.h"
#include "mapping_manager/mm_metrics.h"
#include "mapping_manager/spawner.h"
#include "proto/its.pb.h"

namespace its::mm {

// One AGate instance's Mapping Manager: starts MinAGates agate processes,
// restarts those that die (with back-off; not after too many crashes),
// scales up to MaxAGates, assigns new sessions, publishes the process
// directory (on every change and at least once a second), and marks
// processes whose load reports stop as unresponsive (no new sessions; killed
// and restarted after unresponsive_restart_s). Agates outlive their manager:
// a restarted manager adopts them (Adopt) instead of starting duplicates.
//
// Everything runs on the loop thread of `loop` (Adopt, set_identity and the
// constructor before it runs): no locks. Timers are the loop's; the end of a
// process arrives from a PidfdWatcher. Nothing here blocks.
//
// manager.cc: assignment, registration, load reports, the directory.
// supervision.cc: starting, adopting, watching, restarting, stopping.
class MappingManager {
 public:
  using AssignDone =
      std::function<void(const grpc::Status&, const proto::ProcessInfo&)>;
  using DirectoryListener = std::function<void(const proto::Directory&)>;

  MappingManager(const AgateInstanceConfig& config, GrpcLoop& loop,
                 Spawner spawner, SupervisorConfig supervisor = {},
                 LivenessLimits liveness = {});
  ~MappingManager();

  // Before Start(): processes of an earlier run of this manager. They count
  // as starting until they register again; the directory and assignments
  // wait for them (at most kRecovery).
  // Returns how many it adopted.
  int Adopt(const std::vector<RunningAgate>& running);
  // The address agates know this manager by (their --mapping-manager) and
  // the configuration they run with (--config): what adoption matches.
  void set_identity(std::string address, std::string config_dir) {
    address_ = std::move(address);
    config_dir_ = std::move(config_dir);
  }
  // Before Adopt(): the file that keeps each slot's last incarnation across
  // runs of this manager, so that a slot whose process ended while no
  // manager ran starts its next incarnation, not its first again (a GUSID
  // of the ended process must not name the new one). Read now, written at
  // every start; missing or unreadable: counting starts over.
  void set_incarnation_file(std::string path);
  void Start();  // starts MinAGates processes (those not adopted)
  // SIGTERM (and SIGCONT) to every agate, SIGKILL to those left after 2 s;
  // `done` runs once every one ended (or a moment after the SIGKILL). Fails
  // waiting assignments; new ones fail at once.
  void StopAll(std::function<void()> done);

  // A process for a new session (docs/architecture.md §1.2); with `pinned`
  // (~agate_routing=<instance>:<process>) that process, or
  // FAILED_PRECONDITION saying why it cannot take the session.
  void Assign(AssignDone done, std::optional<int> pinned = std::nullopt);
  grpc::Status Register(const proto::RegisterRequest& req);
  grpc::Status ReportLoad(const proto::LoadReport& report);
  // Whether process `process` is drained (itsadm drain: it, or the whole
  // instance): what its load report's answer tells it.
  bool Draining(int process) const;
  // Once a second: liveness of every process, and the directory heartbeat.
  void Tick();

  proto::Directory Directory() const;
  // Listeners get every new directory. Returns an id.
  int AddListener(DirectoryListener listener);
  // itsadm drain/undrain: process `process` (-1: the whole instance, which
  // then also starts no process) takes no new sessions, or takes them again.
  grpc::Status Drain(const proto::DrainRequest& request);
  void RemoveListener(int id);
  // The manager's metrics (none in unit tests that do not ask).
  void set_metrics(MmMetrics* metrics) { metrics_ = metrics; }

  // The assignment decision behind the AssignDone running now, for the
  // request's trace (docs/architecture.md §7.1): the candidates with their
  // w and the reason in words, and the reason's kind ("highest PID",
  // "overloaded", "scale-up", "full", "pinned", "refused").
  const std::string& last_decision() const { return last_decision_; }
  const std::string& last_reason() const { return last_reason_; }

 private:
  struct Slot {
    proto::ProcessInfo::State state = proto::ProcessInfo::DOWN;
    bool in_use = false;  // part of the running set (started at least once)
    pid_t pid = 0;
    uint32_t incarnation = 0;
    std::string address;
    std::string metrics_address;  // its metrics endpoint ("" if none)
    // Sessions = the last report plus the assignments the agate had not yet
    // received when it reported, so reports never hide sessions in flight
    // (nor count lost ones for ever).
    int reported_sessions = 0;
    UnconfirmedStarts unconfirmed;
    int sessions() const { return reported_sessions + unconfirmed.count(); }
    int busy_threads = 0;
    double turnaround_s = 0;
    uint64_t requests = 0;
    std::chrono::steady_clock::time_point last_report;
    bool killed_unresponsive = false;
    // Adopted from an earlier run: not our child (nothing to reap).
    bool adopted = false;
    // Held for every running process: signals never hit a reused PID, and
    // its end shows on it (watch_id: the PidfdWatcher's).
    int pidfd = -1;
    int watch_id = 0;
    std::optional<RestartPolicy> restart;
    // itsadm drain: no new sessions (kept over restarts of the slot); said
    // once when its last session ended.
    bool draining = false;
    bool drained_said = false;
  };
  struct Waiter {
    AssignDone done;
    std::chrono::steady_clock::time_point deadline;
    std::optional<int> pinned;
    std::string earlier;  // why it waits (the trace's step 3 says it)
  };

  // supervision.cc
  void StartSlot(int index);
  void Watch(int index);
  void ReleasePidfd(Slot& s);
  void Signal(Slot& s, int sig);
  // The process behind a watched pidfd ended.
  void ProcessEnded(pid_t pid);
  void ChildExited(pid_t pid, int status);  // status -1: not our child
  void ArmTick();
  void SaveIncarnations() const;
  void FinishStop();  // runs StopAll's `done` once
  bool AllDown() const;

  // manager.cc
  double Weight(const Slot& s) const;
  void EndRecovery();
  void TryAssignWaiting();
  bool AssignNow(AssignDone& done, bool may_wait, std::optional<int> pinned,
                 const std::string& earlier = "");
  void Publish();
  proto::ProcessInfo Info(int index) const;

  AgateInstanceConfig config_;
  GrpcLoop& loop_;
  Spawner spawner_;
  PidfdWatcher watcher_;
  std::vector<Slot> slots_;
  std::deque<Waiter> waiting_;
  std::string last_decision_, last_reason_;  // see last_decision()
  // The decision lines: each at training rates, not thousands a second.
  LogBudget decision_log_{kDecisionLinesPerSecond};
  static constexpr int kDecisionLinesPerSecond = 20;
  void ReportLeftOut(int64_t left_out) const;  // one line, if any
  GrpcLoop::Timer waiter_timer_;
  uint64_t version_ = 0;
  int next_listener_ = 1;
  bool instance_draining_ = false;
  std::vector<std::pair<int, DirectoryListener>> listeners_;
  bool stopping_ = false;
  std::function<void()> stopped_;  // StopAll's `done`, until it ran
  GrpcLoop::Timer stop_timer_;
  SupervisorConfig supervisor_;
  LivenessLimits liveness_;
  GrpcLoop::Timer tick_timer_;
  std::string incarnation_file_;
  bool recovering_ = false;  // adopted processes have not all registered
  std::chrono::steady_clock::time_point last_tick_;
  GrpcLoop::Timer recovery_timer_;
  std::string address_;
  std::string config_dir_;
  MmMetrics* metrics_ = nullptr;
};

}  // namespace its::mm
