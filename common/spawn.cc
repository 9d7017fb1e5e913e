#include "common/spawn.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/strings.h"

namespace its {

absl::StatusOr<Spawned> Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("no program");
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t parent = getpid();
  // For the child, where sysconf is not async-signal-safe (a fallback for
  // kernels before 5.9, which lack close_range).
  const long open_max = sysconf(_SC_OPEN_MAX);
  const int max_fd =
      static_cast<int>(open_max > 0 ? std::min(open_max, 1L << 20) : 65536L);
  pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    if (options.die_with_parent) {
      prctl(PR_SET_PDEATHSIG, options.death_signal);
      if (getppid() != parent) _exit(1);
    }
    if (options.stdout_fd >= 0) dup2(options.stdout_fd, STDOUT_FILENO);
    if (options.stderr_fd >= 0) dup2(options.stderr_fd, STDERR_FILENO);
    if (options.stdout_to_stderr) dup2(STDERR_FILENO, STDOUT_FILENO);
    // Nothing else goes along: a descriptor another thread opened a moment
    // before and has not marked FD_CLOEXEC yet (the metrics endpoint marks
    // each connection right after accept; Asio does not) would stay open in
    // the child. A connection a SO_REUSEADDR listener accepted, held open,
    // keeps a new listener off its port (Linux 6.18): an agate holding one
    // of its Mapping Manager's could keep the restarted manager from its
    // metrics port.
    long closed = -1;
#ifdef SYS_close_range
    closed = syscall(SYS_close_range, 3U, ~0U, 0U);
#endif
    if (closed != 0) {
      for (int fd = 3; fd < max_fd; ++fd) close(fd);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (pid < 0) {
    return absl::InternalError(Cat("cannot start ", options.argv[0],
                                   ": fork: ", std::strerror(errno)));
  }
  // Our child: its PID cannot be reused before we reap it, so this pidfd is
  // the child's even if it has ended already.
  return Spawned{pid, PidfdOpen(pid)};
}

int PidfdOpen(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

bool PidfdSignal(int pidfd, int sig) {
  return syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0;
}

}  // namespace its
