#include "mapping_manager/manager.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "common/async_call.h"
#include "common/load_weight.h"
#include "common/log.h"
#include "common/strings.h"

namespace its::mm {
namespace {

constexpr auto kAssignWait = std::chrono::seconds(10);

}  // namespace

MappingManager::MappingManager(const AgateInstanceConfig& config, asio::io_context& io,
                               Spawner spawner)
    : config_(config),
      io_(io),
      spawner_(std::move(spawner)),
      slots_(config.max_agates),
      waiter_timer_(io) {}

void MappingManager::Start() {
  for (int i = 0; i < config_.min_agates; ++i) StartSlot(i);
  Publish();
}

void MappingManager::StartSlot(int index) {
  Slot& s = slots_[index];
  if (stopping_) return;
  s.in_use = true;
  s.incarnation = (s.incarnation + 1) & 0xff;
  s.state = proto::ProcessInfo::STARTING;
  s.address.clear();
  s.reported_sessions = s.busy_threads = 0;
  s.assigned = s.reported_starts = 0;
  s.turnaround_s = 0;
  s.pid = spawner_(index, s.incarnation);
  if (s.pid <= 0) {
    spdlog::error("{}: cannot start AGate process {}", config_.name, index);
    s.state = proto::ProcessInfo::DOWN;
    auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::seconds(1));
    timer->async_wait([this, index, timer](const asio::error_code&) { StartSlot(index); });
    return;
  }
  spdlog::info("{}: started AGate process {} (pid {}, incarnation {})", config_.name, index, s.pid,
               s.incarnation);
}

double MappingManager::Weight(const Slot& s) const {
  return LoadWeight({s.sessions(), config_.max_sessions, s.busy_threads, config_.work_threads,
                     s.turnaround_s});
}

grpc::Status MappingManager::Register(const proto::RegisterRequest& req) {
  int i = req.process();
  if (i < 0 || i >= static_cast<int>(slots_.size()) || slots_[i].pid != req.pid()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        Cat("process ", i, " pid ", req.pid(), " was not started by this manager"));
  }
  Slot& s = slots_[i];
  s.address = req.address();
  s.state = proto::ProcessInfo::UP;
  spdlog::info("{}: AGate process {} (pid {}) up at {}", config_.name, i, s.pid, s.address);
  Publish();
  TryAssignWaiting();
  return grpc::Status::OK;
}

grpc::Status MappingManager::ReportLoad(const proto::LoadReport& r) {
  int i = r.process();
  if (i < 0 || i >= static_cast<int>(slots_.size()) || slots_[i].pid != r.pid() ||
      slots_[i].state != proto::ProcessInfo::UP) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown process");
  }
  Slot& s = slots_[i];
  s.reported_sessions = r.sessions();
  s.reported_starts = r.starts();
  s.busy_threads = r.busy_threads();
  s.turnaround_s = r.turnaround_s();
  s.requests = r.requests();
  Publish();
  TryAssignWaiting();
  return grpc::Status::OK;
}

void MappingManager::ChildExited(pid_t pid, int status) {
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (s.pid != pid) continue;
    spdlog::warn("{}: AGate process {} (pid {}) ended ({} {}); its sessions are lost",
                 config_.name, i, pid, WIFSIGNALED(status) ? "signal" : "exit",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    s.state = proto::ProcessInfo::DOWN;
    s.address.clear();
    s.reported_sessions = s.busy_threads = 0;
    s.assigned = s.reported_starts = 0;
    Publish();
    if (!stopping_) {
      auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(200));
      timer->async_wait([this, i, timer](const asio::error_code&) {
        if (slots_[i].state == proto::ProcessInfo::DOWN) {
          StartSlot(static_cast<int>(i));
          Publish();
        }
      });
    }
    return;
  }
}

