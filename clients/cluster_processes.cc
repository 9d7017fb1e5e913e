#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "clients/cluster_internal.h"
#include "common/cluster_config.h"
#include "common/process.h"
#include "common/spawn.h"
#include "common/strings.h"

namespace its::launcher {

bool IsOurs(pid_t pid, const std::string& run_dir) {
  std::vector<std::string> words = ProcessCommandLine(pid);
  if (words.empty()) return false;
  std::string program = std::filesystem::path(words[0]).filename();
  if (program != "r3_stub" && program != "mapping_manager" &&
      program != "agate" && program != "wgate")
    return false;
  const std::filesystem::path config = CommandLineOption(words, "--config");
  if (config.empty()) return false;
  if (config == run_dir) return true;
  // The same directory by another path (a symbolic link, a relative path
  // from the process's working directory).
  std::error_code ec;
  std::filesystem::path where = config;
  if (config.is_relative()) {
    where =
        std::filesystem::read_symlink(Cat("/proc/", pid, "/cwd"), ec) / config;
    if (ec) return false;
  }
  return std::filesystem::equivalent(where, run_dir, ec) && !ec;
}

std::vector<pid_t> ClusterPids(const std::string& run_dir) {
  std::vector<pid_t> pids;
  for (int pid : ListPids()) {
    if (pid > 1 && pid != getpid() && IsOurs(pid, run_dir)) pids.push_back(pid);
  }
  return pids;
}

namespace {

// The PID of the process that holds the flock on the file open as `fd`,
// from /proc/locks ("1: FLOCK  ADVISORY  WRITE 4606 fe:00:10952712 0 EOF"),
// or 0. Not from the PID the holder writes into the file: a launcher that
// lost a race for the lock may read it before the winner wrote its own.
pid_t LockHolder(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return 0;
  char file[64];
  std::snprintf(file, sizeof file, "%02x:%02x:%llu", major(st.st_dev),
                minor(st.st_dev), static_cast<unsigned long long>(st.st_ino));
  const std::string inode = Cat(":", static_cast<uint64_t>(st.st_ino));
  std::ifstream locks("/proc/locks");
  std::string line;
  std::vector<int> by_inode;  // the device may be spelt otherwise (btrfs)
  while (std::getline(locks, line)) {
    std::vector<std::string_view> w;
    for (auto word : Split(line, ' '))
      if (!word.empty()) w.push_back(word);
    // "N:" FLOCK ADVISORY WRITE pid dev:inode start end
    int pid = 0;
    if (w.size() < 6 || w[1] != "FLOCK" || !ParseInt(w[4], &pid)) continue;
    if (w[5] == file) return pid;
    if (w[5].ends_with(inode)) by_inode.push_back(pid);
  }
  if (by_inode.size() == 1) return by_inode[0];
  // The PID the holder wrote, if that process still runs.
  char text[32] = {};
  ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  int written = 0;
  if (n > 0 && ParseInt(Trim(std::string_view(text, n)), &written) &&
      written > 0 && ::kill(written, 0) == 0)
    return written;
  return 0;
}

}  // namespace

absl::StatusOr<int> LockRunDir(const std::string& run_dir) {
  const std::string path = Cat(run_dir, "/", kRunDirLock);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        Cat("cannot open ", path, ": ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const pid_t holder = error == EWOULDBLOCK ? LockHolder(fd) : 0;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          Cat("--run-dir ", run_dir, " belongs to another itscluster",
              holder > 0 ? Cat(" (pid ", holder, ")") : std::string(),
              " that still runs: stop it first (Ctrl-C, or kill -TERM), or "
              "give this one another --run-dir"));
    }
    return absl::FailedPreconditionError(
        Cat("cannot lock ", path, ": ", std::strerror(error)));
  }
  const std::string pid = Cat(getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) !=
                                     static_cast<ssize_t>(pid.size())) {
    auto error = absl::FailedPreconditionError(
        Cat("cannot write ", path, ": ", std::strerror(errno)));
    ::close(fd);
    return error;
  }
  return fd;
}

namespace {

// Waits until every pidfd of `fds` is readable (its process ended) or
// `deadline` passes; ended ones are set to -1 (and closed).
void WaitEnded(std::vector<int>& fds,
               std::chrono::steady_clock::time_point deadline) {
  while (true) {
    std::vector<pollfd> polled;
    for (int fd : fds)
      if (fd >= 0) polled.push_back({fd, POLLIN, 0});
    if (polled.empty()) return;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    if (::poll(polled.data(), polled.size(), left.count()) < 0 &&
        errno != EINTR)
      return;
    for (const pollfd& p : polled) {
      if (p.revents == 0) continue;
      for (int& fd : fds) {
        if (fd == p.fd) {
          ::close(fd);
          fd = -1;
        }
      }
    }
  }
}

}  // namespace

