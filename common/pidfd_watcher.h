#pragma once

// Tells a GrpcLoop when processes end. gRPC's completion queue cannot watch
// a file descriptor, so one small thread waits on the pidfds (epoll) and
// posts each end into the loop; the loop thread does everything else
// (reaping, restarting). A pidfd becomes readable once its process ended.

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_loop.h"

namespace its {

class PidfdWatcher {
 public:
  explicit PidfdWatcher(GrpcLoop& loop);
  ~PidfdWatcher();  // stops the thread; pending ends are not reported
  PidfdWatcher(const PidfdWatcher&) = delete;
  PidfdWatcher& operator=(const PidfdWatcher&) = delete;

  // Any thread. `on_end` runs once on the loop thread after the process
  // behind `pidfd` ended (at once if it has already; never once the loop
  // stopped). The watcher uses its own duplicate: the caller keeps `pidfd`.
  // Returns an id for Cancel, or 0 if `pidfd` cannot be watched.
  int Watch(int pidfd, std::function<void()> on_end) ABSL_LOCKS_EXCLUDED(mu_);
  // Any thread. No report for `id` from now on (one already posted may
  // still run: callers check that the process is still theirs).
  void Cancel(int id) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    int fd;  // our duplicate of the pidfd
    std::function<void()> on_end;
  };
  void Run() ABSL_LOCKS_EXCLUDED(mu_);  // the watcher thread
  void Forget(std::map<int, Entry>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  GrpcLoop& loop_;
  // Set before the thread starts, then only read.
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: the destructor wakes the thread with it
  std::atomic<bool> stop_{false};
  // Shared by the callers of Watch and Cancel and the watcher thread.
  absl::Mutex mu_;
  std::map<int, Entry> watched_ ABSL_GUARDED_BY(mu_);
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::thread thread_;
};

}  // namespace its
