#include "common/pidfd_watcher.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace its {

PidfdWatcher::PidfdWatcher(GrpcLoop& loop)
    : loop_(loop),
      epoll_fd_(epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // ids start at 1
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  thread_ = std::thread([this] { Run(); });
}

PidfdWatcher::~PidfdWatcher() {
  stop_ = true;
  uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof one) < 0) {
    // An eventfd write fails only on overflow: the thread is awake anyway.
  }
  thread_.join();
  absl::MutexLock l(&mu_);
  while (!watched_.empty()) Forget(watched_.begin());
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

int PidfdWatcher::Watch(int pidfd, std::function<void()> on_end) {
  if (pidfd < 0) return 0;
  int fd = ::fcntl(pidfd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return 0;
  absl::MutexLock l(&mu_);
  int id = next_id_++;
  epoll_event ev{};
  // One report per watch: no busy wake-ups between the report and Forget.
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.u64 = static_cast<uint64_t>(id);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    ::close(fd);
    return 0;
  }
  watched_.emplace(id, Entry{fd, std::move(on_end)});
  return id;
}

void PidfdWatcher::Cancel(int id) {
  absl::MutexLock l(&mu_);
  auto it = watched_.find(id);
  if (it != watched_.end()) Forget(it);
}

void PidfdWatcher::Forget(std::map<int, Entry>::iterator it) {
  // Removed explicitly: the caller's pidfd shares the open file, so closing
  // our duplicate alone would leave it in the epoll set.
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
  ::close(it->second.fd);
  watched_.erase(it);
}

void PidfdWatcher::Run() {
  epoll_event events[16];
  while (!stop_) {
    int n = epoll_wait(epoll_fd_, events, 16, -1);
    if (n < 0) continue;  // EINTR
    std::vector<std::function<void()>> ended;
    {
      absl::MutexLock l(&mu_);
      for (int i = 0; i < n; ++i) {
        auto it = watched_.find(static_cast<int>(events[i].data.u64));
        if (events[i].data.u64 == 0 || it == watched_.end()) continue;
        ended.push_back(std::move(it->second.on_end));
        Forget(it);
      }
    }
    if (stop_) break;
    for (auto& fn : ended) loop_.Post(std::move(fn));
  }
}

}  // namespace its
