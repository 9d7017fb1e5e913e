#include "clients/cluster_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "absl/status/status.h"
#include "common/cluster_config.h"
#include "common/grpc_util.h"
#include "common/http_client.h"
#include "common/process.h"
#include "common/service_file.h"
#include "common/strings.h"

namespace its::launcher {
namespace fs = std::filesystem;
namespace {

// True if `pid` runs one of the cluster's programs with `--config run_dir`
// (an itsadm the user runs with the same --config is not one of them).
bool IsOurs(pid_t pid, const std::string& run_dir) {
  std::vector<std::string> words = ProcessCommandLine(pid);
  if (words.empty()) return false;
  bool config = false;
  for (size_t i = 0; i + 1 < words.size(); ++i)
    config |= words[i] == "--config" && words[i + 1] == run_dir;
  std::string program = fs::path(words[0]).filename();
  return config && (program == "r3_stub" || program == "mapping_manager" ||
                    program == "agate" || program == "wgate");
}

// Signals the process behind `pidfd` (never a reused PID). False if it is gone.
bool SendSignal(int pidfd, int sig) {
  return syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0;
}

std::string WithPort0(const std::string& addr) {
  std::string host;
  int port;
  if (!ParseHostPort(addr, &host, &port).ok()) return addr;
  return host + ":0";
}

}  // namespace

// One process the launcher started, with what it needs to start it again.
struct Cluster::Child {
  Process info;
  std::vector<std::string> args;  // argv; args[0] is the binary's name
  std::string stdout_path;
  bool critical = false;  // the cluster cannot serve without it
  int pidfd = -1;         // readable once the process ended
  std::optional<RestartPolicy> policy;
  std::optional<std::chrono::steady_clock::time_point> restart_at;
  // Set while a restarted process has not announced "ready" yet.
  std::optional<std::chrono::steady_clock::time_point> ready_deadline;
};

Cluster::Cluster(Options options) : options_(std::move(options)) {}

// The launcher's admin API: itsadm processes, itsadm fault.
class Cluster::AdminService final : public proto::Cluster::Service {
 public:
  explicit AdminService(Cluster& cluster) : cluster_(cluster) {}
  grpc::Status Fault(grpc::ServerContext*, const proto::FaultRequest* request,
                     proto::FaultReply* reply) override {
    return cluster_.Fault(*request, reply);
  }
  grpc::Status ListProcesses(grpc::ServerContext*, const proto::Empty*,
                             proto::ClusterProcesses* reply) override {
    *reply = cluster_.ListProcesses();
    return grpc::Status::OK;
  }

 private:
  Cluster& cluster_;
};

absl::Status Cluster::StartAdmin() {
  std::string listen = config_parsed_.supervisor.listen;
  if (options_.ephemeral_ports) listen = WithPort0(listen);
  admin_service_ = std::make_unique<AdminService>(*this);
  auto server =
      StartGrpcServer(listen, {admin_service_.get()}, &admin_address_);
  if (!server.ok()) {
    return absl::UnavailableError(
        Cat("the cluster's admin API: ", server.status().message(),
            " ([supervisor] listen in cluster.toml)"));
  }
  admin_server_ = std::move(*server);
  if (!config_.contains("supervisor"))
    config_.insert("supervisor", toml::table{});
  config_["supervisor"].as_table()->insert_or_assign("listen", admin_address_);
  return WriteConfig();
}

absl::StatusOr<std::pair<pid_t, int>> Cluster::ResolveProcess(
    const std::string& target) const {
  std::string name = target;
  if (name.rfind("agate ", 0) == 0) name = name.substr(6);
  auto slash = name.find('/');
  if (slash != std::string::npos) {  // IT1/1: ask its Mapping Manager
    std::string instance = name.substr(0, slash);
    int process;
    const AgateInstanceConfig* inst = config_parsed_.FindInstance(instance);
    if (inst == nullptr || !ParseInt(name.substr(slash + 1), &process)) {
      return absl::NotFoundError(
          Cat("no AGate process '", target, "' (e.g. agate IT1/0)"));
    }
    auto mm = Find("mapping_manager " + instance);
    auto stub =
        proto::MappingManager::NewStub(MakeChannel(mm ? mm->address : ""));
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(2000));
    proto::Directory d;
    if (grpc::Status st = stub->GetDirectory(&ctx, proto::Empty(), &d);
        !st.ok()) {
      return absl::UnavailableError(
          Cat("the Mapping Manager of ", instance,
              " does not answer: ", st.error_message()));
    }
    for (const auto& p : d.processes()) {
      if (p.process() != process || p.state() == proto::ProcessInfo::DOWN ||
          p.pid() <= 0)
        continue;
      // Hold it by a pidfd, then check it is an agate of this cluster.
      int fd = static_cast<int>(syscall(SYS_pidfd_open, p.pid(), 0));
      if (fd >= 0 && IsOurs(p.pid(), options_.run_dir))
        return std::make_pair(p.pid(), fd);
      if (fd >= 0) ::close(fd);
      break;
    }
    return absl::NotFoundError(
        Cat("AGate process ", instance, "/", process, " is not running"));
  }
  std::string names;
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& c : children_) {
    if (c->info.name == target) {
      if (c->info.pid <= 0 || c->pidfd < 0) {
        return absl::UnavailableError(Cat(target, " is not running"));
      }
      return std::make_pair(c->info.pid, ::fcntl(c->pidfd, F_DUPFD_CLOEXEC, 0));
    }
    names += Cat(names.empty() ? "" : ", ", c->info.name);
  }
  return absl::NotFoundError(Cat("no process '", target, "'; the cluster has ",
                                 names, " and agate IT<n>/<process>"));
}

