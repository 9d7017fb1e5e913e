#include "mapping_manager/spawner.h"

#include <filesystem>

#include "common/log.h"
#include "common/process.h"
#include "common/strings.h"

namespace its::mm {

std::vector<RunningAgate> FindRunningAgates(const std::string& instance,
                                            const std::string& manager_address,
                                            const std::string& config_dir) {
  std::vector<RunningAgate> found;
  for (int pid : ListPids()) {
    if (pid <= 1) continue;
    auto words = ProcessCommandLine(pid);
    if (words.empty() || std::filesystem::path(words[0]).filename() != "agate")
      continue;
    if (CommandLineOption(words, "--instance") != instance ||
        CommandLineOption(words, "--mapping-manager") != manager_address ||
        CommandLineOption(words, "--config") != config_dir) {
      continue;
    }
    RunningAgate a;
    a.pid = pid;
    int64_t incarnation;
    if (!ParseInt(CommandLineOption(words, "--process"), &a.process) ||
        !ParseInt(CommandLineOption(words, "--incarnation"), &incarnation)) {
      continue;
    }
    a.incarnation = static_cast<uint32_t>(incarnation);
    found.push_back(a);
  }
  return found;
}

Spawner ForkExecSpawner(const AgateCommand& cmd,
                        const AgateInstanceConfig& inst) {
  return [cmd, inst](int process, uint32_t incarnation) -> Spawned {
    std::vector<std::string> args = {
        cmd.binary,
        "--config",
        cmd.config_dir,
        "--instance",
        inst.name,
        "--process",
        std::to_string(process),
        "--incarnation",
        std::to_string(incarnation),
        "--max-sessions",
        std::to_string(inst.max_sessions),
        "--work-threads",
        std::to_string(inst.work_threads),
        "--listen",
        cmd.listen_host + ":0",
        "--advertise",
        cmd.advertise_host,
        "--mapping-manager",
        cmd.manager_address,
        "--r3",
        cmd.r3_address,
        "--time-scale",
        fmt::format("{}", cmd.time_scale),
    };
    // No PR_SET_PDEATHSIG: an agate outlives a crash of its manager, whose
    // next run adopts it; one that finds no manager for [agate]
    // orphan_exit_s exits.
    SpawnOptions spawn;
    spawn.argv = std::move(args);
    spawn.stdout_to_stderr = true;  // our stdout carries only our own lines
    auto child = its::Spawn(spawn);
    if (!child.ok()) {
      spdlog::error("{}", child.status().message());
      return Spawned{};
    }
    return *child;
  };
}

}  // namespace its::mm
