#include <unistd.h>

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

std::string WithPort0(const std::string& addr) {
  std::string host;
  int port;
  if (!ParseHostPort(addr, &host, &port).ok()) return addr;
  return host + ":0";
}

}  // namespace its::launcher
