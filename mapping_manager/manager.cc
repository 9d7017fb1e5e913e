#include "mapping_manager/manager.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "common/async_call.h"
#include "common/load_weight.h"
#include "common/log.h"
#include "common/process.h"
#include "common/spawn.h"
#include "common/strings.h"

namespace its::mm {
namespace {

constexpr auto kAssignWait = std::chrono::seconds(10);
// How long a restarted manager waits for adopted processes to register.
constexpr auto kRecovery = std::chrono::seconds(2);

std::string Option(const std::vector<std::string>& words,
                   std::string_view name) {
  for (size_t i = 0; i + 1 < words.size(); ++i)
    if (words[i] == name) return words[i + 1];
  return "";
}

}  // namespace

std::vector<RunningAgate> FindRunningAgates(const std::string& instance,
                                            const std::string& manager_address,
                                            const std::string& config_dir) {
  std::vector<RunningAgate> found;
  for (int pid : ListPids()) {
    if (pid <= 1) continue;
    auto words = ProcessCommandLine(pid);
    if (words.empty() || std::filesystem::path(words[0]).filename() != "agate")
      continue;
    if (Option(words, "--instance") != instance ||
        Option(words, "--mapping-manager") != manager_address ||
        Option(words, "--config") != config_dir) {
      continue;
    }
    RunningAgate a;
    a.pid = pid;
    int64_t incarnation;
    if (!ParseInt(Option(words, "--process"), &a.process) ||
        !ParseInt(Option(words, "--incarnation"), &incarnation)) {
      continue;
    }
    a.incarnation = static_cast<uint32_t>(incarnation);
    found.push_back(a);
  }
  return found;
}

MappingManager::MappingManager(const AgateInstanceConfig& config,
                               asio::io_context& io, Spawner spawner,
                               SupervisorConfig supervisor,
                               LivenessLimits liveness)
    : config_(config),
      io_(io),
      spawner_(std::move(spawner)),
      slots_(config.max_agates),
      waiter_timer_(io),
      supervisor_(supervisor),
      liveness_(liveness),
      tick_timer_(io),
      recovery_timer_(io) {
  for (Slot& s : slots_) s.restart.emplace(supervisor_);
}

void MappingManager::Signal(Slot& s, int sig) {
  // An adopted process is not our child: its PID could be reused after it
  // ended unnoticed, its pidfd cannot.
  if (s.pidfd) {
    syscall(SYS_pidfd_send_signal, s.pidfd->native_handle(), sig, nullptr, 0);
  } else if (s.pid > 0) {
    kill(s.pid, sig);  // our child: a zombie until we reap it, never reused
  }
}

int MappingManager::Adopt(const std::vector<RunningAgate>& running) {
  int adopted = 0;
  for (const RunningAgate& a : running) {
    if (a.process < 0 || a.process >= static_cast<int>(slots_.size())) continue;
    Slot& s = slots_[a.process];
    if (s.in_use) {  // two claim one slot: keep the first, the other is stale
      spdlog::warn("{}: pid {} also claims AGate process {}; ignored",
                   config_.name, a.pid, a.process);
      continue;
    }
    s.in_use = true;
    s.adopted = true;
    s.pid = a.pid;
    s.incarnation = a.incarnation & 0xff;
    s.state = proto::ProcessInfo::STARTING;
    s.last_report = std::chrono::steady_clock::now();
    spdlog::info(
        "{}: AGate process {} (pid {}, incarnation {}) outlived the previous "
        "Mapping "
        "Manager; adopting it",
        config_.name, a.process, a.pid, s.incarnation);
    recovering_ = true;
    ++adopted;
    WatchAdopted(a.process);
  }
  return adopted;
}

void MappingManager::WatchAdopted(int index) {
  Slot& s = slots_[index];
  int fd = PidfdOpen(s.pid);
  if (fd <
      0) {  // gone already (or never watchable): it ended as far as we know
    spdlog::warn("{}: cannot watch pid {}: {}", config_.name, s.pid,
                 std::strerror(errno));
    pid_t pid = s.pid;
    asio::post(io_, [this, pid] { ChildExited(pid, -1); });
    return;
  }
  auto desc = std::make_shared<asio::posix::stream_descriptor>(io_, fd);
  s.pidfd = desc;
  pid_t pid = s.pid;
  desc->async_wait(asio::posix::stream_descriptor::wait_read,
                   [this, pid, desc](const asio::error_code& ec) {
                     if (!ec)
                       ChildExited(pid, -1);  // readable: the process ended
                   });
}

void MappingManager::Start() {
  if (recovering_) {
    recovery_timer_.expires_after(kRecovery);
    recovery_timer_.async_wait([this](const asio::error_code& ec) {
      if (!ec) EndRecovery();
    });
  } else {
    for (int i = 0; i < config_.min_agates; ++i) StartSlot(i);
    Publish();
  }
  ArmTick();
}

void MappingManager::EndRecovery() {
  if (!recovering_) return;
  recovering_ = false;
  recovery_timer_.cancel();
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (s.adopted && s.state == proto::ProcessInfo::STARTING) {
      spdlog::warn(
          "{}: adopted AGate process {} (pid {}) did not register; "
          "unresponsive",
          config_.name, i, s.pid);
      s.state = proto::ProcessInfo::UNRESPONSIVE;
    }
  }
  int running = 0;
  for (const Slot& s : slots_)
    running += s.in_use && s.state != proto::ProcessInfo::DOWN;
  for (int i = 0;
       i < static_cast<int>(slots_.size()) && running < config_.min_agates;
       ++i) {
    if (!slots_[i].in_use) {
      StartSlot(i);
      ++running;
    }
  }
  Publish();
  for (auto& [id, l] : listeners_) l(Directory());  // they waited for this
  TryAssignWaiting();
}