std::vector<std::string> Cluster::AgateAddresses(
    const std::string& instance) const {
  std::vector<std::string> out;
  for (const auto& inst : config_parsed_.instances) {
    if (!instance.empty() && inst.name != instance) continue;
    auto mm = Find("mapping_manager " + inst.name);
    if (!mm) continue;
    auto stub = proto::MappingManager::NewStub(MakeChannel(mm->address));
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(2000));
    proto::Directory d;
    if (!stub->GetDirectory(&ctx, proto::Empty(), &d).ok()) continue;
    for (const auto& p : d.processes()) {
      if (!p.address().empty() && p.state() != proto::ProcessInfo::DOWN)
        out.push_back(p.address());
    }
  }
  return out;
}

grpc::Status Cluster::Fault(const proto::FaultRequest& req,
                            proto::FaultReply* reply) {
  auto bad = [](const std::string& why) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, why);
  };
  if (!(req.seconds() >= 0 && req.seconds() <= 3600)) {
    return bad("the duration must be between 0 and 3600 seconds");
  }
  using Action = proto::FaultRequest;
  if (req.action() == Action::DELAY || req.action() == Action::CLEAR) {
    std::string instance;
    double seconds = req.seconds();
    if (req.action() == Action::DELAY) {
      std::string link = req.target();
      auto space = link.find(' ');
      if (space != std::string::npos) {
        instance = link.substr(0, space);
        link = link.substr(space + 1);
        if (!config_parsed_.FindInstance(instance)) {
          return bad(Cat("no AGate instance '", instance, "'"));
        }
      }
      if (link != "agate->r3") {
        return bad(Cat(
            "unknown link '", req.target(),
            "': delays exist for 'agate->r3' (quote it in a shell), optionally "
            "after an instance: IT2 'agate->r3'"));
      }
    } else {
      seconds = 0;
    }
    int set = 0;
    proto::LinkDelay delay;
    delay.set_r3_seconds(seconds);
    for (const std::string& address : AgateAddresses(instance)) {
      auto stub = proto::AGate::NewStub(MakeChannel(address));
      grpc::ClientContext ctx;
      ctx.set_deadline(DeadlineIn(2000));
      proto::Empty none;
      set += stub->SetLinkDelay(&ctx, delay, &none).ok();
    }
    std::string resumed;
    if (req.action() == Action::CLEAR) {
      std::lock_guard<std::mutex> l(mu_);
      for (auto& [pid, hung] : hung_) {
        SendSignal(hung.pidfd, SIGCONT);
        ::close(hung.pidfd);
        resumed += Cat(resumed.empty() ? "" : ", ", pid);
      }
      hung_.clear();
    }
    if (req.action() == Action::DELAY) {
      reply->set_done(Cat("calls to R/3 of ", set, " AGate process(es)",
                          instance.empty() ? "" : Cat(" of ", instance),
                          " now wait ", seconds,
                          " s (processes started later do not)"));
    } else {
      reply->set_done(
          Cat("no R/3 delay on any of the ", set, " AGate process(es)",
              resumed.empty() ? "" : Cat("; resumed pid ", resumed)));
    }
    Report(Cat("fault: ", reply->done()));
    return grpc::Status::OK;
  }
  auto target = ResolveProcess(req.target());
  if (!target.ok()) {
    return grpc::Status(static_cast<grpc::StatusCode>(target.status().code()),
                        std::string(target.status().message()));
  }
  auto [pid, pidfd] = *target;
  std::lock_guard<std::mutex> l(mu_);
  auto forget_hung = [this](pid_t pid) {
    auto it = hung_.find(pid);
    if (it == hung_.end()) return;
    ::close(it->second.pidfd);
    hung_.erase(it);
  };
  switch (req.action()) {
    case Action::KILL:
      SendSignal(pidfd, SIGKILL);
      ::close(pidfd);
      forget_hung(pid);
      reply->set_done(
          Cat("killed ", req.target(), " (pid ", pid, ", SIGKILL)"));
      break;
    case Action::HANG: {
      SendSignal(pidfd, SIGSTOP);
      forget_hung(pid);
      Hung& hung = hung_[pid];
      hung.pidfd = pidfd;  // resumed through it: never a reused PID
      if (req.seconds() > 0) {
        hung.resume_at = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(
                             static_cast<int64_t>(req.seconds() * 1000));
        reply->set_done(Cat("stopped ", req.target(), " (pid ", pid,
                            ", SIGSTOP) for ", req.seconds(), " s"));
      } else {
        reply->set_done(
            Cat("stopped ", req.target(), " (pid ", pid,
                ", SIGSTOP) until 'itsadm fault resume' or 'clear'"));
      }
      uint64_t one = 1;  // the supervisor resumes it in time
      if (::write(wake_fd_, &one, sizeof one) < 0) {
      }
      break;
    }
    case Action::RESUME:
      SendSignal(pidfd, SIGCONT);
      ::close(pidfd);
      forget_hung(pid);
      reply->set_done(
          Cat("resumed ", req.target(), " (pid ", pid, ", SIGCONT)"));
      break;
    default:
      ::close(pidfd);
      return bad("unknown action");
  }
  Report(Cat("fault: ", reply->done()));
  return grpc::Status::OK;
}