bool MappingManager::AssignNow(AssignDone& done, bool may_wait) {
  std::vector<ProcessView> views;
  views.reserve(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (!s.in_use) continue;
    views.push_back(ProcessView{static_cast<int>(i), s.pid, s.state == proto::ProcessInfo::UP,
                                s.state == proto::ProcessInfo::STARTING, Weight(s), s.sessions(),
                                config_.max_sessions});
  }
  Assignment a = AssignProcess(views, config_.overload_weight, config_.max_agates);
  switch (a.kind) {
    case Assignment::kAssign: {
      Slot& s = slots_[a.process];
      ++s.assigned;
      done(grpc::Status::OK, Info(a.process));
      return true;
    }
    case Assignment::kScaleUp: {
      int started = 0;
      for (size_t i = 0; i < slots_.size() && started < config_.inc_agates; ++i) {
        if (slots_[i].state == proto::ProcessInfo::DOWN && !slots_[i].in_use) {
          StartSlot(static_cast<int>(i));
          ++started;
        }
      }
      for (size_t i = 0; i < slots_.size() && started == 0; ++i) {
        if (slots_[i].state == proto::ProcessInfo::DOWN) {
          StartSlot(static_cast<int>(i));
          ++started;
        }
      }
      spdlog::info("{}: all AGate processes overloaded; started {} more", config_.name, started);
      Publish();
      [[fallthrough]];
    }
    case Assignment::kWait:
      if (!may_wait) return false;
      waiting_.push_back(Waiter{std::move(done), std::chrono::steady_clock::now() + kAssignWait});
      waiter_timer_.expires_after(kAssignWait);
      waiter_timer_.async_wait([this](const asio::error_code& ec) {
        if (!ec) TryAssignWaiting();
      });
      return true;
    case Assignment::kFull:
      done(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        Cat("instance ", config_.name, " has no free capacity")),
           proto::ProcessInfo());
      return true;
  }
  return true;
}

void MappingManager::Assign(AssignDone done) { AssignNow(done, true); }

void MappingManager::TryAssignWaiting() {
  auto now = std::chrono::steady_clock::now();
  while (!waiting_.empty()) {
    Waiter& w = waiting_.front();
    if (w.deadline <= now) {
      w.done(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          Cat("instance ", config_.name, ": no AGate process became free")),
             proto::ProcessInfo());
      waiting_.pop_front();
      continue;
    }
    if (!AssignNow(w.done, false)) return;
    waiting_.pop_front();
  }
}

proto::ProcessInfo MappingManager::Info(int index) const {
  const Slot& s = slots_[index];
  proto::ProcessInfo p;
  p.set_instance(config_.name);
  p.set_process(index);
  p.set_pid(s.pid);
  p.set_address(s.address);
  p.set_sessions(s.sessions());
  p.set_max_sessions(config_.max_sessions);
  p.set_busy_threads(s.busy_threads);
  p.set_max_threads(config_.work_threads);
  p.set_weight(s.state == proto::ProcessInfo::UP ? Weight(s) : 0.0);
  p.set_state(s.state);
  p.set_incarnation(s.incarnation);
  p.set_turnaround_s(s.turnaround_s);
  p.set_requests(s.requests);
  return p;
}

proto::Directory MappingManager::Directory() const {
  proto::Directory d;
  d.set_instance(config_.name);
  d.set_version(version_);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].in_use) *d.add_processes() = Info(static_cast<int>(i));
  }
  return d;
}

void MappingManager::Publish() {
  ++version_;
  if (listeners_.empty()) return;
  proto::Directory d = Directory();
  for (auto& [id, l] : listeners_) l(d);
}

int MappingManager::AddListener(DirectoryListener listener) {
  int id = next_listener_++;
  listener(Directory());
  listeners_.emplace_back(id, std::move(listener));
  return id;
}

void MappingManager::RemoveListener(int id) {
  std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
}

