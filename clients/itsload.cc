// itsload: scripted clients for the ITS simulator.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "clients/load_engine.h"
#include "common/cluster_config.h"
#include "common/strings.h"

int main(int argc, char** argv) {
  CLI::App app{
      "itsload: run a scenario of ITS user journeys against a wgate and "
      "measure it.\n"
      "Closed model: --users N virtual users loop journeys. Open model: --rate "
      "R journeys\n"
      "per second arrive at random (Poisson). Latencies count from the "
      "intended send time."};
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
  app.add_option("--ramp-up", o.ramp_up_s,
                 "closed model: seconds over which the users start");
  app.add_option("--duration", o.duration_s, "seconds to run")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
  app.add_option("--think", o.think_ms,
                 "think time in ms for every step (overrides the scenario)");
  app.add_option("--max-active", o.max_active,
                 "open model: journeys in progress at most")
      ->capture_default_str();
  app.add_option("--seed", o.seed,
                 "random seed (journey choice, think times, arrivals)")
      ->capture_default_str();
  app.add_option("--report", report_file, "write the JSON report here");
  app.add_option("--html", html_file, "write the HTML report here");
  app.add_flag("--quiet", quiet, "no progress lines");
  CLI11_PARSE(app, argc, argv);
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
  if (!report_file.empty())
    std::ofstream(report_file) << report.dump(2) << "\n";
  if (!html_file.empty())
    std::ofstream(html_file) << its::load::HtmlReport(report);
  return 0;
}
