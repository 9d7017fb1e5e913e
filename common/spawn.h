#pragma once

// Starting child processes: the one fork/exec of the cluster launcher
// (itscluster) and the Mapping Manager (its agates). A child is held by a
// pidfd from the start, so its end can be watched (poll/epoll: readable) and
// it can be signalled without ever hitting a process that merely reused its
// PID.

#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace its {

struct SpawnOptions {
  // argv[0] is the path of the executable.
  std::vector<std::string> argv;
  // Become the child's stdout/stderr (dup2); -1: inherited. The parent keeps
  // (and closes) its descriptors; open them O_CLOEXEC.
  int stdout_fd = -1;
  int stderr_fd = -1;
  // The child's stdout goes to its stderr (after stderr_fd was applied):
  // the parent's stdout carries only the parent's own lines.
  bool stdout_to_stderr = false;
  // The child gets `death_signal` when the spawning thread ends
  // (PR_SET_PDEATHSIG), and does not start if the parent already ended.
  // A stopped child (SIGSTOP) does not act on SIGTERM until continued:
  // SIGKILL for one with nothing to hand over.
  bool die_with_parent = false;
  int death_signal = SIGTERM;
};

struct Spawned {
  pid_t pid = -1;
  int pidfd = -1;  // close-on-exec; the caller closes it; -1 if unavailable
};

// Forks and execs; the child starts with an empty signal mask and no
// descriptors but 0, 1 and 2. Errors only if fork fails (an exec failure
// shows as exit status 127).
absl::StatusOr<Spawned> Spawn(const SpawnOptions& options);

// A pidfd for `pid` (-1 with errno set if it is gone or not watchable).
int PidfdOpen(pid_t pid);
// Signals the process behind `pidfd`. False if it is gone.
bool PidfdSignal(int pidfd, int sig);

}  // namespace its
