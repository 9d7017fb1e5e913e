// itsload: scripted clients for the ITS simulator.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>

#include "clients/load_coordinator.h"
#include "clients/load_engine.h"
#include "clients/load_worker.h"
#include "clients/report_render.h"
#include "clients/thresholds.h"
#include "clients/wgate_processes.h"
#include "common/cluster_config.h"
#include "common/duration.h"
#include "common/http_client.h"
#include "common/strings.h"

namespace {

using its::load::Threshold;

constexpr int kExitThresholds = 1;
constexpr int kExitSetup = 2;
constexpr int kExitNoResponse = 3;
constexpr int kExitWorkerLost = 4;
// Stopped early by SIGINT/SIGTERM: the figures are of a shorter run than asked
// (the shell's convention, 128 + the signal).
constexpr int kExitSigint = 130, kExitSigterm = 143;

// The load shape the run follows: from the command line if it gives one,
// else from the scenario. "" or why there is none.
std::string ChoosePlan(const its::load::Scenario& scenario, int users,
                       double rate, double ramp_up_s, double duration_s,
                       bool duration_given,
                       const std::vector<its::load::Stage>& stages,
                       const std::string& model, its::load::LoadOptions* o) {
  if (users > 0) {
    o->open_model = false;
    o->plan = its::load::StagePlan::RampThenHold(users, ramp_up_s, duration_s);
  } else if (rate > 0) {
    o->open_model = true;
    o->plan = its::load::StagePlan::Constant(rate, duration_s);
  } else if (!stages.empty() || !scenario.stages.empty()) {
    if (duration_given) {
      return "--duration does not go with stages: their durations add up to "
             "the run's";
    }
    o->plan = its::load::StagePlan(stages.empty() ? scenario.stages : stages);
    o->open_model = model.empty() ? scenario.open_model : model == "open";
    if (o->plan.duration_s() <= 0) return "the stages last 0 s";
  } else {
    return "give --users N (closed model), --rate R (open model) or --stage "
           "DURATION:TARGET (or [[stage]] in the scenario)";
  }
  return "";
}

struct CheckedThreshold {
  Threshold threshold;
  its::load::ThresholdResult result;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "itsload: run a scenario of ITS user journeys against a wgate and "
      "measure it.\n"
      "Closed model: --users N virtual users loop journeys. Open model: --rate "
      "R journeys\n"
      "per second arrive at random (Poisson). Or stages: --stage 30s:100 "
      "--stage 1m:100\n"
      "(linear ramps, k6-style; targets are users, or journeys/s with --model "
      "open).\n"
      "Latencies count from the intended send time. Durations take units: "
      "500ms, 30s, 2m, 1h.\n"
      "Thresholds: --threshold 'p99<50ms' --threshold 'errors<1%' "
      "--threshold 'step:enter-document:p95<20ms'.\n"
      "Exit status: 0 the run is done and every threshold held; 1 a threshold "
      "failed;\n"
      "2 the run could not start (options, scenario, report files, a worker "
      "that does not\n"
      "answer); 3 no request got a response (nothing listens at --url); 4 a "
      "worker was lost\n"
      "or stopped during the run (the report has what the others "
      "measured);\n"
      "130 / 143 stopped by SIGINT / SIGTERM (what was measured is reported).\n"
      "Workers: itsload --worker --listen HOST:PORT on each load host, then "
      "itsload SCENARIO\n"
      "--workers HOST:PORT,... splits the load across them."};
  std::string scenario_file, url = "http://127.0.0.1:8080", report_file,
                             html_file, csv_file;
  its::load::LoadOptions o;
  int users_n = 0;
  double rate_r = 0;
  bool quiet = false;
  app.add_option("scenario", scenario_file,
                 "scenario file (TOML), e.g. deploy/scenarios/display.toml");
  app.add_option("--url", url, "wgate URL")->capture_default_str();
  auto* users =
      app.add_option("--users", users_n, "closed model: virtual users")
          ->check(CLI::Range(1, 100000));
  auto* rate =
      app.add_option("--rate", rate_r, "open model: journeys per second")
          ->check(CLI::Validator(
              [](std::string& text) -> std::string {
                double v = 0;
                if (!CLI::detail::lexical_cast(text, v) || !(v > 0) || v > 1e9)
                  return "journeys per second: a number > 0, not " + text;
                return "";
              },
              ""))
          ->type_name("R");
  users->excludes(rate);
  // Durations as testers type them; a plain number keeps its old unit.
  auto duration = [](double plain_unit_s, double min_s, double max_s,
                     double* out_s) {
    return [=](const std::string& text) -> std::string {
      auto v = its::ParseDuration(text, plain_unit_s);
      if (!v || *v < min_s || *v > max_s) {
        return fmt::format(
            "not a duration from {:g} s to {:g} s (e.g. 500ms, 30s, 2m): {}",
            min_s, max_s, text);
      }
      *out_s = *v;
      return "";
    };
  };
  std::string ramp_up, run_for = "10s", think, graceful;
  double ramp_up_s = 0, duration_s = 10;
  auto* ramp = app.add_option("--ramp-up", ramp_up,
                              "closed model: the users start evenly over "
                              "this time (plain number: seconds)")
                   ->check(duration(1, 0, 86400, &ramp_up_s));
  ramp->excludes(rate);
  auto* dur = app.add_option("--duration", run_for,
                             "how long to run (plain number: seconds)")
                  ->capture_default_str()
                  ->check(duration(1, 1, 86400, &duration_s));
  std::vector<std::string> stage_texts;
  std::vector<its::load::Stage> stages;
  auto* stage =
      app.add_option("--stage", stage_texts,
                     "a stage DURATION:TARGET, repeatable: the target (users, "
                     "or journeys/s with --model open) goes linearly from the "
                     "last stage's (0 at first) over the duration")
          ->check([&stages](const std::string& text) -> std::string {
            auto s = its::load::ParseStage(text);
            if (!s.ok()) return std::string(s.status().message());
            stages.push_back(*s);
            return "";
          });
  stage->excludes(users)->excludes(rate)->excludes(ramp);
  std::string model;
  app.add_option("--model", model,
                 "with stages: closed (targets are users) or open (journeys "
                 "per second); default: the scenario's, else closed")
      ->check(CLI::IsMember({"closed", "open"}))
      ->needs(stage);
  app.add_option("--graceful-stop", graceful,
                 "at the end, running journeys get this long to finish; then "
                 "they are logged off (at most 5 s more), unless they abandon "
                 "(default: the "
                 "scenario's, else 10s)")
      ->check(duration(1, 0, 3600, &o.graceful_stop_s));
  double think_s = -1;
  app.add_option("--think", think,
                 "think time of every step, overriding the scenario (plain "
                 "number: milliseconds)")
      ->check(duration(0.001, 0, 3600, &think_s));
  std::vector<std::string> threshold_texts;
  std::vector<Threshold> thresholds;
  app.add_option("--threshold", threshold_texts,
                 "a pass/fail criterion, repeatable, added to the scenario's: "
                 "p99<50ms, p95<=0.2s, mean<10ms, errors<1%, errors==0, "
                 "failed<1%, rps>100, requests>=1000; scoped: "
                 "journey:NAME:..., step:STEP:..., step:JOURNEY/STEP:...")
      ->check([&thresholds](const std::string& text) -> std::string {
        auto t = its::load::ParseThreshold(text);
        if (!t.ok()) return std::string(t.status().message());
        thresholds.push_back(*t);
        return "";
      });
  bool abort_on_fail = false;
  app.add_flag("--abort-on-fail", abort_on_fail,
               "end the run as soon as a command-line threshold fails "
               "(checked every second)");
  app.add_option("--max-active", o.max_active,
                 "open model: journeys in progress at most")
      ->capture_default_str();
  app.add_option("--seed", o.seed,
                 "random seed (journey choice, think times, arrivals)")
      ->capture_default_str();
  app.add_option("--report", report_file, "write the JSON report here");
  app.add_option("--html", html_file, "write the HTML report here");
  app.add_option("--csv", csv_file,
                 "write the time series here (CSV: a line per second)");
  app.add_flag("--quiet", quiet, "no progress lines");
  // ---- Workers (clients/load_worker.h, clients/load_coordinator.h) ----
  bool worker = false;
  std::string listen = "127.0.0.1:0";
  its::load::CoordinatorOptions coordinator;
  auto* worker_flag =
      app.add_flag("--worker", worker,
                   "be a worker: run shares of loads for coordinators "
                   "(itsload SCENARIO --workers ...) until SIGTERM");
  app.add_option("--listen", listen,
                 "worker: the address to serve on (port 0: any free one)")
      ->capture_default_str()
      ->needs(worker_flag);
  app.add_option("--workers", coordinator.workers,
                 "HOST:PORT,...: split the load across these itsload workers "
                 "and report their merged figures")
      ->delimiter(',')
      ->excludes(worker_flag);
  // ---- end of workers ----
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitSetup;  // --help is no error
  }
  if (worker) {
    if (!scenario_file.empty()) {
      std::cerr << "itsload: a worker takes no scenario: its coordinator "
                   "sends it\n";
      return kExitSetup;
    }
    return its::load::RunWorker(listen, quiet);
  }
  if (scenario_file.empty()) {
    std::cerr << "itsload: give a scenario file (or --worker); --help for "
                 "more\n";
    return kExitSetup;
  }
  if (!coordinator.workers.empty() && abort_on_fail) {
    std::cerr << "itsload: --abort-on-fail does not go with --workers: "
                 "thresholds are evaluated on the merged figures at the end\n";
    return kExitSetup;
  }
  if (think_s >= 0) o.think_ms = think_s * 1000;
  if (abort_on_fail) {
    for (Threshold& t : thresholds) t.abort = true;
  }
  o.progress = !quiet;
  o.handle_signals = true;  // Ctrl-C: the graceful stop, then the report
  std::string addr = url.rfind("http://", 0) == 0 ? url.substr(7) : url;
  if (auto slash = addr.find('/'); slash != std::string::npos)
    addr.resize(slash);
  if (!its::ParseHostPort(addr, &o.host, &o.port).ok() || o.port == 0) {
    std::cerr << "itsload: --url must be http://host:port, got '" << url
              << "'\n";
    return kExitSetup;
  }
  // The engine connects to an address: a name (localhost, a Kubernetes
  // service) is resolved once, here.
  if (auto ip = its::ResolveIPv4(o.host); ip.ok()) {
    o.host = *ip;
  } else {
    std::cerr << "itsload: --url: " << ip.status().message() << "\n";
    return kExitSetup;
  }
  auto scenario = its::load::Scenario::Load(scenario_file);
  if (!scenario.ok()) {
    std::cerr << "itsload: " << scenario.status().message() << "\n";
    return kExitSetup;
  }
  if (std::string why =
          ChoosePlan(*scenario, users_n, rate_r, ramp_up_s, duration_s,
                     dur->count() > 0, stages, model, &o);
      !why.empty()) {
    std::cerr << "itsload: " << why << "\n";
    return kExitSetup;
  }
  // Report files are opened before the run (a path that cannot be written
  // is said at once, not after the run), but after every other check: a
  // refused run leaves an earlier report as it was.
  std::ofstream report_out, html_out, csv_out;
  for (auto [path, out] :
       {std::pair{&report_file, &report_out}, std::pair{&html_file, &html_out},
        std::pair{&csv_file, &csv_out}}) {
    if (path->empty()) continue;
    out->open(*path);
    if (!*out) {
      std::cerr << "itsload: cannot write " << *path << ": "
                << std::strerror(errno) << "\n";
      return kExitSetup;
    }
  }
  if (graceful.empty() && scenario->graceful_stop_s >= 0)
    o.graceful_stop_s = scenario->graceful_stop_s;
  // The scenario's thresholds first, then the command line's.
  std::vector<CheckedThreshold> checks;
  for (const auto& spec : scenario->thresholds) {
    Threshold t = *its::load::ParseThreshold(spec.expr);  // checked on load
    t.abort = spec.abort;
    t.abort_after_s = spec.abort_after_s;
    checks.push_back({t, {}});
  }
  for (const Threshold& t : thresholds) checks.push_back({t, {}});
  // Every second: thresholds at risk on the progress line; an aborting one
  // that fails ends the run.
  if (!checks.empty()) {
    o.monitor = [&checks](const its::load::LoadStats& stats, double elapsed_s,
                          std::string* abort) {
      std::string risk;
      for (auto& c : checks) {
        c.result = its::load::Evaluate(c.threshold, stats, elapsed_s);
        if (c.result.ok || c.result.no_data) continue;
        risk += (risk.empty() ? "at risk: " : ", ") +
                its::load::Describe(c.threshold, c.result);
        if (c.threshold.abort && elapsed_s >= c.threshold.abort_after_s &&
            abort->empty()) {
          *abort = its::Cat("threshold ", c.threshold.text,
                            " failed at t=", elapsed_s, "s");
        }
      }
      return risk;
    };
  }
  // The run: in this process, or split across workers.
  for (const auto& spec : scenario->thresholds) {
    if (spec.abort && !coordinator.workers.empty()) {
      std::cerr << "itsload: with --workers, threshold " << spec.expr
                << " is checked at the end only (no abort)\n";
    }
  }
  coordinator.scenario_file = scenario_file;
  coordinator.progress = o.progress;
  const auto run_start = std::chrono::steady_clock::now();
  its::load::RunOutcome run =
      coordinator.workers.empty()
          ? its::load::RunHere(*scenario, o)
          : its::load::RunOnWorkers(*scenario, o, coordinator);
  if (run.stats == nullptr) {
    std::cerr << "itsload: " << run.error << "\n";
    return kExitSetup;
  }
  const its::load::LoadStats& stats = *run.stats;
  nlohmann::json report = stats.Report(scenario->name, o.open_model);
  nlohmann::json stage_list = nlohmann::json::array();
  for (const auto& s : o.plan.stages())
    stage_list.push_back({{"duration_s", s.duration_s}, {"target", s.target}});
  report["parameters"] = {
      {"url", url},
      {"users", users_n},
      {"rate", rate_r},
      {"duration_s", o.plan.duration_s()},
      {"ramp_up_s", ramp_up_s},
      {"think_ms",
       o.think_ms >= 0 ? nlohmann::json(o.think_ms) : nlohmann::json(nullptr)},
      {"graceful_stop_s", o.graceful_stop_s},
      {"seed", o.seed},
      {"max_active", o.max_active},
      {"stages", stage_list},
      {"workers", run.workers}};
  bool thresholds_ok = true;
  nlohmann::json threshold_list = nlohmann::json::array();
  for (auto& c : checks) {
    c.result = its::load::Evaluate(c.threshold, stats, stats.elapsed_s());
    thresholds_ok = thresholds_ok && c.result.ok;
    threshold_list.push_back({{"threshold", c.threshold.text},
                              {"ok", c.result.ok},
                              {"value", c.result.value},
                              {"unit", c.result.unit},
                              {"no_data", c.result.no_data},
                              {"abort", c.threshold.abort}});
  }
  report["thresholds"] = threshold_list;
  report["thresholds_ok"] = thresholds_ok;
  report["aborted"] = run.aborted;
  report["stopped_by"] = run.stopped_by;
  if (!run.lost.empty()) report["lost_workers"] = run.lost;

  // Every AGate process the wgate knows, so idle ones show with 0 requests -
  // within what is left of the run's bound (duration + graceful stop + 5 s,
  // README "Clean endings"), at most 2 s: a hung wgate costs no more.
  const double left_ms = (o.plan.duration_s() + o.graceful_stop_s + 5) * 1000 -
                         std::chrono::duration<double, std::milli>(
                             std::chrono::steady_clock::now() - run_start)
                             .count();
  const bool answered = report["requests"].get<uint64_t>() >
                        report["transport_errors"].get<uint64_t>();
  if (answered && left_ms < 100) {
    std::cerr << "itsload: idle AGate processes not listed: the run used its "
                 "time (duration + graceful stop + 5 s)\n";
  } else if (answered) {
    auto processes = its::load::FetchAgateProcesses(
        o.host, o.port, static_cast<int>(std::min(2000.0, left_ms)));
    if (processes.ok()) {
      for (const std::string& p : *processes) {
        if (!report["agates"].contains(p)) report["agates"][p] = 0;
      }
    } else {
      std::cerr << "itsload: idle AGate processes not listed: "
                << processes.status().message() << "\n";
    }
  }
  std::cout << its::load::RenderText(report);
  if (!run.stopped_by.empty())
    std::cout << "stopped early by " << run.stopped_by << "\n";
  if (report_out.is_open()) report_out << report.dump(2) << "\n";
  if (html_out.is_open()) html_out << its::load::RenderHtml(report);
  if (csv_out.is_open()) csv_out << its::load::RenderCsv(report);
  for (auto [path, out] :
       {std::pair{&report_file, &report_out}, std::pair{&html_file, &html_out},
        std::pair{&csv_file, &csv_out}}) {
    if (!out->is_open()) continue;
    out->close();
    if (!*out) {
      std::cerr << "itsload: writing " << *path << " failed\n";
      return kExitSetup;
    }
  }
  if (!run.lost.empty()) {
    for (const std::string& lost : run.lost)
      std::cerr << "itsload: lost worker " << lost << "\n";
    std::cerr << "itsload: the figures lack what the lost workers did not "
                 "send or run\n";
    return kExitWorkerLost;
  }
  const uint64_t requests = report["requests"].get<uint64_t>();
  if (requests > 0 && report["transport_errors"].get<uint64_t>() == requests) {
    std::cerr << "itsload: no request got a response: is the wgate at " << url
              << " running?\n";
    return kExitNoResponse;
  }
  if (!thresholds_ok) {
    std::cerr << "itsload: thresholds failed\n";
    return kExitThresholds;
  }
  if (!run.stopped_by.empty())
    return run.stopped_by == "SIGINT" ? kExitSigint : kExitSigterm;
  return 0;
}
