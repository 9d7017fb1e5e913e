#pragma once

#include <sys/types.h>

#include <asio.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/cluster_config.h"
#include "common/restart_policy.h"
#include "mapping_manager/assignment.h"
#include "mapping_manager/liveness.h"
#include "proto/its.grpc.pb.h"

namespace its::mm {

// How the Mapping Manager starts an AGate process; returns its PID or -1.
// Tests may replace it.
using Spawner = std::function<pid_t(int process, uint32_t incarnation)>;

// An AGate process of this instance that outlived an earlier run of its
// Mapping Manager (found in /proc by its command line).
struct RunningAgate {
  pid_t pid = 0;
  int process = 0;
  uint32_t incarnation = 0;
};
// The agate processes whose command line names `instance`, the manager at
// `manager_address` and the configuration directory `config_dir`.
std::vector<RunningAgate> FindRunningAgates(const std::string& instance,
                                            const std::string& manager_address,
                                            const std::string& config_dir);

// One AGate instance's Mapping Manager: starts MinAGates agate processes,
// restarts those that die (with back-off; not after too many crashes),
// scales up to MaxAGates, assigns new sessions, publishes the process
// directory (on every change and at least once a second), and marks
// processes whose load reports stop as unresponsive (no new sessions; killed
// and restarted after unresponsive_restart_s). Agates outlive their manager:
// a restarted manager adopts them (Adopt) instead of starting duplicates.
// Runs on the logic thread `io`.
class MappingManager {
 public:
  using AssignDone =
      std::function<void(const grpc::Status&, const proto::ProcessInfo&)>;
  using DirectoryListener = std::function<void(const proto::Directory&)>;

  MappingManager(const AgateInstanceConfig& config, asio::io_context& io,
                 Spawner spawner, SupervisorConfig supervisor = {},
                 LivenessLimits liveness = {});

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
  void Start();    // starts MinAGates processes (those not adopted)
  void StopAll();  // SIGTERM to every agate, SIGKILL after 2 s; blocks

  void Assign(AssignDone done);
  grpc::Status Register(const proto::RegisterRequest& req);
  grpc::Status ReportLoad(const proto::LoadReport& report);
  // A child exited (from SIGCHLD handling); status -1: an adopted process
  // ended (status unknown).
  void ChildExited(pid_t pid, int status);
  // Once a second: liveness of every process, and the directory heartbeat.
  void Tick();

  proto::Directory Directory() const;
  // Listeners get every new directory (on the logic thread). Returns an id.
  int AddListener(DirectoryListener listener);
  void RemoveListener(int id);

 private:
  struct Slot {
    proto::ProcessInfo::State state = proto::ProcessInfo::DOWN;
    bool in_use = false;  // part of the running set (started at least once)
    pid_t pid = 0;
    uint32_t incarnation = 0;
    std::string address;
    // Sessions = the last report plus the assignments the agate had not yet
    // received when it reported, so reports never hide sessions in flight.
    int reported_sessions = 0;
    uint64_t assigned = 0;  // assignments made to this process
    uint64_t reported_starts =
        0;  // starts the agate had received at its last report
    int sessions() const {
      return reported_sessions +
             static_cast<int>(
                 assigned > reported_starts ? assigned - reported_starts : 0);
    }
    int busy_threads = 0;
    double turnaround_s = 0;
    uint64_t requests = 0;
    std::chrono::steady_clock::time_point last_report;
    bool killed_unresponsive = false;
    // Adopted from an earlier run: not our child; its end shows on a pidfd.
    bool adopted = false;
    std::shared_ptr<asio::posix::stream_descriptor> pidfd;
    std::optional<RestartPolicy> restart;
  };
  struct Waiter {
    AssignDone done;
    std::chrono::steady_clock::time_point deadline;
  };

  double Weight(const Slot& s) const;
  void StartSlot(int index);
  void WatchAdopted(int index);
  void Signal(Slot& s, int sig);
  void EndRecovery();
  void ArmTick();
  void TryAssignWaiting();
  bool AssignNow(AssignDone& done, bool may_wait);
  void Publish();
  proto::ProcessInfo Info(int index) const;

  AgateInstanceConfig config_;
  asio::io_context& io_;
  Spawner spawner_;
  std::vector<Slot> slots_;
  std::deque<Waiter> waiting_;
  asio::steady_timer waiter_timer_;
  uint64_t version_ = 0;
  int next_listener_ = 1;
  std::vector<std::pair<int, DirectoryListener>> listeners_;
  bool stopping_ = false;
  SupervisorConfig supervisor_;
  LivenessLimits liveness_;
  asio::steady_timer tick_timer_;
  bool recovering_ = false;  // adopted processes have not all registered
  std::chrono::steady_clock::time_point last_tick_;
  asio::steady_timer recovery_timer_;
  std::string address_;
  std::string config_dir_;
};

// gRPC face: unary control calls plus the server-streaming directory.
class MappingManagerService final
    : public proto::MappingManager::CallbackService {
 public:
  MappingManagerService(MappingManager& manager, asio::io_context& io)
      : manager_(manager), io_(io) {}

  grpc::ServerUnaryReactor* Assign(grpc::CallbackServerContext* context,
                                   const proto::AssignRequest* request,
                                   proto::AssignReply* reply) override;
  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* context,
                                     const proto::RegisterRequest* request,
                                     proto::Empty* reply) override;
  grpc::ServerUnaryReactor* ReportLoad(grpc::CallbackServerContext* context,
                                       const proto::LoadReport* request,
                                       proto::Empty* reply) override;
  grpc::ServerUnaryReactor* GetDirectory(grpc::CallbackServerContext* context,
                                         const proto::Empty* request,
                                         proto::Directory* reply) override;
  grpc::ServerWriteReactor<proto::Directory>* WatchDirectory(
      grpc::CallbackServerContext* context,
      const proto::Empty* request) override;

 private:
  MappingManager& manager_;
  asio::io_context& io_;
};

// Starts `agate` children with fork/exec; they die with the manager
// (PR_SET_PDEATHSIG).
struct AgateCommand {
  std::string binary;  // path of the agate executable
  std::string config_dir;
  std::string listen_host;  // agates bind <host>:0
  std::string manager_address;
  std::string r3_address;
  double time_scale = 1.0;
};
Spawner ForkExecSpawner(const AgateCommand& command,
                        const AgateInstanceConfig& instance);

}  // namespace its::mm
