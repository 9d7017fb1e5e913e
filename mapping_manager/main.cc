// mapping_manager: the ITS Mapping Manager of one AGate instance.
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <future>

#include "common/grpc_util.h"
#include "common/log.h"
#include "common/process.h"
#include "mapping_manager/manager.h"
#include "mapping_manager/stat_logs.h"

int main(int argc, char** argv) {
  CLI::App app{
      "mapping_manager: starts, watches and assigns the AGate processes of one "
      "instance"};
  std::string config_dir = "deploy/config", instance, listen, agate_binary;
  double time_scale = 0;
  app.add_option("--config", config_dir, "configuration directory")
      ->capture_default_str();
  app.add_option("--instance", instance,
                 "AGate instance name from cluster.toml (IT1, ...)")
      ->required();
  app.add_option("--listen", listen,
                 "host:port (default: mapping_manager of the instance)");
  app.add_option("--time-scale", time_scale,
                 "simulated seconds per real second");
  app.add_option("--agate", agate_binary,
                 "agate executable (default: beside this program)");
  CLI11_PARSE(app, argc, argv);
  its::InitLogging("mapping_manager " + instance);

  auto config = its::ValueOrExit(its::ClusterConfig::Load(config_dir));
  const its::AgateInstanceConfig* inst = config.FindInstance(instance);
  if (!inst) {
    spdlog::error("{}: no [[agate_instance]] named {}", config.file, instance);
    return 2;
  }
  asio::io_context io(1);
  // SIGCHLD must be watched before the first child starts.
  asio::signal_set children(io, SIGCHLD);

  std::string bound;
  its::mm::MappingManager* manager_ptr = nullptr;
  its::mm::AgateCommand command;
  std::unique_ptr<its::mm::MappingManager> manager;
  // The service needs the manager, the manager's spawner needs the bound
  // address: start the server first with a manager created right after.
  std::string host;
  int port;
  std::string addr = listen.empty() ? inst->mapping_manager : listen;
  if (auto s = its::ParseHostPort(addr, &host, &port); !s.ok()) {
    spdlog::error("{}", s.message());
    return 2;
  }
  command.binary =
      agate_binary.empty() ? its::ExecutableDir() + "/agate" : agate_binary;
  command.config_dir = config_dir;
  command.listen_host = host;
  command.r3_address = config.r3_listen;
  command.time_scale = time_scale > 0 ? time_scale : config.time_scale;
  its::mm::LivenessLimits liveness;
  liveness.restart_after = std::chrono::milliseconds(
      static_cast<int64_t>(inst->unresponsive_restart_s * 1000));
  manager = std::make_unique<its::mm::MappingManager>(
      *inst, io,
      [&command, inst](int process, uint32_t incarnation) {
        return its::mm::ForkExecSpawner(command, *inst)(process, incarnation);
      },
      config.supervisor, liveness);
  manager_ptr = manager.get();
  its::mm::MappingManagerService service(*manager_ptr, io);
  auto server = its::StartGrpcServer(addr, {&service}, &bound);
  if (!server.ok()) {
    spdlog::error("{}", server.status().message());
    return 1;
  }
  command.manager_address = bound;
  manager->set_identity(bound, config_dir);
  // Agates outlive a crash of their manager: this run adopts them.
  manager->Adopt(its::mm::FindRunningAgates(inst->name, bound, config_dir));

  std::function<void()> reap = [&] {
    children.async_wait([&](const asio::error_code& ec, int) {
      if (ec) return;
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        manager->ChildExited(pid, status);
      reap();
    });
  };
  reap();
  asio::post(io, [&] { manager->Start(); });

  // ITS statistics logs, once a simulated minute (docs/architecture.md §7).
  its::ScaledClock clock(command.time_scale);
  std::string log_dir = config.LogDir() + "/" + inst->name;
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  its::mm::StatLogs stat_logs;
  asio::steady_timer minute(io);
  auto last_real = std::chrono::steady_clock::now();
  std::function<void()> arm_minute = [&] {
    minute.expires_after(std::max(std::chrono::microseconds(1'000'000),
                                  clock.RealDuration(its::kSimMinute)));
    minute.async_wait([&](const asio::error_code& e) {
      if (e) return;
      its::proto::Directory dir = manager->Directory();
      std::map<pid_t, its::mm::ProcessUsage> usage;
      for (const auto& p : dir.processes()) {
        if (p.state() == its::proto::ProcessInfo::UP)
          usage[p.pid()] = its::mm::ReadUsage(p.pid());
      }
      auto now_real = std::chrono::steady_clock::now();
      double real_s =
          std::chrono::duration<double>(now_real - last_real).count();
      last_real = now_real;
      std::ofstream(log_dir + "/loadstat.log", std::ios::app)
          << stat_logs.Loadstat(dir, clock.Now(), 60.0);
      std::ofstream(log_dir + "/performance.log", std::ios::app)
          << stat_logs.Performance(dir, clock.Now(), 60.0, usage, real_s);
      arm_minute();
    });
  };
  arm_minute();
  spdlog::info(
      "Mapping Manager of {} listening on {} (MinAGates {}, MaxAGates {})",
      inst->name, bound, inst->min_agates, inst->max_agates);
  its::AnnounceReady("mapping_manager", bound);
  its::RunUntilSignal(io, [&] {
    std::promise<void> stopped;
    asio::post(io, [&] {
      children.cancel();
      manager->StopAll();
      stopped.set_value();
    });
    stopped.get_future().wait();
    (*server)->Shutdown(its::DeadlineIn(500));
  });
  return 0;
}
