// agate: one AGate process. Started by its instance's Mapping Manager.
// Flags, configuration and wiring only: the logic is in agate_lib.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "agate/agate_metrics.h"
#include "agate/agate_server.h"
#include "agate/link_delay_watch.h"
#include "agate/manager_link.h"
#include "common/cluster_config.h"
#include "common/grpc_loop.h"
#include "common/grpc_util.h"
#include "common/link_delays.h"
#include "common/log.h"
#include "common/metrics_http.h"
#include "common/process.h"

int main(int argc, char** argv) {
  CLI::App app{
      "agate: one AGate process (session contexts, dialog steps to R/3)"};
  std::string config_dir = "deploy/config", listen = "127.0.0.1:0", manager, r3,
              advertise, metrics_listen;
  its::agate::AGateOptions options;
  double time_scale = 0;
  app.add_option("--config", config_dir, "configuration directory")
      ->capture_default_str();
  app.add_option("--instance", options.instance, "AGate instance name")
      ->required();
  app.add_option("--process", options.process, "process number in the instance")
      ->required();
  app.add_option("--incarnation", options.incarnation,
                 "start count of this process slot");
  app.add_option("--max-sessions", options.max_sessions, "MaxSessions")
      ->capture_default_str();
  app.add_option("--work-threads", options.work_threads, "MaxWorkThreads")
      ->capture_default_str();
  app.add_option("--listen", listen, "host:port for the wgates (port 0 = any)")
      ->capture_default_str();
  app.add_option("--advertise", advertise,
                 "host the wgates dial, registered with the bound port and "
                 "carried in the GUSID (default: the --listen host)");
  app.add_option("--metrics-listen", metrics_listen,
                 "host:port of the metrics endpoint (default: the host of "
                 "--listen, port 0)");
  app.add_option("--mapping-manager", manager, "address of the Mapping Manager")
      ->required();
  app.add_option("--r3", r3, "address of the R/3 stub (default: cluster.toml)");
  app.add_option("--time-scale", time_scale,
                 "simulated seconds per real second");
  app.add_option("--access-log", options.access_log,
                 "ITS access.log of the instance (default: "
                 "<log_dir>/<instance>/access.log)");
  CLI11_PARSE(app, argc, argv);
  its::InitLogging(its::Cat("agate ", options.instance, "/", options.process));

  // The host the wgates reach this process by: registered with the bound
  // port and the GUSID's host part (docs/architecture.md §3).
  std::string listen_host;
  int listen_port;
  if (auto s = its::ParseHostPort(listen, &listen_host, &listen_port);
      !s.ok()) {
    spdlog::error("--listen: {}", s.message());
    return 2;
  }
  if (advertise.empty()) {
    if (its::IsWildcardHost(listen_host)) {
      spdlog::error(
          "--listen {} listens on every address: give --advertise HOST, the "
          "address the wgates dial",
          listen);
      return 2;
    }
    advertise = listen_host;
  }
  if (!its::IsAdvertisableHost(advertise)) {
    spdlog::error(
        "--advertise {}: expected a host name or IPv4 address (A-Z, a-z, 0-9, "
        "'.', '-'; at most 64)",
        advertise);
    return 2;
  }
  options.host = advertise;

  auto config = its::ValueOrExit(its::ClusterConfig::Load(config_dir));
  if (config.sched_batch)
    its::UseBatchScheduling();  // before any thread starts
  auto services =
      its::ValueOrExit(its::ServiceCatalog::Load(config_dir + "/services"));
  if (options.access_log.empty()) {
    std::string dir = config.LogDir() + "/" + options.instance;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    options.access_log = dir + "/access.log";
  }
  options.exit_url_hosts = config.exit_url_hosts;
  its::ScaledClock clock(time_scale > 0 ? time_scale : config.time_scale,
                         config.sim_epoch);
  // A real-time setting, kept in simulated time like ~timeout.
  options.r3_pool_keep = static_cast<its::SimMicros>(
      config.agate_r3_pool_keep_s * clock.time_scale() * its::kSimSecond);
  options.unclaimed_grace = static_cast<its::SimMicros>(
      config.agate_unclaimed_grace_s * clock.time_scale() * its::kSimSecond);
  its::GrpcLoop loop;
  its::agate::R3Client r3client(
      loop, r3.empty() ? config.r3_advertise : r3, its::agate::R3Failure,
      std::chrono::milliseconds(
          static_cast<int64_t>(config.agate_r3_timeout_s * 1000)));
  its::agate::StreamR3Link r3link(r3client);
  its::agate::AGateProcess process(
      options, clock,
      [&loop](std::function<void()> fn) { loop.Defer(std::move(fn)); },
      services, r3link);
  r3client.set_batch_hook(
      [&](its::proto::R3Down& down) { process.R3Ended(down); });
  r3client.set_closed_hook([&] { process.R3ConnectionLost(); });
  r3client.set_late_hook(
      [&](its::proto::R3Response& resp) { process.LateR3Answer(resp); });
  its::agate::AGateServer agate_server(process, loop);
  // Fault injection (itsadm fault delay): from the launcher's call, and from
  // the run directory's file for a delay set before this process ran.
  its::agate::LinkDelayWatch link_delay(
      its::LinkDelaysPath(config_dir), options.instance, [&r3link](double s) {
        r3link.set_delay(
            std::chrono::microseconds(static_cast<int64_t>(s * 1'000'000)));
      });
  link_delay.Poll();
  auto link_delay_polled = std::chrono::steady_clock::now();
  agate_server.set_link_delay_handler(
      [&link_delay](double seconds, uint64_t generation) {
        link_delay.Offer(seconds, generation);
      });
  // Metrics: on the host the wgates reach the process at, any free port
  // (its Mapping Manager lists it in its /sd document).
  auto registry = std::make_shared<prometheus::Registry>();
  its::agate::AgateMetrics metrics(
      *registry,
      {{"instance", options.instance},
       {"process", std::to_string(options.process)},
       {"pid", std::to_string(getpid())}},
      options.max_sessions, options.work_threads, options.incarnation);
  process.set_metrics(&metrics);
  if (metrics_listen.empty()) {
    std::string host;
    int port;
    metrics_listen = its::ParseHostPort(listen, &host, &port).ok()
                         ? host + ":0"
                         : "127.0.0.1:0";
  }
  // Everything that can fail before the gRPC server starts: once it has
  // requests queued, leaving main without running the loop aborts in gRPC.
  auto metrics_server = its::MetricsHttpServer::Start(metrics_listen, registry);
  if (!metrics_server.ok()) {
    spdlog::error("{}", metrics_server.status().message());
    return 1;
  }
  std::string bound;
  auto server =
      its::StartGrpcServer(listen, {agate_server.service()}, &bound, &loop);
  if (!server.ok()) {
    spdlog::error("{}", server.status().message());
    return 1;
  }
  agate_server.Start();
  // Others dial the advertised host at the port actually bound; the metrics
  // endpoint too, unless it was bound to one address of its own.
  std::string reachable = its::WithHost(bound, advertise);
  const std::string metrics_address =
      its::DialableAddress((*metrics_server)->address(), advertise);
  spdlog::info(
      "AGate process {}/{} (incarnation {}) listening on {}, registered as {}, "
      "metrics on {}",
      options.instance, options.process, options.incarnation, bound, reachable,
      metrics_address);
  its::agate::ManagerLink link(
      loop, manager, [&process] { return process.Load(); }, options.process,
      options.incarnation, reachable,
      std::chrono::seconds(static_cast<int64_t>(config.agate_orphan_exit_s)),
      metrics_address);
  // Healthy once its Mapping Manager knows it (before that no session can
  // come to it) and while it is not drained (itsadm drain: it gets no new
  // session; docs/architecture.md §7).
  bool draining = false;
  link.set_registered_hook(
      [&server, &draining] { (*server)->SetServing(!draining); });
  link.set_draining_hook([&](bool drained) {
    draining = drained;
    metrics.set_draining(drained);
    (*server)->SetServing(!drained);
  });
  link.Start();

  // Expiry: one tick per simulated second (at most every 5 ms real, at least
  // every 250 ms so the access log is never older than that).
  its::GrpcLoop::Timer tick(loop);
  auto period = std::max(std::chrono::microseconds(5000),
                         std::min(std::chrono::microseconds(250'000),
                                  clock.RealDuration(its::kSimSecond)));
  // A tick that left sessions due (a burst of expiries, spread over turns)
  // is followed by the next after 1 ms, not the period: the loop serves what
  // else is ready (deferred stream writes run only when it is idle) and the
  // burst still ends at up to 512 sessions a millisecond.
  std::function<void(std::chrono::microseconds)> arm =
      [&](std::chrono::microseconds after) {
        tick.Arm(after, [&] {
          // At most ten times a second: ticks come every millisecond while
          // a burst of expiries lasts.
          auto now = std::chrono::steady_clock::now();
          if (now - link_delay_polled >= std::chrono::milliseconds(100)) {
            link_delay_polled = now;
            link_delay.Poll();
          }
          arm(process.Tick() ? period : std::chrono::microseconds(1000));
        });
      };
  arm(period);
  its::AnnounceReady("agate", reachable, metrics_address);
  its::RunUntilSignal(loop, [&] {
    (*server)->SetServing(false);
    (*server)->Shutdown(its::DeadlineIn(500));
  });
  return 0;
}