void MappingManager::StopAll() {
  stopping_ = true;
  std::vector<pid_t> pids;
  for (const Slot& s : slots_) {
    if (s.pid > 0 && s.state != proto::ProcessInfo::DOWN) pids.push_back(s.pid);
  }
  for (pid_t p : pids) kill(p, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (pid_t p : pids) {
    while (true) {
      int status;
      pid_t r = waitpid(p, &status, WNOHANG);
      if (r == p || (r < 0 && errno == ECHILD)) break;
      if (std::chrono::steady_clock::now() > deadline) {
        kill(p, SIGKILL);
        waitpid(p, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

Spawner ForkExecSpawner(const AgateCommand& cmd, const AgateInstanceConfig& inst) {
  return [cmd, inst](int process, uint32_t incarnation) -> pid_t {
    std::vector<std::string> args = {
        cmd.binary,
        "--config", cmd.config_dir,
        "--instance", inst.name,
        "--process", std::to_string(process),
        "--incarnation", std::to_string(incarnation),
        "--max-sessions", std::to_string(inst.max_sessions),
        "--work-threads", std::to_string(inst.work_threads),
        "--listen", cmd.listen_host + ":0",
        "--mapping-manager", cmd.manager_address,
        "--r3", cmd.r3_address,
        "--time-scale", fmt::format("{}", cmd.time_scale),
    };
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
      // Child: only async-signal-safe calls until exec.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      dup2(STDERR_FILENO, STDOUT_FILENO);  // the manager's stdout carries only its own lines
      execv(argv[0], argv.data());
      _exit(127);
    }
    return pid;
  };
}

// ------------------------------------------------------------------ service

grpc::ServerUnaryReactor* MappingManagerService::Assign(grpc::CallbackServerContext* context,
                                                        const proto::AssignRequest*,
                                                        proto::AssignReply* reply) {
  auto* reactor = context->DefaultReactor();
  asio::post(io_, [this, reactor, reply] {
    manager_.Assign([reactor, reply](const grpc::Status& s, const proto::ProcessInfo& p) {
      if (s.ok()) *reply->mutable_process() = p;
      reactor->Finish(s);
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* MappingManagerService::Register(grpc::CallbackServerContext* context,
                                                          const proto::RegisterRequest* request,
                                                          proto::Empty*) {
  return FinishOnLogicThread(io_, context, [this, request] { return manager_.Register(*request); });
}

grpc::ServerUnaryReactor* MappingManagerService::ReportLoad(grpc::CallbackServerContext* context,
                                                            const proto::LoadReport* request,
                                                            proto::Empty*) {
  return FinishOnLogicThread(io_, context,
                             [this, request] { return manager_.ReportLoad(*request); });
}

grpc::ServerUnaryReactor* MappingManagerService::GetDirectory(grpc::CallbackServerContext* context,
                                                              const proto::Empty*,
                                                              proto::Directory* reply) {
  return FinishOnLogicThread(io_, context, [this, reply] {
    *reply = manager_.Directory();
    return grpc::Status::OK;
  });
}

namespace {

// Streams directory snapshots to one wgate. Only the newest snapshot matters:
// while a write is in flight, later snapshots replace each other.
class DirectoryWriter final : public grpc::ServerWriteReactor<proto::Directory> {
 public:
  DirectoryWriter(MappingManager& manager, asio::io_context& io) : manager_(manager), io_(io) {
    asio::post(io_, [this] {
      listener_ = manager_.AddListener([this](const proto::Directory& d) { Offer(d); });
    });
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> l(mu_);
    writing_ = false;
    if (!ok) closed_ = true;
    if (has_next_ && !closed_) {
      current_ = std::move(next_);
      has_next_ = false;
      writing_ = true;
      StartWrite(&current_);
      return;
    }
    MaybeFinish();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    MaybeFinish();
  }

  void OnDone() override {
    asio::post(io_, [this] {
      manager_.RemoveListener(listener_);
      delete this;
    });
  }

 private:
  void Offer(const proto::Directory& d) {  // logic thread
    std::lock_guard<std::mutex> l(mu_);
    if (closed_) return;
    if (writing_) {
      next_ = d;
      has_next_ = true;
      return;
    }
    current_ = d;
    writing_ = true;
    StartWrite(&current_);
  }
  void MaybeFinish() {  // mu_ held
    if (closed_ && !writing_ && !finished_) {
      finished_ = true;
      Finish(grpc::Status::OK);
    }
  }

  MappingManager& manager_;
  asio::io_context& io_;
  int listener_ = 0;
  std::mutex mu_;
  proto::Directory current_, next_;
  bool has_next_ = false, writing_ = false, closed_ = false, finished_ = false;
};

}  // namespace

grpc::ServerWriteReactor<proto::Directory>* MappingManagerService::WatchDirectory(
    grpc::CallbackServerContext*, const proto::Empty*) {
  return new DirectoryWriter(manager_, io_);
}

}  // namespace its::mm
