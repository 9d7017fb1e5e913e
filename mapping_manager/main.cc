// mapping_manager: the ITS Mapping Manager of one AGate instance.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <future>

#include "common/grpc_util.h"
#include "common/log.h"
#include "common/metrics_http.h"
#include "common/process.h"
#include "mapping_manager/manager.h"
#include "mapping_manager/service.h"
#include "mapping_manager/stat_logs.h"

int main(int argc, char** argv) {
  CLI::App app{
      "mapping_manager: starts, watches and assigns the AGate processes of one "
      "instance"};
  std::string config_dir = "deploy/config", instance, listen, agate_binary,
              advertise, metrics_listen;
  double time_scale = 0;
  app.add_option("--config", config_dir, "configuration directory")
      ->capture_default_str();
  app.add_option("--instance", instance,
                 "AGate instance name from cluster.toml (IT1, ...)")
      ->required();
  app.add_option("--listen", listen,
                 "host:port to bind (default: the instance's listen_host and "
                 "the port of its mapping_manager)");
  app.add_option("--advertise", advertise,
                 "host others reach this instance by: its agates register it "
                 "and the GUSID carries it (default: the instance's host)");
  app.add_option("--metrics-listen", metrics_listen,
                 "host:port of /metrics and /sd (default: metrics_listen of "
                 "the instance)");
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
  its::GrpcLoop loop;
  std::string host;
  int port;
  std::string addr =
      listen.empty() ? its::WithHost(inst->mapping_manager, inst->listen_host)
                     : listen;
  if (auto s = its::ParseHostPort(addr, &host, &port); !s.ok()) {
    spdlog::error("--listen: {}", s.message());
    return 2;
  }
  if (advertise.empty()) {
    if (its::IsWildcardHost(host) && !inst->host_configured) {
      spdlog::error(
          "--listen {} listens on every address: give --advertise HOST or "
          "set host of [[agate_instance]] {} in {}",
          addr, inst->name, config.file);
      return 2;
    }
    advertise = inst->host;
  }
  if (!its::IsAdvertisableHost(advertise)) {
    spdlog::error(
        "--advertise {}: expected a host name or IPv4 address (A-Z, a-z, 0-9, "
        "'.', '-'; at most 64)",
        advertise);
    return 2;
  }
  its::mm::AgateCommand command;
  command.binary =
      agate_binary.empty() ? its::ExecutableDir() + "/agate" : agate_binary;
  command.config_dir = config_dir;
  command.listen_host = host;
  command.advertise_host = advertise;
  command.r3_address = config.r3_advertise;
  command.time_scale = time_scale > 0 ? time_scale : config.time_scale;
  its::mm::LivenessLimits liveness;
  liveness.restart_after = std::chrono::milliseconds(
      static_cast<int64_t>(inst->unresponsive_restart_s * 1000));
  // Past the wgate's step timeout a start cannot reach the agate any more.
  liveness.assignment_lost_after = std::chrono::milliseconds(
      static_cast<int64_t>(config.wgate_step_timeout_s * 1000) + 5000);
  // The spawner needs the bound address, which the server learns: it reads
  // `command` when it starts an agate, after the server started.
  its::mm::MappingManager manager(
      *inst, loop,
      [&command, inst](int process, uint32_t incarnation) {
        return its::mm::ForkExecSpawner(command, *inst)(process, incarnation);
      },
      config.supervisor, liveness);
  its::mm::MappingManagerService service(manager, loop);
  // Metrics and the http_sd document of the instance's agates, on their own
  // HTTP endpoint (docs/architecture.md §7). Everything that can fail comes
  // before the gRPC server starts: once it has requests queued, leaving main
  // without running the loop aborts in gRPC.
  auto registry = std::make_shared<prometheus::Registry>();
  its::mm::MmMetrics metrics(*registry, inst->name, inst->max_agates);
  auto metrics_server = its::MetricsHttpServer::Start(
      metrics_listen.empty() ? inst->metrics_listen : metrics_listen, registry,
      {{"/sd", [&metrics] {
          return its::MetricsReply{"application/json", metrics.sd()};
        }}});
  if (!metrics_server.ok()) {
    spdlog::error("{}", metrics_server.status().message());
    return 1;
  }
  std::string bound;
  auto server = its::StartGrpcServer(addr, {service.service()}, &bound, &loop);
  if (!server.ok()) {
    spdlog::error("{}", server.status().message());
    return 1;
  }
  // Its agates run on this host: they dial the bound address, or the
  // advertised host when bound to every address.
  command.manager_address = its::DialableAddress(bound, advertise);
  // Prometheus reaches it at the advertised host when bound to every address.
  const std::string metrics_address =
      its::DialableAddress((*metrics_server)->address(), advertise);
  manager.set_metrics(&metrics);
  // Healthy while it can assign a session: an agate of its is up (the
  // directory goes out after recovery, and on every change).
  int health_listener = -1;
  loop.Post([&] {
    health_listener = manager.AddListener([&server](const auto& d) {
      bool up = false;
      for (const auto& p : d.processes())
        up |= p.state() == its::proto::ProcessInfo::UP && !p.draining();
      (*server)->SetServing(up && !d.draining());
    });
    manager.AddListener([&metrics, &metrics_address](const auto& d) {
      metrics.Directory(d, metrics_address);
    });
  });
  manager.set_identity(command.manager_address, config_dir);
  std::string log_dir = config.LogDir() + "/" + inst->name;
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  manager.set_incarnation_file(log_dir + "/incarnations");
  // Agates outlive a crash of their manager: this run adopts them.
  manager.Adopt(its::mm::FindRunningAgates(inst->name, command.manager_address,
                                           config_dir));
  service.Start();
  loop.Post([&] { manager.Start(); });

  // ITS statistics logs, once a simulated minute (docs/architecture.md §7).
  its::ScaledClock clock(command.time_scale, config.sim_epoch);
  its::mm::StatLogWriter stat_logs(loop, clock, log_dir,
                                   [&manager] { return manager.Directory(); });
  loop.Post([&] { stat_logs.Start(); });
  spdlog::info(
      "Mapping Manager of {} listening on {}, host {}, metrics and /sd on {} "
      "(MinAGates {}, MaxAGates {})",
      inst->name, bound, advertise, metrics_address, inst->min_agates,
      inst->max_agates);
  // The bound address: the launcher restarts it there (and dials it at
  // the instance's host when that is a wildcard).
  its::AnnounceReady("mapping_manager", bound, metrics_address);
  its::RunUntilSignal(loop, [&] {
    // The agates first (SIGTERM, SIGKILL after 2 s: on the loop, by its
    // timers), then the server, while the loop still serves.
    auto stopped = std::make_shared<std::promise<void>>();
    loop.Post([&manager, stopped, &health_listener, &server] {
      manager.RemoveListener(health_listener);
      (*server)->SetServing(false);
      manager.StopAll([stopped] { stopped->set_value(); });
    });
    if (stopped->get_future().wait_for(std::chrono::seconds(10)) !=
        std::future_status::ready) {
      spdlog::error("the AGate processes did not stop in time");
    }
    (*server)->Shutdown(its::DeadlineIn(500));
  });
  return 0;
}
