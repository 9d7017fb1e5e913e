#include "common/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "common/log.h"

namespace its {

void RunUntilSignal(asio::io_context& io, std::function<void()> stop) {
  auto guard = asio::make_work_guard(io);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::thread stopper;
  signals.async_wait([&](const asio::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    stopper = std::thread([&] {
      if (stop) stop();
      guard.reset();
      io.stop();
    });
  });
  io.run();
  if (stopper.joinable()) stopper.join();
}

void RunUntilSignal(GrpcLoop& loop, std::function<void()> stop) {
  // Signals are taken on a small Asio thread of their own: the loop thread
  // polls only gRPC.
  asio::io_context signal_io(1);
  asio::signal_set signals(signal_io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    if (stop) stop();
    loop.Shutdown();
  });
  std::thread watcher([&] { signal_io.run(); });
  loop.Run();
  signals.cancel();
  watcher.join();
}

void UseBatchScheduling() {
  sched_param param{};
  param.sched_priority = 0;
  if (sched_setscheduler(0, SCHED_BATCH, &param) != 0) {
    spdlog::warn("SCHED_BATCH not available: {}", std::strerror(errno));
  }
}

int StayOnThisCpu() {
  int cpu = sched_getcpu();
  if (cpu < 0) return -1;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    spdlog::warn("cannot keep the threads on CPU {}: {}", cpu,
                 std::strerror(errno));
    return -1;
  }
  return cpu;
}

std::string ReadProcFile(int pid, const char* name) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (n < 0) return "";  // it ended while we read
  return out;
}

namespace {

// The state letter of /proc/PID/stat, or 0 if there is none.
char ProcessState(int pid) {
  // "PID (comm) S ...": comm may hold spaces and parentheses, the state
  // follows the last ')'.
  std::string stat = ReadProcFile(pid, "stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return 0;
  return stat[close + 2];
}

}  // namespace

bool IsStopped(int pid) {
  char state = ProcessState(pid);
  return state == 'T' || state == 't';
}

bool HasEnded(int pid) {
  char state = ProcessState(pid);
  return state == 0 || state == 'Z' || state == 'X';
}

std::vector<std::string> ProcessCommandLine(int pid) {
  std::string all = ReadProcFile(pid, "cmdline");
  std::vector<std::string> words;
  size_t start = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] == '\0') {
      words.push_back(all.substr(start, i - start));
      start = i + 1;
    }
  }
  return words;
}

std::string CommandLineOption(const std::vector<std::string>& words,
                              std::string_view name) {
  for (size_t i = 0; i + 1 < words.size(); ++i)
    if (words[i] == name) return words[i + 1];
  return "";
}

std::vector<int> ListPids() {
  std::vector<int> pids;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return pids;
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && pid > 0)
      pids.push_back(static_cast<int>(pid));
  }
  ::closedir(dir);
  return pids;
}

std::string ExecutableDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

}  // namespace its
