#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "clients/cluster_internal.h"
#include "common/cluster_config.h"
#include "common/process.h"
#include "common/strings.h"

namespace its::launcher {

bool IsOurs(pid_t pid, const std::string& run_dir) {
  std::vector<std::string> words = ProcessCommandLine(pid);
  if (words.empty()) return false;
  bool config = false;
  for (size_t i = 0; i + 1 < words.size(); ++i)
    config |= words[i] == "--config" && words[i + 1] == run_dir;
  std::string program = std::filesystem::path(words[0]).filename();
  return config && (program == "r3_stub" || program == "mapping_manager" ||
                    program == "agate" || program == "wgate");
}

std::vector<pid_t> ClusterPids(const std::string& run_dir) {
  std::vector<pid_t> pids;
  for (int pid : ListPids()) {
    if (pid > 1 && pid != getpid() && IsOurs(pid, run_dir)) pids.push_back(pid);
  }
  return pids;
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