proto::ClusterProcesses Cluster::ListProcesses() const {
  proto::ClusterProcesses out;
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& c : children_) {
    proto::ClusterProcess* p = out.add_processes();
    p->set_name(c->info.name);
    p->set_pid(std::max(0, static_cast<int>(c->info.pid)));
    p->set_address(c->info.address);
    p->set_restarts(c->info.restarts);
    const char* state = "running";
    if (c->info.given_up) {
      state = "given_up";
    } else if (c->info.pid <= 0 || c->restart_at || c->ready_deadline) {
      state = "restarting";
    } else if (hung_.count(c->info.pid) != 0) {
      state = "hung";
    }
    p->set_state(state);
  }
  return out;
}

std::vector<Cluster::Process> Cluster::processes() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<Process> out;
  for (const auto& c : children_) out.push_back(c->info);
  return out;
}

std::optional<Cluster::Process> Cluster::Find(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
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
      std::lock_guard<std::mutex> l(mu_);
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
  std::lock_guard<std::mutex> l(mu_);
  return failure_;
}

void Cluster::Report(const std::string& message) {
  if (options_.report) {
    options_.report(message);
  } else {
    std::fprintf(stderr, "itscluster: %s\n", message.c_str());
  }
}

absl::Status Cluster::WriteConfig() {
  // Processes that are starting read this file: replace it atomically
  // (write a temporary file, then rename) so nobody reads half of it.
  std::string path = options_.run_dir + "/cluster.toml";
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "# Working copy written by the cluster launcher; addresses are the "
           "bound ones.\n"
        << config_ << "\n";
    if (!out) return absl::InternalError(Cat("cannot write ", tmp));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    return absl::InternalError(
        Cat("cannot replace ", path, ": ", ec.message()));
  return absl::OkStatus();
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
  std::vector<std::string> args = c.args;
  args[0] = Cat(options_.bin_dir, "/", args[0]);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  if (pid < 0) return absl::InternalError("fork failed");
  c.info.pid = pid;
  c.pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  return absl::OkStatus();
}