void MappingManager::ArmTick() {
  tick_timer_.expires_after(std::chrono::seconds(1));
  tick_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopping_) return;
    Tick();
    ArmTick();
  });
}

void MappingManager::Tick() {
  auto now = std::chrono::steady_clock::now();
  if (last_tick_.time_since_epoch().count() != 0 &&
      now - last_tick_ > 2 * liveness_.report_interval) {
    // This manager itself was stopped or starved: the reports it missed
    // meanwhile say nothing about its agates. Judge them from now on.
    spdlog::warn(
        "{}: no tick for {} ms (was this manager stopped?); not judging its "
        "AGate "
        "processes by the reports missed meanwhile",
        config_.name,
        std::chrono::duration_cast<std::chrono::milliseconds>(now - last_tick_)
            .count());
    for (Slot& s : slots_) s.last_report = std::max(s.last_report, now);
  }
  last_tick_ = now;
  bool changed = false;
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    bool live = s.state == proto::ProcessInfo::UP ||
                s.state == proto::ProcessInfo::UNRESPONSIVE;
    if (!live || s.killed_unresponsive) continue;
    switch (JudgeLiveness(s.last_report, now, liveness_)) {
      case Liveness::kResponsive:
        break;
      case Liveness::kUnresponsive:
        if (s.state == proto::ProcessInfo::UP) {
          spdlog::warn(
              "{}: AGate process {} (pid {}) missed {} load reports: "
              "unresponsive, "
              "no new sessions",
              config_.name, i, s.pid, liveness_.missed_reports);
          s.state = proto::ProcessInfo::UNRESPONSIVE;
          changed = true;
        }
        break;
      case Liveness::kRestart:
        spdlog::error(
            "{}: AGate process {} (pid {}) unresponsive for {} s: killing it",
            config_.name, i, s.pid,
            std::chrono::duration_cast<std::chrono::seconds>(now -
                                                             s.last_report)
                .count());
        s.killed_unresponsive = true;
        Signal(s, SIGKILL);
        break;
    }
  }
  if (changed) TryAssignWaiting();
  Publish();  // also the heartbeat the wgates watch for
}

