#pragma once

// What the files of the cluster launcher share (cluster_launcher.cc: start
// and stop; cluster_supervisor.cc: restarts; cluster_admin.cc: the admin
// API and faults; cluster_processes.cc: finding the cluster's processes).

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

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

// The address in `stdout_path`'s "ready <what> <address>" line, if written.
std::optional<std::string> ReadyAddress(const std::string& stdout_path);
// The metrics endpoint that line names ("metrics=<host:port>"), or "".
std::string ReadyMetrics(const std::string& stdout_path);

// `addr` with port 0 (tests: every listener on an ephemeral port).
std::string WithPort0(const std::string& addr);
// `addr` with a free port of its host that stays this process's while `*fd`
// is open: bound with SO_REUSEADDR, not listening. The process given the
// address listens on it beside the reservation (SO_REUSEADDR too). A port
// bound to nothing, as a listener's is while its process restarts, may be
// handed to any outgoing connection meanwhile (the kernel takes ports for
// those from the range it hands out for port 0), and the restarted process
// could not listen on it again; a reserved port it never hands out.
absl::StatusOr<std::string> ReservePort(const std::string& addr, int* fd);

}  // namespace its::launcher
