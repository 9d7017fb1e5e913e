// itsadm: admin CLI of the ITS simulator (SM04, SM12, AGate processes,
// sessions).
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "clients/admin.h"
#include "common/duration.h"
#include "common/strings.h"

namespace {

// What an action command did: a sentence, or with --json {"done": sentence}.
void PrintDone(const std::string& done, bool json) {
  if (json) {
    std::cout << nlohmann::json{{"done", done}}.dump(2) << "\n";
  } else {
    std::cout << done << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "itsadm: look into a running ITS simulator cluster.\n"
      "Reads the cluster's addresses from DIR/cluster.toml."};
  std::string config_dir = "deploy/config";
  bool json = false;
  std::string action;
  std::string end_id_text;  // parsed below: CLI11 takes -1 as 2^64-1
  // --config also after the command (itsadm sm04 --config build/run).
  app.fallthrough();
  app.add_option("--config", config_dir,
                 "configuration directory of the cluster")
      ->capture_default_str();
  app.add_flag("--json", json,
               "print a JSON list of objects, one per row ({\"done\": ...} "
               "for fault, drain, undrain and sm05 end)");
  app.require_subcommand(1);
  struct Command {
    const char* name;
    const char* help;
  };
  for (const Command& c : {
           Command{"agates",
                   "AGate processes of every instance (Mapping Manager "
                   "directories)"},
           Command{"sessions", "ITS sessions held by every live AGate process"},
           Command{"sm04", "R/3 user list (SM04)"},
           Command{"sm05",
                   "HTTP security sessions (SM05); 'sm05 end ID' ends one and "
                   "its sessions"},
           Command{"sm12", "R/3 lock entries (SM12)"},
           Command{"loadstat",
                   "load statistics per AGate process (like loadstat.log)"},
           Command{"processes",
                   "the cluster's processes as its launcher supervises them "
                   "(restarts, state)"},
           Command{"time",
                   "the cluster's simulated time and time scale (from its "
                   "configuration)"},
       }) {
    auto* sub = app.add_subcommand(c.name, c.help);
    sub->add_flag("--json", json, "print JSON");
    if (std::string(c.name) == "sm05") {
      sub->add_option("action", action, "'end' to end a security session")
          ->check(CLI::IsMember({"end"}));
      sub->add_option("id", end_id_text,
                      "ID of the security session to end (from 'itsadm sm05')");
    }
  }
  std::vector<std::string> fault_words;
  auto* fault = app.add_subcommand(
      "fault",
      "inject a fault through the cluster launcher:\n"
      "  kill TARGET             SIGKILL (a crash; the process is restarted)\n"
      "  hang TARGET [DURATION]  SIGSTOP (a hung process), resumed after "
      "DURATION\n"
      "  resume TARGET           SIGCONT\n"
      "  delay [INSTANCE] 'agate->r3' DURATION   every call to R/3 waits "
      "DURATION,\n"
      "                          also of agates started later (at most "
      "10m)\n"
      "  clear                   resume every hung process, remove every "
      "delay\n"
      "TARGET: agate IT1/0, mapping_manager IT2, r3_stub, wgate. DURATION: "
      "20s, 200ms, 2m");
  fault->add_option("words", fault_words, "the fault, e.g. kill agate IT1/1");
  fault->add_flag("--json", json, "print {\"done\": what was done}");
  std::string drain_target, wait_for;
  double wait_s = 0;
  auto* drain = app.add_subcommand(
      "drain",
      "take an AGate instance (IT2) or process (IT1/1) out of assignment: it "
      "gets no new sessions and serves its own until they end (maintenance "
      "without logging anyone off)");
  drain->add_option("target", drain_target, "IT1/1 or IT2")->required();
  drain->add_flag("--json", json, "print {\"done\": what was done}");
  drain
      ->add_option("--wait", wait_for,
                   "wait up to this long until its last session ended (e.g. "
                   "10m); exit 1 if it did not")
      ->check([&wait_s](const std::string& text) -> std::string {
        auto v = its::ParseDuration(text);
        if (!v) return "not a duration (e.g. 30s, 10m): " + text;
        wait_s = *v;
        return "";
      });
  std::string trace_id;
  auto* trace = app.add_subcommand(
      "trace",
      "one request's journey (the ID from its X-ITS-Trace header or its "
      "page's footer): the spans of every process, by ITS step, as the "
      "wgate gathers them for /trace/ID");
  trace->add_option("id", trace_id, "trace ID, 32 lower-case hex digits")
      ->required();
  trace->add_flag("--json", json, "print JSON");
  auto* undrain = app.add_subcommand(
      "undrain", "let a drained instance or process take new sessions again");
  undrain->add_option("target", drain_target, "IT1/1 or IT2")->required();
  undrain->add_flag("--json", json, "print {\"done\": what was done}");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (app.get_subcommands().empty() && !app.remaining().empty()) {
      std::cerr << "itsadm: unknown command '" << app.remaining().front()
                << "' (see itsadm --help)\n";
      return 2;
    }
    // A bad command line is a usage error like any other: 2 (CLI11 has a
    // code of its own per kind).
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  std::string command = app.get_subcommands().front()->get_name();

  auto config = its::ClusterConfig::Load(config_dir);
  if (!config.ok()) {
    std::cerr << "itsadm: " << config.status().message() << "\n";
    return 2;
  }
  // Prints the error; exit code 2 for a wrong request, else 1.
  auto fail = [&config_dir](const absl::Status& s) {
    std::cerr << "itsadm: " << s.message() << "\n";
    if (absl::IsUnavailable(s)) {
      std::cerr << "itsadm: is a cluster running with the configuration in "
                << config_dir
                << "? deploy/up and itscluster run from a copy: --config "
                   "build/run (or the --run-dir given)\n";
    }
    return absl::IsInvalidArgument(s) ? 2 : 1;
  };
  if (command == "fault") {
    auto done = its::admin::Fault(*config, fault_words);
    if (!done.ok()) return fail(done.status());
    PrintDone(*done, json);
    return 0;
  }
  if (command == "drain" || command == "undrain") {
    auto done =
        its::admin::Drain(*config, drain_target, command == "drain", wait_s);
    if (!done.ok()) return fail(done.status());
    PrintDone(*done, json);
    return 0;
  }
  if (command == "trace") {
    std::string steps;
    auto t = its::admin::Trace(*config, trace_id, &steps);
    if (!t.ok()) return fail(t.status());
    for (const auto& w : t->warnings)
      std::cerr << "itsadm: warning: " << w << "\n";
    if (json) {
      std::cout << its::admin::ToJson(*t).dump(2) << "\n";
    } else {
      std::cout << "trace " << trace_id << ": steps "
                << (steps.empty() ? "-" : steps) << "\n"
                << its::admin::ToText(*t) << "\n";
    }
    return 0;
  }
  if (command == "sm05" && action == "end") {
    uint64_t end_id = 0;
    if (end_id_text.empty()) {
      std::cerr << "itsadm: sm05 end needs the ID of a security session (see "
                   "'itsadm sm05')\n";
      return 2;
    }
    if (!absl::SimpleAtoi(end_id_text, &end_id) || end_id == 0 ||
        end_id_text.find_first_not_of("0123456789") != std::string::npos) {
      std::cerr << "itsadm: sm05 end: the ID of a security session is a "
                   "whole number from 1 (see 'itsadm sm05'), not '"
                << end_id_text.substr(0, 40) << "'\n";
      return 2;
    }
    if (auto s = its::admin::EndSecuritySession(*config, end_id); !s.ok()) {
      return fail(s);
    }
    PrintDone(its::Cat("security session ", end_id,
                       " and its application sessions ended"),
              json);
    return 0;
  }
  auto table = its::admin::Query(*config, command);
  if (!table.ok()) return fail(table.status());
  for (const auto& w : table->warnings)
    std::cerr << "itsadm: warning: " << w << "\n";
  if (json) {
    std::cout << its::admin::ToJson(*table).dump(2) << "\n";
    return 0;
  }
  std::cout << its::admin::ToText(*table) << "\n";
  if (command != "time") {
    std::cout << its::admin::ClockLine(
                     *config,
                     std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count())
              << "\n";
  }
  return 0;
}