namespace {

// The address in `stdout_path`'s "ready <what> <address>" line, if written.
std::optional<std::string> ReadyAddress(const std::string& stdout_path) {
  std::ifstream in(stdout_path);
  std::string line;
  while (std::getline(in, line)) {
    auto words = Split(line, ' ');
    if (words.size() == 3 && words[0] == "ready") return std::string(words[2]);
  }
  return std::nullopt;
}

}  // namespace

absl::Status Cluster::WaitReady(Child& c) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(options_.ready_timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto address = ReadyAddress(c.stdout_path)) {
      std::lock_guard<std::mutex> l(mu_);
      c.info.address = *address;
      return absl::OkStatus();
    }
    int status;
    if (waitpid(c.info.pid, &status, WNOHANG) == c.info.pid) {
      std::lock_guard<std::mutex> l(mu_);
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
    std::lock_guard<std::mutex> l(mu_);
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

absl::StatusOr<std::unique_ptr<Cluster>> Cluster::Start(Options options) {
  // Validate the user's files first, so errors name them, not the copy.
  auto checked = ClusterConfig::Load(options.config_dir);
  if (!checked.ok()) return checked.status();
  if (auto s = ServiceCatalog::Load(options.config_dir + "/services"); !s.ok())
    return s.status();

  std::error_code ec;
  fs::create_directories(options.run_dir, ec);
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
  c->config_parsed_ = *checked;
  const Options& o = c->options_;
  try {
    c->config_ = toml::parse_file(o.run_dir + "/cluster.toml");
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(std::string(e.description()));
  }
  toml::table& t = c->config_;
  if (o.time_scale > 0) t.insert_or_assign("time_scale", o.time_scale);
  if (!t.contains("wgate")) t.insert("wgate", toml::table{});
  if (!t.contains("r3")) t.insert("r3", toml::table{});
  if (o.ephemeral_ports) {
    t["wgate"].as_table()->insert_or_assign("listen",
                                            WithPort0(checked->wgate_listen));
    t["r3"].as_table()->insert_or_assign("listen",
                                         WithPort0(checked->r3_listen));
    size_t i = 0;
    for (auto& inst : *t["agate_instance"].as_array()) {
      inst.as_table()->insert_or_assign(
          "mapping_manager",
          WithPort0(checked->instances[i++].mapping_manager));
    }
  }
  if (o.edit) o.edit(t);
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
  t["r3"].as_table()->insert_or_assign("listen", address_of("r3_stub"));
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
    (*t["agate_instance"].as_array())[i++].as_table()->insert_or_assign(
        "mapping_manager", address_of(name));
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
  std::lock_guard<std::mutex> l(mu_);
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

void Cluster::StartSupervisor() {
  supervisor_ = std::thread([this] { Supervise(); });
}

void Cluster::Supervise() {
  using Clock = std::chrono::steady_clock;
  while (!stop_supervisor_) {
    std::vector<pollfd> fds;
    std::vector<Child*> watched;
    int timeout_ms = -1;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto now = Clock::now();
      auto wake = [&](Clock::time_point at) {
        int ms = static_cast<int>(std::max<int64_t>(
            1, std::chrono::duration_cast<std::chrono::milliseconds>(at - now)
                       .count() +
                   1));
        timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
      };
      for (auto& c : children_) {
        if (c->pidfd >= 0) {
          fds.push_back(pollfd{c->pidfd, POLLIN, 0});
          watched.push_back(c.get());
        }
        if (c->restart_at) wake(*c->restart_at);
        if (c->ready_deadline)
          wake(now + std::chrono::milliseconds(10));  // poll the ready line
      }
      for (const auto& [pid, hung] : hung_) {
        if (hung.resume_at) wake(*hung.resume_at);
      }
    }
    fds.push_back(pollfd{wake_fd_, POLLIN, 0});
    int n = poll(fds.data(), fds.size(), timeout_ms);
    if (stop_supervisor_) break;
    if (n < 0 && errno != EINTR) {
      // Never leave: restarted children die with this thread (PDEATHSIG).
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (fds.back().revents & POLLIN) {  // a HANG fault changed the deadlines
      uint64_t count;
      if (::read(wake_fd_, &count, sizeof count) < 0) {
      }
    }
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = hung_.begin(); it != hung_.end();) {
      if (it->second.resume_at && *it->second.resume_at <= Clock::now()) {
        if (SendSignal(it->second.pidfd, SIGCONT)) {
          Report(
              Cat("fault: resumed pid ", it->first, " (SIGCONT) as planned"));
        }
        ::close(it->second.pidfd);
        it = hung_.erase(it);
      } else {
        ++it;
      }
    }
    for (size_t i = 0; i < watched.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Child& c = *watched[i];
      int status = 0;
      pid_t r = c.info.pid > 0 ? waitpid(c.info.pid, &status, WNOHANG) : -1;
      if (r == 0) continue;   // not yet
      HandleExit(c, status);  // ended (or already reaped: ECHILD)
    }
    auto now = Clock::now();
    for (auto& c : children_) {
      if (c->restart_at && *c->restart_at <= now) Respawn(*c);
      if (c->ready_deadline) CheckStarting(*c);
    }
  }
}

void Cluster::HandleExit(Child& c, int status) {
  if (c.pidfd >= 0) ::close(c.pidfd);
  c.pidfd = -1;
  pid_t pid = c.info.pid;
  c.info.pid = -1;
  c.ready_deadline.reset();
  if (auto h = hung_.find(pid); h != hung_.end()) {
    ::close(h->second.pidfd);
    hung_.erase(h);
  }
  std::string how = WIFSIGNALED(status)
                        ? Cat("signal ", WTERMSIG(status))
                        : Cat("exit status ", WEXITSTATUS(status));
  auto delay = c.policy->OnExit(std::chrono::steady_clock::now());
  const SupervisorConfig& sv = c.policy->config();
  if (!delay) {
    c.info.given_up = true;
    Report(Cat(c.info.name, " (pid ", pid, ") ended (", how, "), ",
               c.policy->recent_crashes(), " times within ", sv.window_s,
               " s: not restarting it; log: ", c.info.log));
    if (c.critical && failure_.empty()) {
      failure_ = Cat(c.info.name,
                     " crashed too often; the cluster cannot serve without it");
    }
    return;
  }
  Report(Cat(c.info.name, " (pid ", pid, ") ended (", how,
             "); restarting it in ", delay->count(), " ms (crash ",
             c.policy->recent_crashes(), " of at most ", sv.max_restarts,
             " within ", sv.window_s, " s)"));
  c.restart_at = std::chrono::steady_clock::now() + *delay;
}

void Cluster::Respawn(Child& c) {
  c.restart_at.reset();
  ++c.info.restarts;
  if (auto s = ForkExec(c, /*first=*/false); !s.ok()) {
    Report(Cat("cannot restart ", c.info.name, ": ", s.message()));
    HandleExit(c, 0);
    return;
  }
  c.ready_deadline = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(options_.ready_timeout_ms);
}

void Cluster::CheckStarting(Child& c) {
  if (auto address = ReadyAddress(c.stdout_path)) {
    c.ready_deadline.reset();
    Report(Cat(c.info.name, " runs again (pid ", c.info.pid, ", restart ",
               c.info.restarts, ")"));
    return;
  }
  if (std::chrono::steady_clock::now() > *c.ready_deadline) {
    Report(Cat(c.info.name, " (pid ", c.info.pid,
               ") did not get ready in time; killing it"));
    kill(c.info.pid, SIGKILL);  // its pidfd reports the end
    c.ready_deadline.reset();
  }
}

namespace {

// PIDs of the cluster's processes (IsOurs), also agates whose Mapping
// Manager died.
std::vector<pid_t> ClusterPids(const std::string& run_dir) {
  std::vector<pid_t> pids;
  for (int pid : ListPids()) {
    if (pid > 1 && pid != getpid() && IsOurs(pid, run_dir)) pids.push_back(pid);
  }
  return pids;
}

}  // namespace

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
  std::lock_guard<std::mutex> l(mu_);
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
  if (options_.remove_run_dir) {
    std::error_code ec;
    fs::remove_all(options_.run_dir, ec);
  }
}

}  // namespace its::launcher
