// The cluster launcher: starts the cluster's processes in order and stops
// them (the supervisor, the admin API and process discovery are in
// cluster_supervisor.cc, cluster_admin.cc and cluster_processes.cc).
#include "clients/cluster_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_join.h"
#include "clients/cluster_internal.h"
#include "common/cluster_config.h"
#include "common/grpc_util.h"
#include "common/http_client.h"
#include "common/its_protocol.h"
#include "common/line_config.h"
#include "common/process.h"
#include "common/service_file.h"
#include "common/spawn.h"
#include "common/strings.h"
#include "common/toml_parse.h"
#include "r3_stub/r3_files.h"

namespace its::launcher {
namespace fs = std::filesystem;

Cluster::Cluster(Options options) : options_(std::move(options)) {}

std::vector<Cluster::Process> Cluster::processes() const {
  absl::MutexLock l(&mu_);
  std::vector<Process> out;
  for (const auto& c : children_) out.push_back(c->info);
  return out;
}

std::optional<Cluster::Process> Cluster::Find(const std::string& name) const {
  absl::MutexLock l(&mu_);
  for (const auto& c : children_)
    if (c->info.name == name) return c->info;
  return std::nullopt;
}

bool Cluster::WaitRunning(const std::string& name, pid_t not_pid,
                          int timeout_ms) const {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      absl::MutexLock l(&mu_);
      for (const auto& c : children_) {
        if (c->info.name == name && c->info.pid > 0 && c->info.pid != not_pid &&
            !c->ready_deadline) {
          return true;
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

std::string Cluster::failure() const {
  absl::MutexLock l(&mu_);
  return failure_;
}

void ReportTo(const Options& options, const std::string& message) {
  if (options.report) {
    options.report(message);
  } else {
    std::fprintf(stderr, "itscluster: %s\n", message.c_str());
  }
}

void Cluster::Report(const std::string& message) {
  ReportTo(options_, message);
}

absl::Status Cluster::WriteConfig() {
  // Processes that are starting read this file: replace it atomically
  // (write a temporary file, then rename) so nobody reads half of it.
  std::ostringstream text;
  text << "# Working copy written by the cluster launcher; addresses are the "
          "bound ones.\n"
       << config_ << "\n";
  return WriteFileAtomically(options_.run_dir + "/cluster.toml", text.str());
}

absl::Status Cluster::ForkExec(Child& c, bool first) {
  // stdout carries only the "ready" line: a fresh file per start. The log
  // (stderr) of a restarted process continues its predecessor's.
  int out_fd = ::open(c.stdout_path.c_str(),
                      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  // O_APPEND: agates share their manager's log and outlive it, so several
  // processes write it at once; each line lands at the end.
  int err_fd = ::open(
      c.info.log.c_str(),
      O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND | (first ? O_TRUNC : 0), 0644);
  if (out_fd < 0 || err_fd < 0) {
    if (out_fd >= 0) ::close(out_fd);
    if (err_fd >= 0) ::close(err_fd);
    return absl::InternalError(Cat("cannot create ", c.stdout_path));
  }
  SpawnOptions spawn;
  spawn.argv = c.args;
  spawn.argv[0] = Cat(options_.bin_dir, "/", spawn.argv[0]);
  spawn.stdout_fd = out_fd;
  spawn.stderr_fd = err_fd;
  spawn.die_with_parent = true;
  // If this launcher dies without stopping them (SIGKILL, a test binary
  // killed): a wgate or R/3 stub left stopped by a hang fault would never
  // act on SIGTERM, so they get SIGKILL; a Mapping Manager gets SIGTERM, to
  // stop its agates (stopped itself, it and they stay until killed).
  spawn.death_signal =
      c.info.name.rfind("mapping_manager", 0) == 0 ? SIGTERM : SIGKILL;
  auto child = its::Spawn(spawn);
  ::close(out_fd);
  ::close(err_fd);
  if (!child.ok()) return child.status();
  c.info.pid = child->pid;
  c.pidfd = child->pidfd;
  return absl::OkStatus();
}

absl::Status Cluster::WaitReady(Child& c) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(options_.ready_timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto address = ReadyAddress(c.stdout_path)) {
      absl::MutexLock l(&mu_);
      c.info.address = *address;
      c.info.metrics = ReadyMetrics(c.stdout_path);
      return absl::OkStatus();
    }
    int status;
    if (waitpid(c.info.pid, &status, WNOHANG) == c.info.pid) {
      absl::MutexLock l(&mu_);
      c.info.pid = -1;
      auto log = ReadFile(c.info.log);
      return absl::FailedPreconditionError(
          Cat(c.info.name, " exited before it was ready; its log (", c.info.log,
              "):\n", log.ok() ? *log : std::string("(none)")));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::DeadlineExceededError(
      Cat(c.info.name, " did not get ready in time; log: ", c.info.log));
}

absl::Status Cluster::Spawn(const std::string& name,
                            std::vector<std::string> args, bool critical) {
  auto child = std::make_unique<Child>();
  std::string file = name;
  for (char& ch : file)
    if (ch == ' ') ch = '-';
  child->info.name = name;
  child->info.log = Cat(options_.run_dir, "/", file, ".log");
  child->stdout_path = Cat(options_.run_dir, "/", file, ".out");
  child->args = std::move(args);
  child->critical = critical;
  child->policy.emplace(config_parsed_.supervisor);
  Child& c = *child;
  {
    absl::MutexLock l(&mu_);
    children_.push_back(std::move(child));
  }
  if (auto s = ForkExec(c, /*first=*/true); !s.ok()) return s;
  if (auto s = WaitReady(c); !s.ok()) return s;
  // A restart binds the same address, so nobody needs to learn a new one.
  std::string listen = c.info.address;
  if (listen.rfind("http://", 0) == 0) listen = listen.substr(7);
  c.args.push_back("--listen");
  c.args.push_back(listen);
  return absl::OkStatus();
}

namespace {

// "FILE:LINE" of the line of service `service`'s file in `dir` (its name in
// any case, as ServiceCatalog reads it) that sets `param`: the last one, as
// the parser keeps the last; "" if none does.
std::string LineSetting(const std::string& dir, std::string_view service,
                        std::string_view param) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& path = entry.path();
    if (path.extension() != ".srvc" || ToLower(path.stem().string()) != service)
      continue;
    std::ifstream in(path);
    std::string line, found;
    for (int n = 1; std::getline(in, line); ++n) {
      std::string_view t = Trim(line);
      if (t.size() > param.size() &&
          ToLower(t.substr(0, param.size())) == param &&
          (t[param.size()] == ' ' || t[param.size()] == '\t'))
        found = Cat(path.string(), ":", n);
    }
    return found;
  }
  return "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<Cluster>> Cluster::Start(Options options) {
  // Validate the user's files first, so errors name them, not the copy.
  auto checked = ClusterConfig::Load(options.config_dir);
  if (!checked.ok()) return checked.status();
  auto services = ServiceCatalog::Load(options.config_dir + "/services");
  if (!services.ok()) return services.status();
  if (auto r3 = r3::R3Files::Load(options.config_dir); !r3.ok())
    return r3.status();
  // A service pinned to an instance this cluster does not have could start
  // no session at all.
  for (const auto& [name, params] : services->services()) {
    auto pinned = params.Get("~agate_routing");
    if (!pinned) continue;
    auto routing = ParseAgateRouting(*pinned);
    if (routing.ok() && !checked->FindInstance(routing->instance)) {
      const std::string dir = options.config_dir + "/services";
      std::string where = LineSetting(dir, name, "~agate_routing");
      bool inherited = false;
      if (where.empty()) {
        where = LineSetting(dir, "global", "~agate_routing");
        inherited = !where.empty();
      }
      if (where.empty()) where = Cat(dir, " (service ", name, ")");
      return absl::InvalidArgumentError(
          Cat(where, ": ~agate_routing: names AGate instance ",
              routing->instance, ", which ", checked->file, " does not have",
              inherited ? Cat(" (service ", name, " inherits it)") : ""));
    }
  }

  std::error_code ec;
  // Absolute: the processes carry it in their command lines (--config), by
  // which a launcher started from another directory finds them too.
  // Its real path, so that two spellings of one directory are one.
  fs::create_directories(options.run_dir, ec);
  {
    fs::path real = fs::weakly_canonical(options.run_dir, ec);
    if (ec) real = fs::absolute(options.run_dir, ec).lexically_normal();
    options.run_dir = real;
  }
  while (options.run_dir.size() > 1 && options.run_dir.back() == '/')
    options.run_dir.pop_back();
  if (fs::equivalent(options.config_dir, options.run_dir, ec)) {
    return absl::InvalidArgumentError(
        Cat("--run-dir ", options.run_dir, " is the configuration itself"));
  }
  // Only a new or empty directory becomes a run directory, or one that is
  // one already: the launcher writes its files there and --clean empties it,
  // which must never reach a directory given by mistake (--run-dir . in a
  // checkout, a home).
  {
    const fs::path dir = options.run_dir;
    const bool empty = fs::is_empty(dir, ec);
    const bool run_dir =
        fs::exists(dir / kRunDirLock) ||
        (fs::exists(dir / "cluster.toml") && fs::exists(dir / "r3_stub.log"));
    if (ec || (!empty && !run_dir)) {
      return absl::FailedPreconditionError(
          Cat("--run-dir ", options.run_dir,
              " holds files and is no run directory of itscluster (no ",
              kRunDirLock, " in it): give a new or empty directory"));
    }
    if (options.clean_run_dir && fs::exists(dir / ".git")) {
      return absl::FailedPreconditionError(
          Cat("--clean: ", options.run_dir,
              " holds a .git directory: it is not emptied"));
    }
  }
  // The run directory is this launcher's before anything in it changes: a
  // second launcher on it would rewrite the files the first one's processes
  // read, and stop those processes when it gives up.
  auto lock = LockRunDir(options.run_dir);
  if (!lock.ok()) return lock.status();
  struct Unlock {
    int fd;
    ~Unlock() {
      if (fd >= 0) ::close(fd);
    }
  } held{*lock};
  // Held, so whatever runs with this run directory is left from an earlier
  // launcher that was killed outright: a fresh cluster starts without it.
  if (auto left = StopLeftovers(options.run_dir, /*grace_ms=*/3000);
      !left.empty()) {
    ReportTo(options, Cat("stopped what an earlier run left in ",
                          options.run_dir, ": ", absl::StrJoin(left, ", ")));
  }
  if (options.clean_run_dir) {
    for (const auto& entry : fs::directory_iterator(options.run_dir, ec)) {
      if (entry.path().filename() != kRunDirLock)
        fs::remove_all(entry.path(), ec);
    }
    ec.clear();
  }
  // A run directory used before may hold files this configuration does not
  // have (another service): what the copy brings replaces them whole.
  for (const auto& entry : fs::directory_iterator(options.config_dir, ec)) {
    fs::remove_all(fs::path(options.run_dir) / entry.path().filename(), ec);
  }
  ec.clear();
  fs::copy(options.config_dir, options.run_dir,
           fs::copy_options::recursive | fs::copy_options::overwrite_existing,
           ec);
  if (ec)
    return absl::InternalError(
        Cat("cannot copy ", options.config_dir, ": ", ec.message()));
  for (const auto& [path, content] : options.files) {
    std::ofstream(options.run_dir + "/" + path, std::ios::trunc) << content;
  }
  std::unique_ptr<Cluster> c(new Cluster(std::move(options)));
  c->run_dir_lock_ = std::exchange(held.fd, -1);
  {
    // The link delays are this run's faults, not configuration: none of an
    // earlier run (or of the configuration) carries over, also not to an
    // agate of an earlier run that a Mapping Manager adopts (a newer
    // generation without delays).
    absl::MutexLock l(&c->delay_mu_);
    c->delays_.generation = NextLinkDelayGeneration(0);
    if (auto s =
            WriteLinkDelays(LinkDelaysPath(c->options_.run_dir), c->delays_);
        !s.ok())
      return s;
  }
  c->config_parsed_ = *checked;
  const Options& o = c->options_;
  // The copy of the file checked above (the options' files may replace it).
  const std::string copy = o.run_dir + "/cluster.toml";
  auto text = ReadFile(copy);
  if (!text.ok()) return text.status();
  auto parsed = ParseToml(*text, copy);
  if (!parsed.ok()) return parsed.status();
  c->config_ = std::move(*parsed);
  toml::table& t = c->config_;
  if (o.time_scale > 0) t.insert_or_assign("time_scale", o.time_scale);
  // One simulated time for every process of the cluster, restarts included.
  if (!t.contains("sim_epoch")) {
    t.insert_or_assign(
        "sim_epoch",
        static_cast<int64_t>(
            std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count()));
  }
  if (!t.contains("wgate")) t.insert("wgate", toml::table{});
  if (!t.contains("r3")) t.insert("r3", toml::table{});
  if (o.ephemeral_ports) {
    t["wgate"].as_table()->insert_or_assign("listen",
                                            WithPort0(checked->wgate_listen));
    t["r3"].as_table()->insert_or_assign("listen",
                                         WithPort0(checked->r3_listen));
    t["r3"].as_table()->insert_or_assign("metrics_listen",
                                         WithPort0(checked->r3_metrics_listen));
    size_t i = 0;
    for (auto& inst : *t["agate_instance"].as_array()) {
      inst.as_table()->insert_or_assign(
          "metrics_listen", WithPort0(checked->instances[i].metrics_listen));
      inst.as_table()->insert_or_assign(
          "mapping_manager",
          WithPort0(checked->instances[i++].mapping_manager));
    }
  }
  if (o.edit) o.edit(t);
  if (o.ephemeral_ports) {
    // Free ports, held by this launcher while the cluster runs: a process
    // restarts on its address (ReservePort). After the edit: a port an edit
    // chose is the editor's.
    std::vector<toml::node*> listeners = {t["wgate"]["listen"].node(),
                                          t["r3"]["listen"].node(),
                                          t["r3"]["metrics_listen"].node()};
    if (auto* instances = t["agate_instance"].as_array()) {
      for (auto& inst : *instances) {
        if (auto* it = inst.as_table()) {
          listeners.push_back((*it)["metrics_listen"].node());
          listeners.push_back((*it)["mapping_manager"].node());
        }
      }
    }
    for (toml::node* n : listeners) {
      auto* addr = n ? n->as_string() : nullptr;
      std::string host;
      int port = -1;
      if (!addr || !ParseHostPort(addr->get(), &host, &port).ok() || port != 0)
        continue;
      auto reserved = ReservePort();
      if (!reserved.ok()) return reserved.status();
      c->reserved_ports_.push_back(reserved->fd);
      addr->get() = WithPort(addr->get(), reserved->port);
    }
  }
  if (auto s = c->WriteConfig(); !s.ok()) return s;
  auto edited =
      ClusterConfig::Load(o.run_dir);  // the edit must leave a valid file
  if (!edited.ok()) return edited.status();

  c->config_parsed_ = *edited;

  auto address_of = [&c](const std::string& name) {
    auto p = c->Find(name);
    return p ? p->address : std::string();
  };
  if (auto s = c->Spawn("r3_stub", {"r3_stub", "--config", o.run_dir},
                        /*critical=*/true);
      !s.ok()) {
    return s;
  }
  // Restarts bind the same addresses: the working copy names the bound ones.
  auto metrics_of = [&c](const std::string& name) {
    auto p = c->Find(name);
    return p ? p->metrics : std::string();
  };
  t["r3"].as_table()->insert_or_assign("listen", address_of("r3_stub"));
  if (auto* advertise = t["r3"].as_table()->get_as<std::string>("advertise")) {
    // The advertised host with the port actually bound.
    std::string host;
    int port;
    if (ParseHostPort(advertise->get(), &host, &port).ok())
      *advertise = WithHost(address_of("r3_stub"), host);
  }
  if (!metrics_of("r3_stub").empty()) {
    t["r3"].as_table()->insert_or_assign("metrics_listen",
                                         metrics_of("r3_stub"));
  }
  if (auto s = c->WriteConfig(); !s.ok()) return s;
  size_t i = 0;
  for (const auto& inst : edited->instances) {
    std::string name = "mapping_manager " + inst.name;
    if (auto s = c->Spawn(
            name,
            {"mapping_manager", "--config", o.run_dir, "--instance", inst.name},
            /*critical=*/false);
        !s.ok()) {
      return s;
    }
    // Bound to every address (listen_host "0.0.0.0"): dialled at its host.
    std::string bound = address_of(name), bound_host;
    int bound_port;
    if (ParseHostPort(bound, &bound_host, &bound_port).ok() &&
        IsWildcardHost(bound_host))
      bound = WithHost(bound, inst.host);
    toml::table& it = *(*t["agate_instance"].as_array())[i++].as_table();
    it.insert_or_assign("mapping_manager", bound);
    if (!metrics_of(name).empty())
      it.insert_or_assign("metrics_listen", metrics_of(name));
    if (auto s = c->WriteConfig(); !s.ok()) return s;
  }
  if (auto s = c->Spawn("wgate", {"wgate", "--config", o.run_dir},
                        /*critical=*/true);
      !s.ok()) {
    return s;
  }
  c->url_ = address_of("wgate");
  std::string bare = c->url_.substr(7);  // strip http://
  t["wgate"].as_table()->insert_or_assign("listen", bare);
  if (auto s = c->WriteConfig(); !s.ok()) return s;
  c->wake_fd_ =
      eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);  // before any fault can come
  if (auto s = c->StartAdmin(); !s.ok()) return s;

  // Ready once every instance serves ("ok" without anything degraded).
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(o.ready_timeout_ms);
  while (true) {
    auto r = HttpGet(bare, "/healthz", 1000);
    if (r.ok() && r->status == 200 && r->body == "ok\n") break;
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError(
          Cat("/healthz did not answer 200 in time (logs in ", o.run_dir, ")"));
    }
    std::string gone = c->ExitedDuringStart();
    if (!gone.empty()) {
      return absl::FailedPreconditionError(
          Cat(gone, " exited during start-up (logs in ", o.run_dir, ")"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  c->StartSupervisor();
  return c;
}

std::string Cluster::ExitedDuringStart() {
  absl::MutexLock l(&mu_);
  for (auto& c : children_) {
    int status;
    if (c->info.pid > 0 &&
        waitpid(c->info.pid, &status, WNOHANG) == c->info.pid) {
      c->info.pid = -1;
      return c->info.name;
    }
  }
  return "";
}

void Cluster::Stop(int budget_ms) {
  if (stopped_) return;
  stopped_ = true;
  if (supervisor_.joinable()) {
    stop_supervisor_ = true;
    uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof one) < 0) {
      // The supervisor wakes within its poll timeout anyway.
    }
    supervisor_.join();
  }
  StopChildren(budget_ms);
  // Faults still in progress now meet stopped processes and end at once.
  if (admin_server_) admin_server_->Shutdown(DeadlineIn(200));
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
}

void Cluster::StopChildren(int budget_ms) {
  absl::MutexLock l(&mu_);
  for (auto& [pid, hung] : hung_) ::close(hung.pidfd);
  hung_.clear();
  // wgate first (no new requests), then the managers (they stop their
  // agates), the R/3 stub last. SIGCONT too: a stopped process would keep
  // SIGTERM pending until the SIGKILL.
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
    pid_t pid = (*it)->info.pid;
    if (pid > 0) {
      kill(pid, SIGTERM);
      kill(pid, SIGCONT);
    }
  }
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(budget_ms);
  for (auto& c : children_) {
    Process& p = c->info;
    while (p.pid > 0) {
      int status;
      pid_t r = waitpid(p.pid, &status, WNOHANG);
      if (r == p.pid || (r < 0 && errno == ECHILD)) {
        p.pid = -1;
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        kill(p.pid, SIGKILL);
        waitpid(p.pid, &status, 0);
        p.pid = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (c->pidfd >= 0) ::close(c->pidfd);
    c->pidfd = -1;
  }
  // Whatever is left of this cluster (agates of a manager that was killed).
  for (pid_t pid : ClusterPids(options_.run_dir)) kill(pid, SIGKILL);
}

Cluster::~Cluster() {
  Stop();
  for (int fd : reserved_ports_) ::close(fd);
  if (options_.before_remove) options_.before_remove(options_.run_dir);
  if (options_.remove_run_dir) {
    std::error_code ec;
    fs::remove_all(options_.run_dir, ec);
  }
  if (run_dir_lock_ >= 0) {
    // No PID stays behind in the file for `kill $(cat …)` to hit later.
    if (!options_.remove_run_dir && ::ftruncate(run_dir_lock_, 0) != 0)
      Report(Cat("cannot empty ", options_.run_dir, "/", kRunDirLock, ": ",
                 std::strerror(errno)));
    ::close(run_dir_lock_);
  }
}

}  // namespace its::launcher
