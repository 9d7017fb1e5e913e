// PidfdWatcher (common/pidfd_watcher.h) and Spawn (common/spawn.h): real
// child processes, ends reported on the loop thread; no sleeps — every wait
// is for a condition.
#include "common/pidfd_watcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/spawn.h"
#include "tests/integration/loop_thread.h"

namespace its {
namespace {

using testing::LoopThread;

// Ends reported by a watcher, in order, with whether they ran on the loop.
struct Ends {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> names;
  std::vector<bool> on_loop;
  std::function<void()> Note(const std::string& name, LoopThread& t) {
    return [this, name, &t] {
      std::lock_guard<std::mutex> l(mu);
      names.push_back(name);
      on_loop.push_back(std::this_thread::get_id() == t.id());
      cv.notify_all();
    };
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(10),
                       [&] { return names.size() >= n; });
  }
};

Spawned Start(std::vector<std::string> argv) {
  SpawnOptions options;
  options.argv = std::move(argv);
  auto child = Spawn(options);
  EXPECT_TRUE(child.ok()) << child.status();
  EXPECT_GE(child->pidfd, 0);
  return *child;
}

int Reap(const Spawned& child) {
  int status = 0;
  EXPECT_EQ(waitpid(child.pid, &status, 0), child.pid);
  ::close(child.pidfd);
  return status;
}

TEST(PidfdWatcher, AnEndIsReportedOnTheLoopThreadWithTheChildsStatus) {
  LoopThread t;
  t.Start();
  PidfdWatcher watcher(t.loop());
  Ends ends;
  Spawned child = Start({"/bin/sh", "-c", "exit 3"});
  ASSERT_NE(watcher.Watch(child.pidfd, ends.Note("sh", t)), 0);
  ASSERT_TRUE(ends.WaitFor(1));
  EXPECT_EQ(ends.names, std::vector<std::string>{"sh"});
  EXPECT_EQ(ends.on_loop, std::vector<bool>{true});
  int status = Reap(child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
}

TEST(PidfdWatcher, AProcessThatEndedBeforeTheWatchIsReportedAtOnce) {
  LoopThread t;
  t.Start();
  PidfdWatcher watcher(t.loop());
  Ends ends;
  Spawned child = Start({"/bin/true"});
  siginfo_t info{};  // wait for the end without reaping: the pidfd stays valid
  ASSERT_EQ(waitid(P_PID, child.pid, &info, WEXITED | WNOWAIT), 0);
  ASSERT_NE(watcher.Watch(child.pidfd, ends.Note("true", t)), 0);
  ASSERT_TRUE(ends.WaitFor(1));
  Reap(child);
}

TEST(PidfdWatcher, ACancelledWatchReportsNothingAndTheCallerKeepsItsPidfd) {
  LoopThread t;
  t.Start();
  PidfdWatcher watcher(t.loop());
  Ends ends;
  Spawned cancelled = Start({"/bin/sleep", "30"});
  int id = watcher.Watch(cancelled.pidfd, ends.Note("cancelled", t));
  ASSERT_NE(id, 0);
  watcher.Cancel(id);
  ASSERT_TRUE(PidfdSignal(cancelled.pidfd, SIGKILL));  // still ours to use
  int status = Reap(cancelled);
  EXPECT_TRUE(WIFSIGNALED(status));
  // A later end is reported, the cancelled one never was.
  Spawned later = Start({"/bin/true"});
  ASSERT_NE(watcher.Watch(later.pidfd, ends.Note("later", t)), 0);
  ASSERT_TRUE(ends.WaitFor(1));
  Reap(later);
  EXPECT_EQ(ends.names, std::vector<std::string>{"later"});
}

TEST(Spawn, AChildGetsOnlyItsStandardDescriptors) {
  // Opened without FD_CLOEXEC, as a descriptor another thread has just
  // accepted is: the child must not keep it (an agate could hold a connection
  // of its Mapping Manager's metrics endpoint, and with it the port).
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  Spawned child = Start({"/bin/sh", "-c",
                         "for fd in " + std::to_string(fds[0]) + " " +
                             std::to_string(fds[1]) +
                             "; do [ -L /proc/self/fd/$fd ] && exit 3; done; "
                             "[ -L /proc/self/fd/2 ] || exit 4; exit 0"});
  int status = Reap(child);
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "3: the child inherited a descriptor; 4: it lost stderr";
}

}  // namespace
}  // namespace its
