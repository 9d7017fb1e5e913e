#pragma once

// How the Mapping Manager starts AGate processes (fork/exec through
// common/spawn) and finds those an earlier run of it started.

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "common/cluster_config.h"
#include "common/spawn.h"

namespace its::mm {

// Starts AGate process `process` of the instance; pid -1 if it could not.
// Tests may replace it.
using Spawner = std::function<Spawned(int process, uint32_t incarnation)>;

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

// Starts `agate` children with fork/exec. They are not tied to the manager
// (no PR_SET_PDEATHSIG): an agate outlives a crash of its manager, whose next
// run adopts it.
struct AgateCommand {
  std::string binary;  // path of the agate executable
  std::string config_dir;
  std::string listen_host;     // agates bind <listen_host>:0
  std::string advertise_host;  // and register <advertise_host>:<their port>
  std::string manager_address;
  std::string r3_address;
  double time_scale = 1.0;
};
Spawner ForkExecSpawner(const AgateCommand& command,
                        const AgateInstanceConfig& instance);

}  // namespace its::mm