void MappingManager::StartSlot(int index) {
  Slot& s = slots_[index];
  if (stopping_) return;
  s.in_use = true;
  s.adopted = false;
  s.pidfd.reset();
  s.killed_unresponsive = false;
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
    auto timer =
        std::make_shared<asio::steady_timer>(io_, std::chrono::seconds(1));
    timer->async_wait(
        [this, index, timer](const asio::error_code&) { StartSlot(index); });
    return;
  }
  spdlog::info("{}: started AGate process {} (pid {}, incarnation {})",
               config_.name, index, s.pid, s.incarnation);
}

double MappingManager::Weight(const Slot& s) const {
  return LoadWeight({s.sessions(), config_.max_sessions, s.busy_threads,
                     config_.work_threads, s.turnaround_s});
}

grpc::Status MappingManager::Register(const proto::RegisterRequest& req) {
  int i = req.process();
  bool known = i >= 0 && i < static_cast<int>(slots_.size()) &&
               slots_[i].pid == req.pid() &&
               slots_[i].state != proto::ProcessInfo::DOWN;
  if (!known && i >= 0 && i < static_cast<int>(slots_.size()) && !recovering_ &&
      (!slots_[i].in_use || slots_[i].state == proto::ProcessInfo::DOWN)) {
    // Started by an earlier run of this manager and missed at adoption
    // (e.g. it was not yet exec'd): adopt it if it is an agate of ours.
    for (const RunningAgate& a :
         FindRunningAgates(config_.name, address_, config_dir_)) {
      if (a.pid == req.pid() && a.process == i) {
        slots_[i].in_use = false;  // a DOWN slot may take it
        known = Adopt({a}) == 1;
        recovering_ = false;
      }
    }
  }
  if (!known) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        Cat("process ", i, " pid ", req.pid(),
                            " was not started by this manager"));
  }
  Slot& s = slots_[i];
  if (s.adopted && (req.incarnation() & 0xff) != s.incarnation) {
    spdlog::warn(
        "{}: AGate process {} (pid {}) registers incarnation {}, its command "
        "line said {}",
        config_.name, i, s.pid, req.incarnation(), s.incarnation);
    s.incarnation = req.incarnation() & 0xff;
  }
  s.address = req.address();
  s.state = proto::ProcessInfo::UP;
  s.last_report = std::chrono::steady_clock::now();
  spdlog::info("{}: AGate process {} (pid {}) up at {}", config_.name, i, s.pid,
               s.address);
  if (recovering_) {
    bool all = true;
    for (const Slot& o : slots_)
      all &= !(o.adopted && o.state == proto::ProcessInfo::STARTING);
    if (all) EndRecovery();
    return grpc::Status::OK;
  }
  Publish();
  TryAssignWaiting();
  return grpc::Status::OK;
}

grpc::Status MappingManager::ReportLoad(const proto::LoadReport& r) {
  int i = r.process();
  if (i < 0 || i >= static_cast<int>(slots_.size()) ||
      slots_[i].pid != r.pid() ||
      (slots_[i].state != proto::ProcessInfo::UP &&
       slots_[i].state != proto::ProcessInfo::UNRESPONSIVE)) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown process");
  }
  Slot& s = slots_[i];
  s.last_report = std::chrono::steady_clock::now();
  if (s.state == proto::ProcessInfo::UNRESPONSIVE && !s.killed_unresponsive) {
    spdlog::info("{}: AGate process {} (pid {}) reports again", config_.name, i,
                 s.pid);
    s.state = proto::ProcessInfo::UP;
  }
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
    if (s.state == proto::ProcessInfo::DOWN)
      return;  // seen already (pidfd and SIGCHLD)
    if (status < 0) {
      spdlog::warn("{}: AGate process {} (pid {}) ended; its sessions are lost",
                   config_.name, i, pid);
    } else {
      spdlog::warn(
          "{}: AGate process {} (pid {}) ended ({} {}); its sessions are lost",
          config_.name, i, pid, WIFSIGNALED(status) ? "signal" : "exit",
          WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    }
    s.state = proto::ProcessInfo::DOWN;
    s.address.clear();
    s.reported_sessions = s.busy_threads = 0;
    s.assigned = s.reported_starts = 0;
    s.pidfd.reset();
    s.adopted = false;
    Publish();
    if (stopping_) return;
    auto delay = s.restart->OnExit(std::chrono::steady_clock::now());
    if (!delay) {
      spdlog::error(
          "{}: AGate process {} ended {} times within {} s: not restarting it",
          config_.name, i, s.restart->recent_crashes(), supervisor_.window_s);
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(io_, *delay);
    timer->async_wait([this, i, timer](const asio::error_code&) {
      if (!stopping_ && slots_[i].state == proto::ProcessInfo::DOWN) {
        StartSlot(static_cast<int>(i));
        Publish();
      }
    });
    return;
  }
}