std::vector<std::string> StopLeftovers(const std::string& run_dir,
                                       int grace_ms) {
  std::vector<std::string> found;
  // Rounds until none is left: a Mapping Manager that goes on may restart
  // an agate (whose end it saw) before it acts on its SIGTERM.
  for (int round = 0; round < 5; ++round) {
    std::vector<int> fds;
    for (pid_t pid : ClusterPids(run_dir)) {
      int fd = PidfdOpen(pid);
      if (fd < 0) continue;  // ended meanwhile
      // Held by the pidfd: still one of ours, not a reused PID?
      std::vector<std::string> words = ProcessCommandLine(pid);
      if (!IsOurs(pid, run_dir) || words.empty()) {
        ::close(fd);
        continue;
      }
      std::string what = std::filesystem::path(words[0]).filename();
      const std::string instance = CommandLineOption(words, "--instance");
      const std::string process = CommandLineOption(words, "--process");
      if (!instance.empty()) what += Cat(" ", instance);
      if (!process.empty()) what += Cat("/", process);
      found.push_back(Cat(what, " (pid ", pid, ")"));
      // A stopped process acts on the SIGTERM once it goes on: a Mapping
      // Manager then stops its agates as it always does.
      PidfdSignal(fd, SIGTERM);
      PidfdSignal(fd, SIGCONT);
      fds.push_back(fd);
    }
    if (fds.empty()) break;
    auto now = std::chrono::steady_clock::now;
    WaitEnded(fds, now() + std::chrono::milliseconds(grace_ms));
    for (int fd : fds)
      if (fd >= 0) PidfdSignal(fd, SIGKILL);
    WaitEnded(fds, now() + std::chrono::seconds(2));
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  return found;
}

bool IsAgateOf(pid_t pid, const AgateSlot& slot) {
  auto words = ProcessCommandLine(pid);
  return !words.empty() &&
         std::filesystem::path(words[0]).filename() == "agate" &&
         CommandLineOption(words, "--config") == slot.run_dir &&
         CommandLineOption(words, "--instance") == slot.instance &&
         CommandLineOption(words, "--mapping-manager") == slot.manager &&
         CommandLineOption(words, "--process") == std::to_string(slot.process);
}

std::vector<pid_t> AgatePidsByCommandLine(const AgateSlot& slot) {
  std::vector<pid_t> pids;
  for (int pid : ListPids())
    if (pid > 1 && IsAgateOf(pid, slot)) pids.push_back(pid);
  return pids;
}

std::optional<std::string> ReadyAddress(const std::string& stdout_path) {
  std::ifstream in(stdout_path);
  std::string line;
  while (std::getline(in, line)) {
    auto words = Split(line, ' ');
    if (words.size() >= 3 && words[0] == "ready") return std::string(words[2]);
  }
  return std::nullopt;
}

std::string ReadyMetrics(const std::string& stdout_path) {
  std::ifstream in(stdout_path);
  std::string line;
  while (std::getline(in, line)) {
    auto words = Split(line, ' ');
    if (words.size() < 3 || words[0] != "ready") continue;
    for (size_t i = 3; i < words.size(); ++i) {
      if (words[i].substr(0, 8) == "metrics=")
        return std::string(words[i].substr(8));
    }
  }
  return "";
}

absl::StatusOr<ReservedPort> ReservePort() {
  ReservedPort r;
  r.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t len = sizeof sin;
  int one = 1;
  if (r.fd < 0 ||
      ::setsockopt(r.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::bind(r.fd, reinterpret_cast<sockaddr*>(&sin), len) != 0 ||
      ::getsockname(r.fd, reinterpret_cast<sockaddr*>(&sin), &len) != 0) {
    auto error = absl::InternalError(
        Cat("cannot reserve a port: ", std::strerror(errno)));
    if (r.fd >= 0) ::close(r.fd);
    return error;
  }
  r.port = ntohs(sin.sin_port);
  return r;
}

std::string WithPort(const std::string& addr, int port) {
  std::string host;
  int old;
  if (!ParseHostPort(addr, &host, &old).ok()) return addr;
  return Cat(host, ":", port);
}

std::string WithPort0(const std::string& addr) { return WithPort(addr, 0); }

}  // namespace its::launcher
