#pragma once

// An AGate process's link to its instance's Mapping Manager, on the logic
// thread: registration, load reports at least once a second, registering
// again after a manager restart, and exiting when orphaned
// (docs/architecture.md §1, §9).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/grpc_loop.h"
#include "proto/its.grpc.pb.h"

namespace its::agate {

// Registration and load reports to the Mapping Manager. A report goes out
// at least once a second (the manager counts a process that misses three as
// unresponsive). When the manager restarts, the next report is refused and
// the process registers again, so the new manager learns it instead of
// starting another. Without any manager for `orphan_exit` the process exits
// (the loop shuts down): nobody else would ever stop it.
class ManagerLink {
 public:
  // `load` gives the process's load report (and starts counting anew);
  // `bound` is the address the wgates reach this process at.
  ManagerLink(GrpcLoop& loop, const std::string& address,
              std::function<proto::LoadReport()> load, int process_number,
              uint32_t incarnation, std::string bound,
              std::chrono::seconds orphan_exit,
              std::string metrics_address = "");

  void Start() { Register(); }
  // Called on the loop each time the process registered.
  void set_registered_hook(std::function<void()> hook) {
    registered_hook_ = std::move(hook);
  }
  // Called on the loop when the manager's answer to a load report says the
  // process is drained (itsadm drain), or no longer is.
  void set_draining_hook(std::function<void(bool)> hook) {
    draining_hook_ = std::move(hook);
  }

 private:
  void Register();
  void Contact() { last_contact_ = std::chrono::steady_clock::now(); }
  // True (and the loop is ending) once no manager was reachable for too long.
  bool Orphaned();
  void Report();
  void After(int ms, std::function<void()> fn) {
    timer_.Arm(std::chrono::milliseconds(ms), std::move(fn));
  }

  GrpcLoop& loop_;
  std::unique_ptr<proto::MappingManager::Stub> stub_;
  std::function<proto::LoadReport()> load_;
  GrpcLoop::Timer timer_;
  proto::RegisterRequest request_;
  proto::LoadReport last_;
  int quiet_ticks_ = 0;
  std::chrono::seconds orphan_exit_;
  std::chrono::steady_clock::time_point last_contact_;
  bool registered_once_ = false;
  std::function<void()> registered_hook_;
  std::function<void(bool)> draining_hook_;
  bool draining_ = false;
  int failed_registrations_ = 0;
};

}  // namespace its::agate