bool MappingManager::AssignNow(AssignDone& done, bool may_wait) {
  std::vector<ProcessView> views;
  views.reserve(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (!s.in_use) continue;
    views.push_back(ProcessView{static_cast<int>(i), s.pid,
                                s.state == proto::ProcessInfo::UP,
                                s.state == proto::ProcessInfo::STARTING,
                                Weight(s), s.sessions(), config_.max_sessions});
  }
  Assignment a =
      AssignProcess(views, config_.overload_weight, config_.max_agates);
  switch (a.kind) {
    case Assignment::kAssign: {
      Slot& s = slots_[a.process];
      ++s.assigned;
      done(grpc::Status::OK, Info(a.process));
      return true;
    }
    case Assignment::kScaleUp: {
      int started = 0;
      for (size_t i = 0; i < slots_.size() && started < config_.inc_agates;
           ++i) {
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
      spdlog::info("{}: all AGate processes overloaded; started {} more",
                   config_.name, started);
      Publish();
      [[fallthrough]];
    }
    case Assignment::kWait:
      if (!may_wait) return false;
      waiting_.push_back(Waiter{
          std::move(done), std::chrono::steady_clock::now() + kAssignWait});
      waiter_timer_.expires_after(kAssignWait);
      waiter_timer_.async_wait([this](const asio::error_code& ec) {
        if (!ec) TryAssignWaiting();
      });
      return true;
    case Assignment::kFull:
      done(
          grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       Cat("instance ", config_.name, " has no free capacity")),
          proto::ProcessInfo());
      return true;
  }
  return true;
}

void MappingManager::Assign(AssignDone done) {
  if (recovering_) {  // adopted processes first: they may have room
    waiting_.push_back(Waiter{std::move(done),
                              std::chrono::steady_clock::now() + kAssignWait});
    return;
  }
  AssignNow(done, true);
}

