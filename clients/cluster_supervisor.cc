// The cluster launcher's supervisor thread: restarts processes that end
// (with back-off; not after too many crashes) and resumes processes a HANG
// fault stopped for a while.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "clients/cluster_internal.h"
#include "common/spawn.h"
#include "common/strings.h"

namespace its::launcher {

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
      absl::MutexLock l(&mu_);
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
    absl::MutexLock l(&mu_);
    for (auto it = hung_.begin(); it != hung_.end();) {
      if (it->second.resume_at && *it->second.resume_at <= Clock::now()) {
        if (PidfdSignal(it->second.pidfd, SIGCONT)) {
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

}  // namespace its::launcher
