// wgate: the ITS WGate, an HTTP/1.1 front end that brokers sessions.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <future>

#include "common/cluster_config.h"
#include "common/grpc_util.h"
#include "common/log.h"
#include "common/process.h"
#include "wgate/http_server.h"
#include "wgate/wgate.h"

int main(int argc, char** argv) {
  CLI::App app{
      "wgate: HTTP front end of the ITS simulator (session brokering, admin, "
      "metrics)"};
  std::string config_dir = "deploy/config", listen, advertise;
  app.add_option("--config", config_dir, "configuration directory")
      ->capture_default_str();
  app.add_option("--listen", listen,
                 "host:port (default: [wgate] listen; port 0 = any)");
  app.add_option("--advertise", advertise,
                 "host others reach this wgate by (absolute DSM Terminator "
                 "URLs may name it with the listen port)");
  CLI11_PARSE(app, argc, argv);
  its::InitLogging("wgate");

  auto config = its::ValueOrExit(its::ClusterConfig::Load(config_dir));
  // The DSM Terminator accepts absolute URLs naming this wgate's address.
  if (!listen.empty()) config.wgate_listen = listen;
  if (!advertise.empty()) {
    if (!its::IsAdvertisableHost(advertise)) {
      spdlog::error(
          "--advertise {}: expected a host name or IPv4 address (A-Z, a-z, "
          "0-9, '.', '-'; at most 64)",
          advertise);
      return 2;
    }
    config.wgate_advertise = its::WithHost(config.wgate_listen, advertise);
  }
  if (config.sched_batch)
    its::UseBatchScheduling();  // before any thread starts
  // The HTTP (Asio) and gRPC threads hand work to each other once per burst;
  // on one CPU a hand-over is a cheap local wake-up that waits for the other
  // thread to yield, so the two behave like one thread (docs/hot-path.md).
  if (config.wgate_one_cpu) {
    int cpu = its::StayOnThisCpu();
    if (cpu >= 0) spdlog::info("HTTP and gRPC threads on CPU {}", cpu);
  }
  // Every connection takes a descriptor: take the hard limit, and say when
  // max_connections cannot be reached (beyond it accept fails and waits).
  if (rlimit nofile{}; ::getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    if (nofile.rlim_cur < nofile.rlim_max) {
      nofile.rlim_cur = nofile.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &nofile);
      ::getrlimit(RLIMIT_NOFILE, &nofile);
    }
    constexpr rlim_t kReserve = 128;  // gRPC, logs, pidfds
    if (nofile.rlim_cur != RLIM_INFINITY &&
        config.http.max_connections + kReserve > nofile.rlim_cur) {
      spdlog::warn(
          "[wgate] max_connections = {} exceeds what the descriptor limit "
          "allows ({} open files, {} kept for the rest): beyond that, "
          "connections wait in the listen queue",
          config.http.max_connections, nofile.rlim_cur, kReserve);
    }
  }
  auto services =
      its::ValueOrExit(its::ServiceCatalog::Load(config_dir + "/services"));
  asio::io_context io(1);
  its::wgate::WGate wgate(config, services, io);
  its::http::Server server(io, config.http,
                           [&](its::http::Request& req, auto respond) {
                             wgate.Handle(req, std::move(respond));
                           });
  std::string bound;
  if (auto s =
          server.Listen(listen.empty() ? config.wgate_listen : listen, &bound);
      !s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }
  wgate.Start();
  spdlog::info("WGate listening on http://{} ({} AGate instances, routing {})",
               bound, config.instances.size(), config.routing);
  its::AnnounceReady("wgate", "http://" + bound);
  its::RunUntilSignal(io, [&] {
    std::promise<void> done;
    asio::post(io, [&] {
      server.Stop();
      wgate.Stop();
      done.set_value();
    });
    done.get_future().wait();
  });
  return 0;
}
