#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "absl/status/statusor.h"

namespace its::launcher {

struct Options {
  std::string config_dir;        // the configuration to run (cluster.toml, services/, r3/)
  std::string run_dir;           // gets a working copy of it, the logs and stdout files
  std::string bin_dir;           // where r3_stub, mapping_manager, agate, wgate are
  double time_scale = 0;         // > 0: overrides cluster.toml
  bool ephemeral_ports = false;  // every listener on port 0 (tests)
  std::function<void(toml::table&)> edit;  // changes to cluster.toml before the start
  // Extra files (path relative to the config directory, content), e.g. a
  // service file a test needs.
  std::vector<std::pair<std::string, std::string>> files;
  int ready_timeout_ms = 30000;
  bool remove_run_dir = false;   // delete run_dir when the cluster stops (tests)
};

// A running cluster: r3_stub, one mapping_manager per AGate instance (which
// start their agates) and the wgate, started in that order. Each process
// announces the address it bound ("ready <name> <address>" on stdout); the
// working copy of cluster.toml is updated with it before the next process
// starts, so port 0 works everywhere.
class Cluster {
 public:
  struct Process {
    std::string name;  // r3_stub, mapping_manager IT1, wgate
    pid_t pid = -1;
    std::string address;
    std::string log;   // its stderr
  };

  // Starts everything and waits until /healthz answers 200.
  static absl::StatusOr<std::unique_ptr<Cluster>> Start(Options options);
  ~Cluster();

  // SIGTERM to every process, SIGKILL to what is left after `budget_ms`.
  void Stop(int budget_ms = 4500);

  const std::string& url() const { return url_; }  // http://host:port of the wgate
  const std::string& config_dir() const { return options_.run_dir; }  // effective config
  const std::vector<Process>& processes() const { return processes_; }
  const Process* Find(const std::string& name) const;
  // If a started process has exited: its name (reaps it). Empty otherwise.
  std::string ExitedProcess();

 private:
  explicit Cluster(Options options) : options_(std::move(options)) {}
  absl::Status Spawn(const std::string& name, std::vector<std::string> args, Process* out);
  absl::Status WriteConfig();

  Options options_;
  toml::table config_;
  std::vector<Process> processes_;
  std::string url_;
  bool stopped_ = false;
};

}  // namespace its::launcher
