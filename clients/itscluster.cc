// itscluster: starts the whole ITS simulator cluster in the foreground.
// deploy/up builds the programs and runs this.
#include <signal.h>
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "clients/cluster_launcher.h"
#include "common/process.h"

int main(int argc, char** argv) {
  CLI::App app{
      "itscluster: run the ITS simulator cluster (r3_stub, one mapping_manager "
      "per AGate\n"
      "instance with its agate processes, wgate) in the foreground until "
      "SIGINT/SIGTERM."};
  its::launcher::Options o;
  o.config_dir = "deploy/config";
  o.run_dir = "build/run";
  o.bin_dir = its::ExecutableDir();
  app.add_option("--config", o.config_dir, "configuration directory")
      ->capture_default_str();
  app.add_option("--time-scale", o.time_scale,
                 "simulated seconds per real second, > 0 and <= 100000 "
                 "(overrides cluster.toml)")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            double v = 0;
            if (!CLI::detail::lexical_cast(text, v) || !(v > 0) || v > 100000) {
              return "must be > 0 and <= 100000, not " + text;
            }
            return "";
          },
          ""))
      ->type_name("X");
  app.add_option(
         "--run-dir", o.run_dir,
         "where the working config copy and the logs go; one itscluster at a "
         "time: another that runs on it is refused, what a killed one "
         "left is stopped")
      ->capture_default_str();
  app.add_flag("--clean", o.clean_run_dir,
               "empty the run directory first (logs and incarnations of "
               "earlier runs); refused like any start while another "
               "itscluster uses it");
  app.add_flag("--ephemeral-ports", o.ephemeral_ports,
               "bind every listener to a free port");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // A bad command line exits 2, as itsadm's and deploy/up's (CLI11 has a
    // code per kind of error); --help is none.
    return app.exit(e) == 0 ? 0 : 2;
  }

  // Signals are taken with sigtimedwait; children unblock them before exec.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, nullptr);

  auto cluster = its::launcher::Cluster::Start(o);
  if (!cluster.ok()) {
    std::cerr << "itscluster: " << cluster.status().message() << "\n";
    return 1;
  }
  std::cerr << "logs and the working configuration: "
            << (*cluster)->config_dir() << "\n"
            << "admin: itsadm --config " << (*cluster)->config_dir()
            << " agates|sessions|sm04|sm12\n"
            << "processes that die are restarted; Ctrl-C stops the cluster\n";
  std::printf("ready %s\n", (*cluster)->url().c_str());
  std::fflush(stdout);
  int code = 0;
  while (true) {
    timespec wait{0, 200'000'000};
    int sig = sigtimedwait(&set, nullptr, &wait);
    if (sig > 0) {
      std::cerr << "itscluster: signal " << sig << ", stopping the cluster\n";
      break;
    }
    std::string failure = (*cluster)->failure();
    if (!failure.empty()) {
      std::cerr << "itscluster: " << failure << "; stopping the cluster\n";
      code = 1;
      break;
    }
  }
  (*cluster)->Stop();
  std::cerr << "itscluster: stopped (every process of the cluster ended)\n";
  return code;
}
