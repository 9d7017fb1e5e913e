#pragma once

#include <sys/types.h>
#include <toml++/toml.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/cluster_config.h"
#include "common/grpc_util.h"
#include "common/link_delays.h"
#include "common/restart_policy.h"
#include "proto/its.grpc.pb.h"

namespace its::launcher {

struct Options {
  std::string
      config_dir;  // the configuration to run (cluster.toml, services/, r3/)
  std::string run_dir;  // gets a working copy of it, the logs and stdout files
  std::string bin_dir;  // where r3_stub, mapping_manager, agate, wgate are
  double time_scale = 0;         // > 0: overrides cluster.toml
  bool ephemeral_ports = false;  // every listener on port 0 (tests)
  std::function<void(toml::table&)>
      edit;  // changes to cluster.toml before the start
  // Extra files (path relative to the config directory, content), e.g. a
  // service file a test needs.
  std::vector<std::pair<std::string, std::string>> files;
  int ready_timeout_ms = 30000;
  bool remove_run_dir = false;  // delete run_dir when the cluster stops (tests)
  // Empty run_dir before the start (logs and incarnations of earlier runs),
  // once it is this launcher's (deploy/up).
  bool clean_run_dir = false;
  // Called with run_dir once the cluster stopped, before it is removed
  // (tests: show the logs of a failed test, whose directory goes).
  std::function<void(const std::string& run_dir)> before_remove;
  // Messages about crashes and restarts (default: standard error).
  std::function<void(const std::string&)> report;
};

// A running cluster: r3_stub, one mapping_manager per AGate instance (which
// start their agates) and the wgate, started in that order. Each process
// announces the address it bound ("ready <name> <address>" on stdout); the
// working copy of cluster.toml is updated with it before the next process
// starts, so port 0 works everywhere.
//
// Once started, a supervisor thread restarts every process that dies, as a
// service manager would: on the address it had (so nobody needs a new
// address), after a back-off that doubles per crash, and not at all after
// [supervisor] max_restarts crashes within window_s — it says so, and if the
// process was the wgate or the R/3 stub the cluster counts as failed. A
// crash of one process never stops another.
class Cluster {
 public:
  struct Process {
    std::string name;  // r3_stub, mapping_manager IT1, wgate
    pid_t pid = -1;    // -1 while down
    std::string address;
    std::string metrics;    // its metrics endpoint (host:port), "" if none
    std::string log;        // its stderr
    int restarts = 0;       // how often the supervisor restarted it
    bool given_up = false;  // crashed too often: stays down
  };

  // Starts everything and waits until /healthz answers 200 with every
  // instance up.
  static absl::StatusOr<std::unique_ptr<Cluster>> Start(Options options);
  ~Cluster();

  // Stops the supervisor, then SIGTERM (and SIGCONT, for stopped processes)
  // to every process, SIGKILL to what is left after `budget_ms`, including
  // agates whose Mapping Manager died (found by their --config).
  void Stop(int budget_ms = 4500);

  const std::string& url() const {
    return url_;
  }  // http://host:port of the wgate
  const std::string& config_dir() const {
    return options_.run_dir;
  }  // effective config
  // A snapshot (the supervisor changes PIDs when it restarts a process).
  std::vector<Process> processes() const ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<Process> Find(const std::string& name) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until `name` runs again after a crash (a new PID, ready); false
  // after `timeout_ms`.
  bool WaitRunning(const std::string& name, pid_t not_pid, int timeout_ms) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Non-empty once a process the cluster cannot do without was given up.
  std::string failure() const ABSL_LOCKS_EXCLUDED(mu_);
  // Address of the admin API ([supervisor] listen as bound).
  const std::string& admin_address() const { return admin_address_; }

  // Fault injection (also served as the Cluster gRPC service to itsadm).
  grpc::Status Fault(const proto::FaultRequest& request,
                     proto::FaultReply* reply) ABSL_LOCKS_EXCLUDED(mu_);
  proto::ClusterProcesses ListProcesses() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Child;
  class AdminService;
  explicit Cluster(Options options);
  absl::Status StartAdmin();
  // A process of the cluster by name ("agate IT1/1", "IT1/1",
  // "mapping_manager IT2", "r3_stub", "wgate"): its PID and a pidfd to
  // signal it by (the caller closes it), or an error naming the names.
  // Instance names are matched without regard to case ("it2" is IT2).
  absl::StatusOr<std::pair<pid_t, int>> ResolveProcess(
      const std::string& given) const ABSL_LOCKS_EXCLUDED(mu_);
  // The configured spelling of an instance name given in any case; else the
  // name as given.
  std::string InstanceName(const std::string& name) const;
  void StopChildren(int budget_ms) ABSL_LOCKS_EXCLUDED(mu_);
  // The addresses of the live agates of `instances`, from their Mapping
  // Managers (asked at once; one that does not answer within 2 s is left out).
  std::vector<std::string> AgateAddresses(
      const std::vector<std::string>& instances) const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Spawn(const std::string& name, std::vector<std::string> args,
                     bool critical) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status ForkExec(Child& c, bool first);
  absl::Status WaitReady(Child& c) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status WriteConfig();
  std::string ExitedDuringStart() ABSL_LOCKS_EXCLUDED(mu_);
  void StartSupervisor();
  void Supervise() ABSL_LOCKS_EXCLUDED(mu_);
  void Report(const std::string& message);
  // Supervisor thread.
  void HandleExit(Child& c, int status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Respawn(Child& c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CheckStarting(Child& c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets (and closes the pidfd of) a process a HANG fault stopped.
  void ForgetHung(pid_t pid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Options options_;
  ClusterConfig config_parsed_;
  toml::table config_;
  // Shared by the caller's thread, the supervisor and the admin API.
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Child>> children_ ABSL_GUARDED_BY(mu_);
  std::string failure_ ABSL_GUARDED_BY(mu_);
  // Processes stopped by a HANG fault: a pidfd and when to resume them.
  struct Hung {
    int pidfd = -1;
    std::optional<std::chrono::steady_clock::time_point> resume_at;
  };
  std::map<pid_t, Hung> hung_ ABSL_GUARDED_BY(mu_);
  // Link delays (itsadm fault delay), one change at a time: the run
  // directory's link-delays.toml and the calls that tell the running agates
  // (common/link_delays.h).
  absl::Mutex delay_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  LinkDelays delays_ ABSL_GUARDED_BY(delay_mu_);
  // Sets the agate->r3 delay of `instances`: in the file, which agates
  // started later read, and in the running agates at once. Returns what was
  // done, for the fault's reply.
  absl::StatusOr<std::string> SetR3Delay(
      const std::vector<std::string>& instances, double seconds)
      ABSL_LOCKS_EXCLUDED(mu_, delay_mu_);
  std::unique_ptr<AdminService> admin_service_;
  std::unique_ptr<GrpcServer> admin_server_;
  std::string admin_address_;
  std::string url_;
  std::thread supervisor_;
  int wake_fd_ = -1;  // eventfd: wakes the supervisor to stop
  // With ephemeral ports: the ports of the processes this launcher restarts
  // on their addresses, held so that nothing else takes them (ReservePort).
  std::vector<int> reserved_ports_;
  std::atomic<bool> stop_supervisor_{false};
  bool stopped_ = false;
  int run_dir_lock_ = -1;  // held while the cluster runs (LockRunDir)
};

}  // namespace its::launcher
