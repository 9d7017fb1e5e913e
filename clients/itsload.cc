// itsload: scripted clients for the ITS simulator.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "clients/load_engine.h"
#include "common/cluster_config.h"
#include "common/duration.h"
#include "common/strings.h"

int main(int argc, char** argv) {
  CLI::App app{
      "itsload: run a scenario of ITS user journeys against a wgate and "
      "measure it.\n"
      "Closed model: --users N virtual users loop journeys. Open model: --rate "
      "R journeys\n"
      "per second arrive at random (Poisson). Latencies count from the "
      "intended send time.\n"
      "Durations take units: 500ms, 30s, 2m, 1h.\n"
      "Exit status: 0 the run is done; 2 the run could not start (options, "
      "scenario,\n"
      "report files); 3 no request got a response (nothing listens at "
      "--url)."};
  std::string scenario_file, url = "http://127.0.0.1:8080", report_file,
                             html_file;
  its::load::LoadOptions o;
  bool quiet = false;
  app.add_option("scenario", scenario_file,
                 "scenario file (TOML), e.g. deploy/scenarios/display.toml")
      ->required();
  app.add_option("--url", url, "wgate URL")->capture_default_str();
  auto* users =
      app.add_option("--users", o.users, "closed model: virtual users")
          ->check(CLI::Range(1, 100000));
  auto* rate =
      app.add_option("--rate", o.rate, "open model: journeys per second")
          ->check(CLI::PositiveNumber);
  users->excludes(rate);
  // Durations as testers type them; a plain number keeps its old unit.
  auto duration = [](double plain_unit_s, double min_s, double max_s,
                     double* out_s) {
    return [=](const std::string& text) -> std::string {
      auto v = its::ParseDuration(text, plain_unit_s);
      if (!v || *v < min_s || *v > max_s) {
        return "not a duration from " + std::to_string(min_s) + " s to " +
               std::to_string(max_s) + " s (e.g. 500ms, 30s, 2m): " + text;
      }
      *out_s = *v;
      return "";
    };
  };
  std::string ramp_up, run_for = "10s", think;
  auto* ramp = app.add_option("--ramp-up", ramp_up,
                              "closed model: the users start evenly over "
                              "this time (plain number: seconds)")
                   ->check(duration(1, 0, 86400, &o.ramp_up_s));
  ramp->excludes(rate);
  app.add_option("--duration", run_for,
                 "how long to run (plain number: seconds)")
      ->capture_default_str()
      ->check(duration(1, 1, 86400, &o.duration_s));
  double think_s = -1;
  app.add_option("--think", think,
                 "think time of every step, overriding the scenario (plain "
                 "number: milliseconds)")
      ->check(duration(0.001, 0, 3600, &think_s));
  app.add_option("--max-active", o.max_active,
                 "open model: journeys in progress at most")
      ->capture_default_str();
  app.add_option("--seed", o.seed,
                 "random seed (journey choice, think times, arrivals)")
      ->capture_default_str();
  app.add_option("--report", report_file, "write the JSON report here");
  app.add_option("--html", html_file, "write the HTML report here");
  app.add_flag("--quiet", quiet, "no progress lines");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is no error
  }
  if (think_s >= 0) o.think_ms = think_s * 1000;
  // Report files are opened before the run: a path that cannot be written
  // is said at once, not after the run.
  std::ofstream report_out, html_out;
  for (auto [path, out] : {std::pair{&report_file, &report_out},
                           std::pair{&html_file, &html_out}}) {
    if (path->empty()) continue;
    out->open(*path);
    if (!*out) {
      std::cerr << "itsload: cannot write " << *path << ": "
                << std::strerror(errno) << "\n";
      return 2;
    }
  }
  if (o.users == 0 && o.rate <= 0) {
    std::cerr
        << "itsload: give --users N (closed model) or --rate R (open model)\n";
    return 2;
  }
  o.progress = !quiet;
  std::string addr = url.rfind("http://", 0) == 0 ? url.substr(7) : url;
  if (auto slash = addr.find('/'); slash != std::string::npos)
    addr.resize(slash);
  if (!its::ParseHostPort(addr, &o.host, &o.port).ok() || o.port == 0) {
    std::cerr << "itsload: --url must be http://host:port, got '" << url
              << "'\n";
    return 2;
  }
  if (o.host == "localhost") o.host = "127.0.0.1";
  auto scenario = its::load::Scenario::Load(scenario_file);
  if (!scenario.ok()) {
    std::cerr << "itsload: " << scenario.status().message() << "\n";
    return 2;
  }
  asio::io_context io(1);
  its::load::LoadEngine engine(io, *scenario, o);
  engine.Run();
  nlohmann::json report = engine.Report();
  const auto& l = report["latency_ms"];
  std::cout << fmt::format(
      "{} requests, {} errors, {:.1f} requests/s, latency p50 {} ms p90 {} ms "
      "p99 {} ms p99.9 {} ms "
      "max {} ms; journeys: {} started, {} completed, {} failed; itsload CPU "
      "{:.0f}%\n",
      report["requests"].get<uint64_t>(), report["errors"].get<uint64_t>(),
      report["throughput_rps"].get<double>(), l["p50"].get<double>(),
      l["p90"].get<double>(), l["p99"].get<double>(), l["p999"].get<double>(),
      l["max"].get<double>(), report["journeys"]["started"].get<uint64_t>(),
      report["journeys"]["completed"].get<uint64_t>(),
      report["journeys"]["failed"].get<uint64_t>(),
      report["itsload_cpu_percent"].get<double>());
  if (!report["errors_by_kind"].empty())
    std::cout << "errors: " << report["errors_by_kind"].dump() << "\n";
  if (report["transport_errors"].get<uint64_t>() > 0) {
    std::cout << fmt::format(
        "{} requests got no response; users backed off {} times, {:.1f} s in "
        "all\n",
        report["transport_errors"].get<uint64_t>(),
        report["backoffs"].get<uint64_t>(),
        report["backoff_wait_s"].get<double>());
  }
  if (report_out.is_open()) report_out << report.dump(2) << "\n";
  if (html_out.is_open()) html_out << its::load::HtmlReport(report);
  for (auto [path, out] : {std::pair{&report_file, &report_out},
                           std::pair{&html_file, &html_out}}) {
    if (!out->is_open()) continue;
    out->close();
    if (!*out) {
      std::cerr << "itsload: writing " << *path << " failed\n";
      return 2;
    }
  }
  const uint64_t requests = report["requests"].get<uint64_t>();
  if (requests > 0 && report["transport_errors"].get<uint64_t>() == requests) {
    std::cerr << "itsload: no request got a response: is the wgate at " << url
              << " running?\n";
    return 3;
  }
  return 0;
}
