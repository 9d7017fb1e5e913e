// The Mapping Manager's AGate processes: starting, adopting, watching,
// judging their liveness, restarting and stopping them. Loop thread only.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/line_config.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/strings.h"
#include "mapping_manager/manager.h"

namespace its::mm {
namespace {

// How long StopAll waits after SIGTERM before SIGKILL, and after SIGKILL
// for the ends to show.
constexpr auto kStopGrace = std::chrono::seconds(2);
constexpr auto kKillGrace = std::chrono::seconds(1);

}  // namespace

void MappingManager::set_incarnation_file(std::string path) {
  incarnation_file_ = std::move(path);
  std::ifstream in(incarnation_file_);
  std::string line;
  while (std::getline(in, line)) {
    auto words = Split(line, ' ', true);
    int process = -1, incarnation = -1;
    if (words.size() != 2 || !ParseInt(words[0], &process) ||
        !ParseInt(words[1], &incarnation) || process < 0 ||
        process >= static_cast<int>(slots_.size()) || incarnation < 0 ||
        incarnation > 0xff) {
      spdlog::warn("{}: {}: ignoring line \"{}\"", config_.name,
                   incarnation_file_, line);
      continue;
    }
    slots_[process].incarnation = static_cast<uint32_t>(incarnation);
  }
}

void MappingManager::SaveIncarnations() const {
  if (incarnation_file_.empty()) return;
  std::string text;
  for (size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].incarnation != 0)
      Append(&text, i, " ", slots_[i].incarnation, "\n");
  if (auto s = WriteFileAtomically(incarnation_file_, text); !s.ok())
    spdlog::warn("{}: {}", config_.name, s.message());
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
        "Mapping Manager; adopting it",
        config_.name, a.process, a.pid, s.incarnation);
    recovering_ = true;
    ++adopted;
    // Not our child: its PID could be reused after it ended unnoticed, its
    // pidfd cannot.
    s.pidfd = PidfdOpen(s.pid);
    if (s.pidfd < 0) {
      spdlog::warn("{}: cannot watch pid {}: {}", config_.name, s.pid,
                   std::strerror(errno));
    }
    Watch(a.process);
  }
  return adopted;
}

void MappingManager::Watch(int index) {
  Slot& s = slots_[index];
  pid_t pid = s.pid;
  s.watch_id = watcher_.Watch(s.pidfd, [this, pid] { ProcessEnded(pid); });
  if (s.watch_id == 0) {
    // Gone already, or unwatchable (no descriptor left): a live process
    // would end unnoticed and its slot be started twice, so it ends now.
    Signal(s, SIGKILL);
    if (s.adopted && s.pidfd < 0) kill(pid, SIGKILL);  // in /proc just now
    if (!s.adopted) waitpid(pid, nullptr, 0);  // SIGKILLed: reaped at once
    loop_.Post([this, pid] { ProcessEnded(pid); });
  }
}

void MappingManager::ReleasePidfd(Slot& s) {
  if (s.watch_id != 0) watcher_.Cancel(s.watch_id);
  s.watch_id = 0;
  if (s.pidfd >= 0) ::close(s.pidfd);
  s.pidfd = -1;
}

void MappingManager::Signal(Slot& s, int sig) {
  if (s.pidfd >= 0) {
    PidfdSignal(s.pidfd, sig);
  } else if (s.pid > 0 && !s.adopted) {
    kill(s.pid, sig);  // our child: a zombie until we reap it, never reused
  }
}

void MappingManager::StartSlot(int index) {
  Slot& s = slots_[index];
  if (stopping_) return;
  ReleasePidfd(s);
  s.in_use = true;
  s.adopted = false;
  s.killed_unresponsive = false;
  s.incarnation = (s.incarnation + 1) & 0xff;
  SaveIncarnations();
  s.state = proto::ProcessInfo::STARTING;
  // Judged from its start until it registers: one that hangs before it
  // does is unresponsive, then restarted, like one that stops reporting.
  s.last_report = std::chrono::steady_clock::now();
  s.address.clear();
  s.metrics_address.clear();
  s.reported_sessions = s.busy_threads = 0;
  s.unconfirmed.Clear();
  s.turnaround_s = 0;
  Spawned child = spawner_(index, s.incarnation);
  if (child.pid > 0 && child.pidfd < 0) {
    // Unwatchable (no descriptor left): its end would go unnoticed. A
    // SIGKILLed child is reaped at once.
    spdlog::error("{}: no pidfd for AGate process {} (pid {}): {}",
                  config_.name, index, child.pid, std::strerror(errno));
    kill(child.pid, SIGKILL);
    waitpid(child.pid, nullptr, 0);
    child.pid = -1;
  }
  s.pid = child.pid;
  if (s.pid <= 0) {
    spdlog::error("{}: cannot start AGate process {}", config_.name, index);
    s.state = proto::ProcessInfo::DOWN;
    loop_.After(std::chrono::seconds(1), [this, index] { StartSlot(index); });
    return;
  }
  s.pidfd = child.pidfd;
  Watch(index);
  spdlog::info("{}: started AGate process {} (pid {}, incarnation {})",
               config_.name, index, s.pid, s.incarnation);
}

