// r3_stub: the simulated R/3 application server of the ITS simulator.
#include <CLI/CLI.hpp>

#include "common/cluster_config.h"
#include "common/grpc_util.h"
#include "common/log.h"
#include "common/metrics_http.h"
#include "common/process.h"
#include "common/service_file.h"
#include "r3_stub/r3_files.h"
#include "r3_stub/r3_server.h"

int main(int argc, char** argv) {
  CLI::App app{
      "r3_stub: simulated R/3 application server (users, transactions, SM04, "
      "SM12)"};
  std::string config_dir = "deploy/config";
  std::string listen, advertise, metrics_listen;
  double time_scale = 0;
  app.add_option("--config", config_dir,
                 "configuration directory (cluster.toml, r3/)")
      ->capture_default_str();
  app.add_option("--listen", listen,
                 "host:port to listen on (default: [r3] listen; port 0 = any)");
  app.add_option("--advertise", advertise,
                 "host the agates dial (default: the host of [r3] advertise; "
                 "informative: the agates read cluster.toml)");
  app.add_option("--metrics-listen", metrics_listen,
                 "host:port of /metrics (default: [r3] metrics_listen)");
  app.add_option("--time-scale", time_scale,
                 "simulated seconds per real second (default: cluster.toml)");
  CLI11_PARSE(app, argc, argv);
  its::InitLogging("r3_stub");

  auto config = its::ValueOrExit(its::ClusterConfig::Load(config_dir));
  if (config.sched_batch)
    its::UseBatchScheduling();  // before any thread starts
  auto files = its::ValueOrExit(its::r3::R3Files::Load(config_dir));
  its::ScaledClock clock(time_scale > 0 ? time_scale : config.time_scale,
                         config.sim_epoch);
  its::r3::R3System system(std::move(files.data), std::move(files.profile),
                           std::move(files.timeouts), clock);
  its::GrpcLoop loop;
  its::r3::R3Server r3_server(system, loop, clock);
  auto registry = std::make_shared<prometheus::Registry>();
  its::r3::R3Metrics metrics(*registry);
  r3_server.set_metrics(&metrics);
  // Everything that can fail before the gRPC server starts: once it has
  // requests queued, leaving main without running the loop aborts in gRPC.
  auto metrics_server = its::MetricsHttpServer::Start(
      metrics_listen.empty() ? config.r3_metrics_listen : metrics_listen,
      registry);
  if (!metrics_server.ok()) {
    spdlog::error("{}", metrics_server.status().message());
    return 1;
  }
  std::string bound;
  auto server = its::StartGrpcServer(listen.empty() ? config.r3_listen : listen,
                                     {r3_server.service()}, &bound, &loop);
  if (!server.ok()) {
    spdlog::error("{}", server.status().message());
    return 1;
  }
  // The agates dial [r3] advertise (cluster.toml); --advertise only says
  // which host that should be.
  std::string advertised = advertise.empty()
                               ? config.r3_advertise
                               : its::WithHost(config.r3_advertise, advertise);
  spdlog::info("R/3 stub listening on {}, advertised as {} (time_scale {})",
               bound, advertised, clock.time_scale());
  spdlog::info("R/3 stub metrics on {}", (*metrics_server)->address());
  r3_server.Start();
  (*server)->SetServing(true);
  its::AnnounceReady("r3_stub", bound, (*metrics_server)->address());
  its::RunUntilSignal(loop, [&] {
    (*server)->SetServing(false);
    (*server)->Shutdown(its::DeadlineIn(1000));
  });
  return 0;
}
