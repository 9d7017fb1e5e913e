#pragma once

// What the files of the cluster launcher share (cluster_launcher.cc: start
// and stop; cluster_supervisor.cc: restarts; cluster_admin.cc: the admin
// API and faults; cluster_processes.cc: finding the cluster's processes).

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/cluster_launcher.h"
#include "common/restart_policy.h"

namespace its::launcher {

// One process the launcher started, with what it needs to start it again.
struct Cluster::Child {
  Process info;
  std::vector<std::string> args;  // argv; args[0] is the binary's name
  std::string stdout_path;
  bool critical = false;  // the cluster cannot serve without it
  int pidfd = -1;         // readable once the process ended
  std::optional<RestartPolicy> policy;
  std::optional<std::chrono::steady_clock::time_point> restart_at;
  // Set while a restarted process has not announced "ready" yet.
  std::optional<std::chrono::steady_clock::time_point> ready_deadline;
};

// The launcher's admin API: itsadm processes, itsadm fault.
class Cluster::AdminService final : public proto::Cluster::Service {
 public:
  explicit AdminService(Cluster& cluster) : cluster_(cluster) {}
  grpc::Status Fault(grpc::ServerContext*, const proto::FaultRequest* request,
                     proto::FaultReply* reply) override {
    return cluster_.Fault(*request, reply);
  }
  grpc::Status ListProcesses(grpc::ServerContext*, const proto::Empty*,
                             proto::ClusterProcesses* reply) override {
    *reply = cluster_.ListProcesses();
    return grpc::Status::OK;
  }

 private:
  Cluster& cluster_;
};

// True if `pid` runs one of the cluster's programs with `--config run_dir`
// (an itsadm the user runs with the same --config is not one of them).
bool IsOurs(pid_t pid, const std::string& run_dir);

// PIDs of the cluster's processes (IsOurs), also agates whose Mapping
// Manager died.
std::vector<pid_t> ClusterPids(const std::string& run_dir);

// The file in a run directory that its launcher holds locked (LockRunDir).
inline constexpr char kRunDirLock[] = "itscluster.lock";

// Where `message` goes: `options.report`, else standard error.
void ReportTo(const Options& options, const std::string& message);

// Makes `run_dir` this launcher's: an exclusive lock on
// RUN_DIR/itscluster.lock (which gets this process's PID), held while the
// returned descriptor is open. An error names the launcher that holds it.
absl::StatusOr<int> LockRunDir(const std::string& run_dir);

// Stops what an earlier launcher on `run_dir` left running. A launcher
// killed outright (SIGKILL) leaves a Mapping Manager that a hang fault had
// stopped, and its agates: SIGTERM and SIGCONT to each, SIGKILL to those
// still there after `grace_ms`. Returns "mapping_manager IT1 (pid 42)" and
// the like, one per process found. Call it holding the run directory's
// lock (LockRunDir), so that nothing of a running cluster is taken.
std::vector<std::string> StopLeftovers(const std::string& run_dir,
                                       int grace_ms);

// Which agate slot a command line names: the cluster's agate `process` of
// `instance` under the Mapping Manager at `manager` (as the manager itself
// recognizes the agates it adopts).
struct AgateSlot {
  std::string run_dir, instance, manager;
  int process = 0;
};
bool IsAgateOf(pid_t pid, const AgateSlot& slot);
// PIDs of the agates that claim `slot` (for when their Mapping Manager
// cannot say).
std::vector<pid_t> AgatePidsByCommandLine(const AgateSlot& slot);

// The address in `stdout_path`'s "ready <what> <address>" line, if written.
std::optional<std::string> ReadyAddress(const std::string& stdout_path);
// The metrics endpoint that line names ("metrics=<host:port>"), or "".
std::string ReadyMetrics(const std::string& stdout_path);

// `addr` with its port replaced (as given if it has none).
std::string WithPort(const std::string& addr, int port);
// `addr` with port 0 (tests: every listener on an ephemeral port).
std::string WithPort0(const std::string& addr);
// A free port that stays this process's while `fd` is open: bound on every
// IPv4 address with SO_REUSEADDR, not listening. The process given the port
// listens on it beside the reservation (SO_REUSEADDR too; still only one
// can listen). A port nothing is bound to, as a listener's while its process
// restarts, the kernel may meanwhile hand to an outgoing connection as its
// source port, and the restarted process could not listen there again; a
// port something is bound to it does not hand out.
struct ReservedPort {
  int fd = -1;
  int port = 0;
};
absl::StatusOr<ReservedPort> ReservePort();

}  // namespace its::launcher