void MappingManager::TryAssignWaiting() {
  auto now = std::chrono::steady_clock::now();
  while (!waiting_.empty()) {
    Waiter& w = waiting_.front();
    if (w.deadline <= now) {
      w.done(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          Cat("instance ", config_.name,
                              ": no AGate process became free")),
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
  if (listeners_.empty() || recovering_) return;
  proto::Directory d = Directory();
  for (auto& [id, l] : listeners_) l(d);
}

int MappingManager::AddListener(DirectoryListener listener) {
  int id = next_listener_++;
  if (!recovering_) listener(Directory());  // else once recovery ends
  listeners_.emplace_back(id, std::move(listener));
  return id;
}

void MappingManager::RemoveListener(int id) {
  std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
}

void MappingManager::StopAll() {
  stopping_ = true;
  tick_timer_.cancel();
  recovery_timer_.cancel();
  struct Child {
    pid_t pid;
    int pidfd;  // adopted processes are not our children: watched by pidfd
  };
  std::vector<Child> children;
  for (Slot& s : slots_) {
    if (s.pid <= 0 || s.state == proto::ProcessInfo::DOWN) continue;
    children.push_back(
        {s.pid, s.adopted && s.pidfd ? s.pidfd->native_handle() : -1});
  }
  // SIGCONT too: a stopped process would hold SIGTERM pending forever.
  auto signal = [](const Child& c, int sig) {
    if (c.pidfd >= 0) {
      syscall(SYS_pidfd_send_signal, c.pidfd, sig, nullptr, 0);
    } else {
      kill(c.pid, sig);
    }
  };
  for (const Child& c : children) {
    signal(c, SIGTERM);
    signal(c, SIGCONT);
  }
  auto gone = [](const Child& c) {
    if (c.pidfd >= 0) {
      pollfd p{c.pidfd, POLLIN, 0};
      return poll(&p, 1, 0) == 1;
    }
    int status;
    pid_t r = waitpid(c.pid, &status, WNOHANG);
    return r == c.pid || (r < 0 && errno == ECHILD);
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (const Child& c : children) {
    while (!gone(c)) {
      if (std::chrono::steady_clock::now() > deadline) {
        signal(c, SIGKILL);
        if (c.pidfd < 0) {
          int status;
          waitpid(c.pid, &status, 0);
        }
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

Spawner ForkExecSpawner(const AgateCommand& cmd,
                        const AgateInstanceConfig& inst) {
  return [cmd, inst](int process, uint32_t incarnation) -> pid_t {
    std::vector<std::string> args = {
        cmd.binary,
        "--config",
        cmd.config_dir,
        "--instance",
        inst.name,
        "--process",
        std::to_string(process),
        "--incarnation",
        std::to_string(incarnation),
        "--max-sessions",
        std::to_string(inst.max_sessions),
        "--work-threads",
        std::to_string(inst.work_threads),
        "--listen",
        cmd.listen_host + ":0",
        "--mapping-manager",
        cmd.manager_address,
        "--r3",
        cmd.r3_address,
        "--time-scale",
        fmt::format("{}", cmd.time_scale),
    };
    // No PR_SET_PDEATHSIG: an agate outlives a crash of its manager, whose
    // next run adopts it; one that finds no manager for [agate]
    // orphan_exit_s exits.
    SpawnOptions spawn;
    spawn.argv = std::move(args);
    spawn.stdout_to_stderr = true;  // our stdout carries only our own lines
    auto child = its::Spawn(spawn);
    if (!child.ok()) return -1;
    if (child->pidfd >= 0) ::close(child->pidfd);  // SIGCHLD reports its end
    return child->pid;
  };
}

// ------------------------------------------------------------------ service

grpc::ServerUnaryReactor* MappingManagerService::Assign(
    grpc::CallbackServerContext* context, const proto::AssignRequest*,
    proto::AssignReply* reply) {
  auto* reactor = context->DefaultReactor();
  asio::post(io_, [this, reactor, reply] {
    manager_.Assign(
        [reactor, reply](const grpc::Status& s, const proto::ProcessInfo& p) {
          if (s.ok()) *reply->mutable_process() = p;
          reactor->Finish(s);
        });
  });
  return reactor;
}

grpc::ServerUnaryReactor* MappingManagerService::Register(
    grpc::CallbackServerContext* context, const proto::RegisterRequest* request,
    proto::Empty*) {
  return FinishOnLogicThread(
      io_, context, [this, request] { return manager_.Register(*request); });
}

grpc::ServerUnaryReactor* MappingManagerService::ReportLoad(
    grpc::CallbackServerContext* context, const proto::LoadReport* request,
    proto::Empty*) {
  return FinishOnLogicThread(
      io_, context, [this, request] { return manager_.ReportLoad(*request); });
}

grpc::ServerUnaryReactor* MappingManagerService::GetDirectory(
    grpc::CallbackServerContext* context, const proto::Empty*,
    proto::Directory* reply) {
  return FinishOnLogicThread(io_, context, [this, reply] {
    *reply = manager_.Directory();
    return grpc::Status::OK;
  });
}

namespace {

// Streams directory snapshots to one wgate. Only the newest snapshot matters:
// while a write is in flight, later snapshots replace each other.
class DirectoryWriter final
    : public grpc::ServerWriteReactor<proto::Directory> {
 public:
  DirectoryWriter(MappingManager& manager, asio::io_context& io)
      : manager_(manager), io_(io) {
    asio::post(io_, [this] {
      listener_ =
          manager_.AddListener([this](const proto::Directory& d) { Offer(d); });
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

grpc::ServerWriteReactor<proto::Directory>*
MappingManagerService::WatchDirectory(grpc::CallbackServerContext*,
                                      const proto::Empty*) {
  return new DirectoryWriter(manager_, io_);
}

}  // namespace its::mm
