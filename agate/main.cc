// agate: one AGate process. Started by its instance's Mapping Manager.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "agate/agate_server.h"
#include "common/cluster_config.h"
#include "common/grpc_loop.h"
#include "common/grpc_util.h"
#include "common/log.h"
#include "common/process.h"

namespace {

// Registration and load reports to the Mapping Manager, on the logic thread.
// A report goes out at least once a second (the manager counts a process
// that misses three as unresponsive). When the manager restarts, the next
// report is refused and the process registers again, so the new manager
// learns it instead of starting another. Without any manager for
// `orphan_exit` the process exits: nobody else would ever stop it.
class ManagerLink {
 public:
  ManagerLink(its::GrpcLoop& loop, const std::string& address,
              its::agate::AGateProcess& process, int process_number,
              uint32_t incarnation, std::string bound,
              std::chrono::seconds orphan_exit)
      : loop_(loop),
        stub_(its::proto::MappingManager::NewStub(its::MakeChannel(address))),
        process_(process),
        timer_(loop),
        orphan_exit_(orphan_exit),
        last_contact_(std::chrono::steady_clock::now()) {
    request_.set_process(process_number);
    request_.set_pid(getpid());
    request_.set_address(std::move(bound));
    request_.set_incarnation(incarnation);
  }

  void Start() { Register(); }

 private:
  void Register() {
    its::CallUnary<its::proto::Empty>(
        loop_, 2000,
        [this](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
          return stub_->AsyncRegister(ctx, request_, cq);
        },
        [this](const grpc::Status& status, its::proto::Empty&) {
          if (!status.ok()) {
            if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
              Contact();  // there, but stopped or slow
            if (registered_once_ || ++failed_registrations_ % 25 == 1) {
              spdlog::warn("registration with the Mapping Manager failed: {}",
                           status.error_message());
            }
            if (!Orphaned()) After(200, [this] { Register(); });
            return;
          }
          Contact();
          spdlog::info("registered with the Mapping Manager");
          registered_once_ = true;
          last_ = its::proto::LoadReport();  // the next report goes at once
          Report();
        });
  }

  void Contact() { last_contact_ = std::chrono::steady_clock::now(); }

  // True (and the loop is ending) once no manager was reachable for too long.
  bool Orphaned() {
    if (orphan_exit_.count() == 0) return false;
    if (std::chrono::steady_clock::now() - last_contact_ < orphan_exit_)
      return false;
    spdlog::error(
        "no Mapping Manager reachable for {} s: exiting, so that no orphaned "
        "AGate process stays behind",
        orphan_exit_.count());
    loop_.Shutdown();
    return true;
  }

  void Report() {
    its::proto::LoadReport load = process_.Load();
    bool changed = load.sessions() != last_.sessions() ||
                   load.busy_threads() != last_.busy_threads() ||
                   load.requests() != last_.requests() ||
                   load.starts() != last_.starts();
    if (!changed && ++quiet_ticks_ < 4) {
      After(250, [this] { Report(); });
      return;
    }
    quiet_ticks_ = 0;
    last_ = load;
    its::CallUnary<its::proto::Empty>(
        loop_, 2000,
        [this, &load](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
          return stub_->AsyncReportLoad(ctx, load, cq);
        },
        [this](const grpc::Status& status, its::proto::Empty&) {
          // A manager that is there but slow or stopped (a deadline, not a
          // refused connection) is no reason to give up on it.
          if (status.ok() ||
              status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
            Contact();
          }
          if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
            Contact();  // a manager answered: it restarted and forgot us
            After(50, [this] { Register(); });
            return;
          }
          if (!status.ok() && Orphaned()) return;
          // After a failure the next report goes at once (changed or not).
          if (!status.ok()) last_ = its::proto::LoadReport();
          After(250, [this] { Report(); });
        });
  }

  void After(int ms, std::function<void()> fn) {
    timer_.Arm(std::chrono::milliseconds(ms), std::move(fn));
  }

  its::GrpcLoop& loop_;
  std::unique_ptr<its::proto::MappingManager::Stub> stub_;
  its::agate::AGateProcess& process_;
  its::GrpcLoop::Timer timer_;
  its::proto::RegisterRequest request_;
  its::proto::LoadReport last_;
  int quiet_ticks_ = 0;
  std::chrono::seconds orphan_exit_;
  std::chrono::steady_clock::time_point last_contact_;
  bool registered_once_ = false;
  int failed_registrations_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "agate: one AGate process (session contexts, dialog steps to R/3)"};
  std::string config_dir = "deploy/config", listen = "127.0.0.1:0", manager, r3;
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
  char host[65] = "localhost";
  gethostname(host, sizeof host - 1);
  options.host = host;
  for (char& c : options.host) {
    if (!its::IsAlnum(c) && c != '.' && c != '-') c = '-';
  }
  if (options.host.empty() || options.host.size() > 64)
    options.host = "localhost";

  its::ScaledClock clock(time_scale > 0 ? time_scale : config.time_scale);
  its::GrpcLoop loop;
  its::agate::R3Client r3client(
      loop, r3.empty() ? config.r3_listen : r3, its::agate::R3Failure,
      std::chrono::milliseconds(
          static_cast<int64_t>(config.agate_r3_timeout_s * 1000)));
  its::agate::StreamR3Link r3link(r3client, loop);
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
  agate_server.set_link_delay_handler([&r3link](double seconds) {
    r3link.set_delay(
        std::chrono::microseconds(static_cast<int64_t>(seconds * 1'000'000)));
  });
  std::string bound;
  auto server =
      its::StartGrpcServer(listen, {agate_server.service()}, &bound, &loop);
  if (!server.ok()) {
    spdlog::error("{}", server.status().message());
    return 1;
  }
  agate_server.Start();
  spdlog::info("AGate process {}/{} (incarnation {}) listening on {}",
               options.instance, options.process, options.incarnation, bound);
  ManagerLink link(
      loop, manager, process, options.process, options.incarnation, bound,
      std::chrono::seconds(static_cast<int64_t>(config.agate_orphan_exit_s)));
  link.Start();

  // Expiry: one tick per simulated second (at most every 5 ms real, at least
  // every 250 ms so the access log is never older than that).
  its::GrpcLoop::Timer tick(loop);
  auto period = std::max(std::chrono::microseconds(5000),
                         std::min(std::chrono::microseconds(250'000),
                                  clock.RealDuration(its::kSimSecond)));
  std::function<void()> arm = [&] {
    tick.Arm(period, [&] {
      process.Tick();
      arm();
    });
  };
  arm();
  its::AnnounceReady("agate", bound);
  its::RunUntilSignal(loop, [&] { (*server)->Shutdown(its::DeadlineIn(500)); });
  return 0;
}
