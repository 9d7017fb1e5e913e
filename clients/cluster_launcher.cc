#include "clients/cluster_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/status/status.h"
#include "common/cluster_config.h"
#include "common/http_client.h"
#include "common/service_file.h"
#include "common/strings.h"

namespace its::launcher {
namespace fs = std::filesystem;
namespace {

std::string WithPort0(const std::string& addr) {
  std::string host;
  int port;
  if (!ParseHostPort(addr, &host, &port).ok()) return addr;
  return host + ":0";
}

}  // namespace

const Cluster::Process* Cluster::Find(const std::string& name) const {
  for (const auto& p : processes_)
    if (p.name == name) return &p;
  return nullptr;
}

absl::Status Cluster::WriteConfig() {
  // Processes that are starting read this file: replace it atomically
  // (write a temporary file, then rename) so nobody reads half of it.
  std::string path = options_.run_dir + "/cluster.toml";
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "# Working copy written by the cluster launcher; addresses are the bound ones.\n"
        << config_ << "\n";
    if (!out) return absl::InternalError(Cat("cannot write ", tmp));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return absl::InternalError(Cat("cannot replace ", path, ": ", ec.message()));
  return absl::OkStatus();
}

absl::Status Cluster::Spawn(const std::string& name, std::vector<std::string> args,
                            Process* out) {
  std::string file = name;
  for (char& c : file)
    if (c == ' ') c = '-';
  std::string stdout_path = Cat(options_.run_dir, "/", file, ".out");
  out->name = name;
  out->log = Cat(options_.run_dir, "/", file, ".log");
  std::string binary = Cat(options_.bin_dir, "/", args[0]);
  args[0] = binary;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out_fd = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = ::open(out->log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out_fd < 0 || err_fd < 0) return absl::InternalError(Cat("cannot create ", stdout_path));
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
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
  out->pid = pid;
  processes_.push_back(*out);

  // Wait for "ready <what> <address>".
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.ready_timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(stdout_path);
    std::string line;
    while (std::getline(in, line)) {
      auto words = Split(line, ' ');
      if (words.size() == 3 && words[0] == "ready") {
        out->address = std::string(words[2]);
        processes_.back().address = out->address;
        return absl::OkStatus();
      }
    }
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      processes_.back().pid = -1;
      auto log = ReadFile(out->log);
      return absl::FailedPreconditionError(
          Cat(name, " exited before it was ready; its log (", out->log, "):\n",
              log.ok() ? *log : std::string("(none)")));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::DeadlineExceededError(Cat(name, " did not get ready in time; log: ", out->log));
}

absl::StatusOr<std::unique_ptr<Cluster>> Cluster::Start(Options options) {
  // Validate the user's files first, so errors name them, not the copy.
  auto checked = ClusterConfig::Load(options.config_dir);
  if (!checked.ok()) return checked.status();
  if (auto s = ServiceCatalog::Load(options.config_dir + "/services"); !s.ok()) return s.status();

  std::error_code ec;
  fs::create_directories(options.run_dir, ec);
  fs::copy(options.config_dir, options.run_dir,
           fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  if (ec) return absl::InternalError(Cat("cannot copy ", options.config_dir, ": ", ec.message()));
  for (const auto& [path, content] : options.files) {
    std::ofstream(options.run_dir + "/" + path, std::ios::trunc) << content;
  }
  std::unique_ptr<Cluster> c(new Cluster(std::move(options)));
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
    t["wgate"].as_table()->insert_or_assign("listen", WithPort0(checked->wgate_listen));
    t["r3"].as_table()->insert_or_assign("listen", WithPort0(checked->r3_listen));
    size_t i = 0;
    for (auto& inst : *t["agate_instance"].as_array()) {
      inst.as_table()->insert_or_assign("mapping_manager",
                                        WithPort0(checked->instances[i++].mapping_manager));
    }
  }
  if (o.edit) o.edit(t);
  if (auto s = c->WriteConfig(); !s.ok()) return s;
  auto edited = ClusterConfig::Load(o.run_dir);  // the edit must leave a valid file
  if (!edited.ok()) return edited.status();

  Process p;
  if (auto s = c->Spawn("r3_stub", {"r3_stub", "--config", o.run_dir}, &p); !s.ok()) return s;
  t["r3"].as_table()->insert_or_assign("listen", p.address);
  if (auto s = c->WriteConfig(); !s.ok()) return s;
  size_t i = 0;
  for (const auto& inst : edited->instances) {
    if (auto s = c->Spawn("mapping_manager " + inst.name,
                          {"mapping_manager", "--config", o.run_dir, "--instance", inst.name}, &p);
        !s.ok()) {
      return s;
    }
    (*t["agate_instance"].as_array())[i++].as_table()->insert_or_assign("mapping_manager",
                                                                        p.address);
    if (auto s = c->WriteConfig(); !s.ok()) return s;
  }
  if (auto s = c->Spawn("wgate", {"wgate", "--config", o.run_dir}, &p); !s.ok()) return s;
  c->url_ = p.address;
  std::string bare = p.address.substr(7);  // strip http://
  t["wgate"].as_table()->insert_or_assign("listen", bare);
  if (auto s = c->WriteConfig(); !s.ok()) return s;

  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(o.ready_timeout_ms);
  while (true) {
    auto r = HttpGet(bare, "/healthz", 1000);
    if (r.ok() && r->status == 200) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError(
          Cat("/healthz did not answer 200 in time (logs in ", o.run_dir, ")"));
    }
    std::string gone = c->ExitedProcess();
    if (!gone.empty()) {
      return absl::FailedPreconditionError(Cat(gone, " exited during start-up (logs in ",
                                               o.run_dir, ")"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return c;
}

std::string Cluster::ExitedProcess() {
  for (auto& p : processes_) {
    int status;
    if (p.pid > 0 && waitpid(p.pid, &status, WNOHANG) == p.pid) {
      p.pid = -1;
      return p.name;
    }
  }
  return "";
}

void Cluster::Stop(int budget_ms) {
  if (stopped_) return;
  stopped_ = true;
  // wgate first (no new requests), then the managers (they stop their
  // agates), the R/3 stub last.
  for (auto it = processes_.rbegin(); it != processes_.rend(); ++it) {
    if (it->pid > 0) kill(it->pid, SIGTERM);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(budget_ms);
  for (auto& p : processes_) {
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
  }
}

Cluster::~Cluster() {
  Stop();
  if (options_.remove_run_dir) {
    std::error_code ec;
    fs::remove_all(options_.run_dir, ec);
  }
}

}  // namespace its::launcher
