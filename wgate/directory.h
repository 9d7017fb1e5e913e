#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cluster_config.h"
#include "common/gusid.h"
#include "common/its_protocol.h"
#include "proto/its.pb.h"

namespace its::wgate {

// The wgate's picture of the cluster: the last process directory each
// Mapping Manager pushed, and whether that manager is speaking. Pure state
// and decisions, no I/O: the wgate's Asio thread owns it and feeds it.
class ProcessDirectory {
 public:
  using Clock = std::chrono::steady_clock;
  // A Mapping Manager sends its directory at least once a second; one that
  // was silent this long takes no new sessions until it speaks again.
  static constexpr auto kManagerSilence = std::chrono::seconds(3);

  struct Instance {
    const AgateInstanceConfig* config = nullptr;
    // The last directory the Mapping Manager sent. Kept when the manager
    // goes away: its agates keep serving their sessions meanwhile.
    proto::Directory directory;
    Clock::time_point last_directory;
    bool manager_ok = false;
    bool has_directory = false;  // one came since this wgate started
  };

  explicit ProcessDirectory(const std::vector<AgateInstanceConfig>& instances);

  const std::vector<Instance>& instances() const { return instances_; }
  const Instance& instance(size_t index) const { return instances_[index]; }
  // The instance named `name`, or nullptr.
  const Instance* Find(const std::string& name) const;

  // A directory arrived from instance `index`'s manager. Returns true when
  // the manager had been unreachable or silent (it answers again).
  bool Update(size_t index, proto::Directory& directory, Clock::time_point now);
  // The manager's stream ended: no new sessions go there.
  // Returns true if it had been reachable.
  bool ManagerGone(size_t index);
  // Managers silent since kManagerSilence before `now` are marked so; their
  // names are returned (each once, when it falls silent).
  std::vector<std::string> CheckSilence(Clock::time_point now);

  // The process that owns session `id` (by instance and process number), or
  // nullptr if no directory lists it.
  const proto::ProcessInfo* Owner(const Gusid& id) const;
  // A random live process of any instance (routing "naive"), or nullptr.
  const proto::ProcessInfo* AnyLiveProcess(std::mt19937_64& rng) const;

  // Step 1 of session establishment: the instances to ask for a process, in
  // order. First one drawn at random weighted by free capacity (free session
  // slots of live processes plus what the processes it may still start
  // would hold), then the other reachable ones, largest free capacity first.
  // Instances whose manager is not speaking are left out.
  std::vector<size_t> InstanceOrder(std::mt19937_64& rng) const;
  // Instance `index`'s free capacity as step 1 weighs it (0 while its
  // manager is not speaking).
  double FreeCapacity(size_t index) const;

  // Step 1 for a start with ~agate_routing: the named instance, never
  // another. NotFound: no such instance; InvalidArgument: a process number
  // beyond its max_agates (both the link's fault); Unavailable: its Mapping
  // Manager is not speaking. Each message is a sentence for the page.
  absl::StatusOr<size_t> RoutedInstance(const AgateRouting& routing) const;

  // Some instance can take a new session. `degraded` (if given) gets one
  // line per thing that is not as it should be.
  bool Healthy(std::string* degraded) const;

  // Addresses of every process in any directory.
  std::unordered_set<std::string> Addresses() const;
  // How many processes the cluster may run at once.
  size_t MostProcesses() const;

 private:
  std::vector<Instance> instances_;
};

}  // namespace its::wgate