void MappingManager::ProcessEnded(pid_t pid) {
  for (const Slot& s : slots_) {
    if (s.pid != pid || s.state == proto::ProcessInfo::DOWN) continue;
    if (s.adopted) {
      ChildExited(pid, -1);  // not our child: no status
      return;
    }
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);  // its pidfd said it ended
    ChildExited(pid, r == pid ? status : -1);
    return;
  }
}

void MappingManager::ChildExited(pid_t pid, int status) {
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (s.pid != pid) continue;
    if (s.state == proto::ProcessInfo::DOWN) return;  // seen already
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
    s.metrics_address.clear();
    s.reported_sessions = s.busy_threads = 0;
    s.unconfirmed.Clear();
    ReleasePidfd(s);
    s.adopted = false;
    Publish();
    if (stopping_) {
      if (AllDown()) FinishStop();
      return;
    }
    auto delay = s.restart->OnExit(std::chrono::steady_clock::now());
    if (!delay) {
      spdlog::error(
          "{}: AGate process {} ended {} times within {} s: not restarting it",
          config_.name, i, s.restart->recent_crashes(), supervisor_.window_s);
      return;
    }
    loop_.After(*delay, [this, i] {
      if (!stopping_ && slots_[i].state == proto::ProcessInfo::DOWN) {
        if (metrics_) metrics_->Restarted(static_cast<int>(i));
        StartSlot(static_cast<int>(i));
        Publish();
      }
    });
    return;
  }
}

void MappingManager::ArmTick() {
  tick_timer_.Arm(std::chrono::seconds(1), [this] {
    if (stopping_) return;
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
        "AGate processes by the reports missed meanwhile",
        config_.name,
        std::chrono::duration_cast<std::chrono::milliseconds>(now - last_tick_)
            .count());
    for (Slot& s : slots_) s.last_report = std::max(s.last_report, now);
  }
  last_tick_ = now;
  ReportLeftOut(decision_log_.LeftOut(now));
  bool changed = false;
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    // A process this manager started that has not registered yet is judged
    // from its start (s.last_report) by the registration grace; adopted ones
    // by EndRecovery, then as silent ones.
    const bool unregistered = !s.adopted && s.address.empty() &&
                              (s.state == proto::ProcessInfo::STARTING ||
                               s.state == proto::ProcessInfo::UNRESPONSIVE);
    const bool starting = s.state == proto::ProcessInfo::STARTING;
    bool live = s.state == proto::ProcessInfo::UP ||
                s.state == proto::ProcessInfo::UNRESPONSIVE ||
                (starting && !s.adopted);
    if (!live || s.killed_unresponsive) continue;
    switch (unregistered ? JudgeStart(s.last_report, now, liveness_)
                         : JudgeLiveness(s.last_report, now, liveness_)) {
      case Liveness::kResponsive:
        break;
      case Liveness::kUnresponsive:
        if (s.state == proto::ProcessInfo::UP) {
          spdlog::warn(
              "{}: AGate process {} (pid {}) missed {} load reports: "
              "unresponsive, no new sessions",
              config_.name, i, s.pid, liveness_.missed_reports);
          s.state = proto::ProcessInfo::UNRESPONSIVE;
          changed = true;
        } else if (starting) {
          spdlog::warn(
              "{}: AGate process {} (pid {}) has not registered {} s after "
              "its start: unresponsive",
              config_.name, i, s.pid,
              std::chrono::duration_cast<std::chrono::seconds>(now -
                                                               s.last_report)
                  .count());
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

void MappingManager::StopAll(std::function<void()> done) {
  stopping_ = true;
  stopped_ = std::move(done);
  tick_timer_.Cancel();
  recovery_timer_.Cancel();
  waiter_timer_.Cancel();
  std::deque<Waiter> waiting;
  waiting.swap(waiting_);
  for (Waiter& w : waiting) {
    w.done(grpc::Status(
               grpc::StatusCode::UNAVAILABLE,
               Cat("the Mapping Manager of ", config_.name, " is stopping")),
           proto::ProcessInfo());
  }
  // SIGCONT too: a stopped process would hold SIGTERM pending forever.
  for (Slot& s : slots_) {
    if (s.pid <= 0 || s.state == proto::ProcessInfo::DOWN) continue;
    Signal(s, SIGTERM);
    Signal(s, SIGCONT);
  }
  if (AllDown()) {
    FinishStop();
    return;
  }
  stop_timer_.Arm(kStopGrace, [this] {
    for (Slot& s : slots_) {
      if (s.pid > 0 && s.state != proto::ProcessInfo::DOWN) {
        spdlog::warn("{}: AGate process pid {} did not stop; SIGKILL",
                     config_.name, s.pid);
        Signal(s, SIGKILL);
      }
    }
    stop_timer_.Arm(kKillGrace, [this] { FinishStop(); });
  });
}

bool MappingManager::AllDown() const {
  for (const Slot& s : slots_) {
    if (s.pid > 0 && s.state != proto::ProcessInfo::DOWN) return false;
  }
  return true;
}

void MappingManager::FinishStop() {
  if (!stopped_) return;
  stop_timer_.Cancel();
  std::function<void()> done = std::move(stopped_);
  stopped_ = nullptr;
  done();
}

}  // namespace its::mm
