// itsload against a real cluster: both load models, the reports,
// the three journey ends, and scenario errors. And against no cluster at
// all: a dead port, or one that hangs up at once, must get a few attempts
// spaced by back-off, not a connect loop.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

ProgramRun Itsload(const std::string& args) {
  return RunProgram("itsload", args);
}

std::string Scenario(const std::string& name) {
  return Cat(ITS_SOURCE_DIR, "/deploy/scenarios/", name);
}

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// A loopback socket bound to an ephemeral port; `listen` or not.
int BoundSocket(bool listen_too, int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
      (listen_too && listen(fd, 128) != 0)) {
    ADD_FAILURE() << "socket: " << strerror(errno);
  }
  *port = ntohs(a.sin_port);
  return fd;
}

// A port on 127.0.0.1 nobody listens on: bound to learn it, then closed.
int DeadPort() {
  int port = 0;
  close(BoundSocket(false, &port));
  return port;
}

// Runs itsload with `args`; `after` into the run injects `action` on
// `target` (for `seconds`); every fault is cleared once the run ended.
ProgramRun ItsloadWithFault(launcher::Cluster& c, const std::string& args,
                            std::chrono::milliseconds after,
                            proto::FaultRequest::Action action,
                            const std::string& target, double seconds) {
  ProgramRun r;
  std::thread load([&] { r = Itsload(args); });
  std::this_thread::sleep_for(after);
  proto::FaultRequest fault;
  fault.set_action(action);
  fault.set_target(target);
  fault.set_seconds(seconds);
  proto::FaultReply reply;
  EXPECT_TRUE(c.Fault(fault, &reply).ok());
  load.join();
  proto::FaultRequest clear;
  clear.set_action(proto::FaultRequest::CLEAR);
  EXPECT_TRUE(c.Fault(clear, &reply).ok());
  return r;
}

// With 50 ms to start, doubling, and jitter taking at most half off, one
// virtual user's earliest attempts are at 0, 25, 75, 175, 375, 775 and
// 1575 ms: at most 7 in 2 s, whatever the machine.
constexpr int kMaxAttemptsIn2s = 7;

TEST(Itsload, ClosedModelBacksOffFromADeadPort) {
  std::string report = Cat(std::filesystem::temp_directory_path().string(),
                           "/itsload-dead-", getpid(), ".json");
  auto t0 = std::chrono::steady_clock::now();
  ProgramRun r = Itsload(Cat(Scenario("display.toml"),
                             " --url http://127.0.0.1:", DeadPort(),
                             " --users 20 --duration 2s --report ", report));
  double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  // Nothing answered: the run says so in its exit status (and the report
  // is still written).
  ASSERT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("no request got a response"), std::string::npos)
      << r.output;
  auto j = ReadJson(report);
  std::filesystem::remove(report);
  uint64_t requests = j["requests"].get<uint64_t>();
  // Every attempt is an error, and a transport one; none was free.
  EXPECT_GT(j["errors"].get<uint64_t>(), 0u) << j.dump();
  EXPECT_EQ(j["errors"].get<uint64_t>(), requests);
  EXPECT_EQ(j["transport_errors"].get<uint64_t>(), requests);
  EXPECT_EQ(j["errors_by_kind"]["connect: Connection refused"], requests)
      << j["errors_by_kind"].dump();
  // Each failure made its user wait before trying again (but a failure that
  // came back after the run's time was up: the user waits for nothing).
  EXPECT_GE(j["backoffs"].get<uint64_t>() + 20, requests);
  EXPECT_GT(j["backoff_wait_s"].get<double>(), 0);
  // Before the back-off: ~100,000 refused connects in 2 s at full CPU.
  EXPECT_LE(requests, 20u * kMaxAttemptsIn2s) << r.output;
  EXPECT_GE(requests, 20u * 3) << r.output;  // but it did keep trying
  EXPECT_LT(j["itsload_cpu_percent"].get<double>(), 20) << r.output;
  EXPECT_EQ(j["journeys"]["completed"], 0);
  EXPECT_LT(wall_s, 15);
  EXPECT_NE(r.output.find("requests got no response; users backed off"),
            std::string::npos)
      << r.output;
}

// A server that accepts and hangs up before answering: "closed by server"
// (or a reset, or a broken pipe) is a transport failure like a refusal.
TEST(Itsload, ClosedModelBacksOffFromAServerThatHangsUp) {
  int port = 0;
  int listener = BoundSocket(true, &port);
  std::atomic<int> accepted = 0;
  std::thread hang_up([&] {
    for (;;) {
      int fd = accept(listener, nullptr, nullptr);
      if (fd < 0) return;  // shut down: the test is over
      ++accepted;
      close(fd);
    }
  });
  std::string report = Cat(std::filesystem::temp_directory_path().string(),
                           "/itsload-hangup-", getpid(), ".json");
  ProgramRun r =
      Itsload(Cat(Scenario("display.toml"), " --url http://127.0.0.1:", port,
                  " --users 20 --duration 2 --quiet --report ", report));
  shutdown(listener, SHUT_RDWR);
  hang_up.join();
  close(listener);
  ASSERT_EQ(r.exit_code, 3) << r.output;
  auto j = ReadJson(report);
  std::filesystem::remove(report);
  uint64_t requests = j["requests"].get<uint64_t>();
  EXPECT_GT(requests, 0u);
  EXPECT_EQ(j["errors"].get<uint64_t>(), requests);
  EXPECT_EQ(j["transport_errors"].get<uint64_t>(), requests)
      << j["errors_by_kind"].dump();
  EXPECT_LE(requests, 20u * kMaxAttemptsIn2s) << j["errors_by_kind"].dump();
  EXPECT_LE(accepted.load(), static_cast<int>(20 * kMaxAttemptsIn2s) + 20);
  EXPECT_LT(j["itsload_cpu_percent"].get<double>(), 20);
}

// The open model never retries: a failed arrival's journey just ends, and
// arrivals keep to --rate.
TEST(Itsload, OpenModelDoesNotRetryADeadPort) {
  std::string report = Cat(std::filesystem::temp_directory_path().string(),
                           "/itsload-dead-open-", getpid(), ".json");
  ProgramRun r = Itsload(
      Cat(Scenario("mixed.toml"), " --url http://127.0.0.1:", DeadPort(),
          " --rate 50 --duration 2 --quiet --report ", report));
  ASSERT_EQ(r.exit_code, 3) << r.output;
  auto j = ReadJson(report);
  std::filesystem::remove(report);
  uint64_t requests = j["requests"].get<uint64_t>();
  EXPECT_GT(requests, 0u);
  EXPECT_EQ(j["errors"].get<uint64_t>(), requests);
  EXPECT_EQ(j["transport_errors"].get<uint64_t>(), requests);
  EXPECT_LE(requests, 300u);  // ~100 arrivals (Poisson, 50/s for 2 s)
  EXPECT_LE(requests, j["journeys"]["started"].get<uint64_t>());  // one each
  EXPECT_EQ(j["backoffs"], 0);
  EXPECT_LT(j["itsload_cpu_percent"].get<double>(), 20);
}

TEST(Itsload, ClosedModelWritesTheReports) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  ProgramRun r =
      Itsload(Cat(Scenario("display.toml"), " --url ", c->url(),
                  " --users 20 --duration 2 --think 5 --quiet --report ", dir,
                  "/r.json --html ", dir, "/r.html --csv ", dir, "/r.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = ReadJson(dir + "/r.json");
  for (const char* key :
       {"requests", "errors", "throughput_rps", "latency_ms", "journeys",
        "steps", "agates", "itsload_cpu_percent", "timeline"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_GT(j["requests"].get<int>(), 100);
  EXPECT_EQ(j["errors"], 0) << j["errors_by_kind"].dump();
  for (const char* p : {"p50", "p90", "p99", "p999", "max"})
    EXPECT_TRUE(j["latency_ms"].contains(p));
  EXPECT_GT(j["journeys"]["completed"].get<int>(), 0);
  EXPECT_EQ(j["journeys"]["failed"], 0);
  // Steps are qualified by their journey, and each journey has its table.
  EXPECT_TRUE(j["steps"].contains("display-document/logon"));
  EXPECT_TRUE(j["steps"].contains("display-document/enter-document"));
  EXPECT_TRUE(j["steps"].contains("display-document/logoff"));
  EXPECT_EQ(j["by_journey"]["display-document"]["started"],
            j["journeys"]["started"]);
  for (const char* p : {"p95", "min", "mean"})
    EXPECT_TRUE(j["latency_ms"].contains(p)) << p;
  EXPECT_EQ(j["parameters"]["users"], 20);
  EXPECT_GT(j["itsload_cpu_us_per_request"].get<double>(), 0);
  EXPECT_EQ(j["thresholds_ok"], true);
  EXPECT_FALSE(j["agates"].empty());
  uint64_t per_second = 0;
  for (const auto& s : j["timeline"])
    per_second += s["requests"].get<uint64_t>();
  EXPECT_EQ(per_second, j["requests"].get<uint64_t>());
  std::ifstream html(dir + "/r.html");
  std::string page((std::istreambuf_iterator<char>(html)),
                   std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_NE(page.find("Requests per AGate process"), std::string::npos);
  // Every AGate process is in the report, idle ones with 0: one user's new
  // sessions go to the highest PID of an instance, so the others get none.
  r = Itsload(Cat(Scenario("display.toml"), " --url ", c->url(),
                  " --users 1 --duration 1 --think 5 --quiet --report ", dir,
                  "/one.json --html ", dir, "/one.html"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto one = ReadJson(dir + "/one.json");
  EXPECT_EQ(one["agates"].size(), Admin(*c, "agates").size()) << one["agates"];
  int idle = 0;
  for (const auto& [k, v] : one["agates"].items()) idle += v == 0;
  EXPECT_GT(idle, 0) << one["agates"];
  std::ifstream one_html(dir + "/one.html");
  EXPECT_NE(std::string(std::istreambuf_iterator<char>(one_html), {})
                .find("0 (idle)"),
            std::string::npos);
  // The time series: a header and a line per second of the timeline.
  std::ifstream csv(dir + "/r.csv");
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line.rfind("t_s,requests,errors,rps,", 0), 0u) << line;
  size_t lines = 0;
  while (std::getline(csv, line)) ++lines;
  EXPECT_EQ(lines, j["timeline"].size());
}

TEST(Itsload, OpenModelMixedJourneysEndAsTheyShould) {
  auto c = StartCluster(
      [](toml::table& t) { t.insert_or_assign("time_scale", 600.0); });
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  ProgramRun r = Itsload(Cat(
      Scenario("mixed.toml"), " --url ", c->url(),
      " --rate 40 --duration 2 --think 5 --quiet --report ", dir, "/m.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = ReadJson(dir + "/m.json");
  EXPECT_EQ(j["model"], "open");
  // ess-close-tab journeys all open personnel number 2000: one that comes
  // while another holds its lock gets R/3's "locked by user" page, counted
  // as such. Nothing else may fail.
  uint64_t locked = j["errors_by_kind"].value("locked by another user", 0u);
  EXPECT_EQ(j["errors"].get<uint64_t>(), locked) << j["errors_by_kind"].dump();
  EXPECT_GT(j["journeys"]["completed"].get<int>(), 20);
  EXPECT_TRUE(j["steps"].contains("ess-close-tab/close_tab"))
      << j["steps"].dump();
  // The three endings apart, each journey's own.
  EXPECT_GT(j["by_journey"]["display-abandon"]["started"].get<int>(), 0);
  EXPECT_FALSE(j["by_journey"]["display-abandon"]["steps"].contains("logoff"));
  EXPECT_TRUE(j["steps"].contains("display-logoff/enter-document"));
  EXPECT_TRUE(j["steps"].contains("display-abandon/enter-document"));
  // close_tab ended its sessions through the Terminator; abandoned ones end at
  // ~timeout (15 simulated minutes = 1.5 s here); logoffs ended at once.
  EXPECT_TRUE(WaitFor([&] { return Admin(*c, "sm04").empty(); }, 10000))
      << Admin(*c, "sm04").dump();
  EXPECT_TRUE(Admin(*c, "sm12").empty());
  auto metrics = HttpGet(c->url(), "/metrics");
  EXPECT_EQ(metrics->body.find("its_dsm_terminated_total 0\n"),
            std::string::npos);
}

// Every user opens personnel number 1000: all but the lock holder get R/3's
// "locked by user" page, which is an error of its kind, not a success.
TEST(Itsload, LockConflictsAreCountedByKind) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  ProgramRun r = Itsload(Cat(Scenario("ess.toml"), " --url ", c->url(),
                             " --users 10 --duration 2s --think 20ms --quiet "
                             "--report ",
                             dir, "/ess.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = ReadJson(dir + "/ess.json");
  EXPECT_GT(j["errors_by_kind"].value("locked by another user", 0u), 0u)
      << j["errors_by_kind"].dump();
  EXPECT_GT(j["steps"]["change-address/open-address"]["errors"].get<uint64_t>(),
            0u)
      << j["steps"].dump();
  EXPECT_EQ(j["errors_by_kind"].value("page of another user", 0u), 0u);
}

// A threshold the run cannot meet fails it: exit status 1, said on the
// console and in the report; one that holds passes beside it.
TEST(Itsload, AFailingThresholdFailsTheRun) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  ProgramRun r =
      Itsload(Cat(Scenario("display.toml"), " --url ", c->url(),
                  " --users 4 --duration 2s --think 5ms --quiet --report ", dir,
                  "/t.json --threshold 'errors==0' --threshold 'p50<1us' "
                  "--threshold 'step:display-document/refresh:requests>0'"));
  ASSERT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("✗ p50<1us"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("✓ errors==0"), std::string::npos) << r.output;
  auto j = ReadJson(dir + "/t.json");
  EXPECT_EQ(j["thresholds_ok"], false);
  ASSERT_EQ(j["thresholds"].size(), 3u);
  EXPECT_EQ(j["thresholds"][0]["ok"], true);
  EXPECT_EQ(j["thresholds"][1]["ok"], false);
  EXPECT_EQ(j["thresholds"][2]["ok"], true);
  EXPECT_EQ(j["aborted"], "");
  // Aborting: the run ends at the first second the threshold fails, and its
  // journeys are still logged off.
  auto t0 = std::chrono::steady_clock::now();
  r = Itsload(Cat(Scenario("display.toml"), " --url ", c->url(),
                  " --users 4 --duration 60s --think 5ms --quiet --report ",
                  dir, "/a.json --threshold 'p50<1us' --abort-on-fail"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  j = ReadJson(dir + "/a.json");
  EXPECT_NE(j["aborted"].get<std::string>().find("threshold p50<1us failed"),
            std::string::npos)
      << j["aborted"];
  EXPECT_TRUE(WaitFor([&] { return Admin(*c, "sm04").empty(); }, 5000))
      << Admin(*c, "sm04").dump();
  r = Itsload(Cat(Scenario("display.toml"), " --users 1 --threshold 'p99<'"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("threshold 'p99<'"), std::string::npos) << r.output;
}

// At the end running journeys are not dropped: with think times far beyond
// the graceful stop, every journey still open is logged off, and SM04 is
// empty right after the run, not ~timeout later.
TEST(Itsload, GracefulStopLogsOffWhatIsStillRunning) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  ProgramRun r =
      Itsload(Cat(Scenario("display.toml"), " --url ", c->url(),
                  " --users 12 --duration 1s --think 30s --graceful-stop 0.5s "
                  "--quiet --report ",
                  dir, "/g.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = ReadJson(dir + "/g.json");
  EXPECT_EQ(j["journeys"]["started"], 12);
  EXPECT_EQ(j["journeys"]["interrupted"], 12) << j["journeys"].dump();
  EXPECT_EQ(j["journeys"]["logged_off_at_end"], 12) << j["journeys"].dump();
  EXPECT_LT(j["duration_s"].get<double>(), 5);
  // Right away: the logoffs were answered before itsload exited.
  EXPECT_TRUE(Admin(*c, "sm04").empty()) << Admin(*c, "sm04").dump();
  EXPECT_TRUE(Admin(*c, "sm12").empty());
}

// Stages ramp the users up and down; the timeline shows the target and the
// active journeys follow it.
TEST(Itsload, StagesRampUsersUpAndDown) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  ProgramRun r = Itsload(Cat(Scenario("display.toml"), " --url ", c->url(),
                             " --stage 2s:8 --stage 1s:8 --stage 1s:0 "
                             "--think 50ms --quiet --report ",
                             dir, "/s.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = ReadJson(dir + "/s.json");
  EXPECT_EQ(j["parameters"]["stages"].size(), 3u);
  EXPECT_EQ(j["parameters"]["duration_s"], 4);
  const auto& tl = j["timeline"];
  ASSERT_GE(tl.size(), 4u) << tl.dump();
  EXPECT_EQ(tl[0]["target"], 4);  // halfway up the first ramp
  EXPECT_EQ(tl[1]["target"], 8);
  EXPECT_EQ(tl[2]["target"], 8);
  EXPECT_LE(tl[0]["active"].get<int>(), 5);
  EXPECT_GE(tl[1]["active"].get<int>(), 6);
  EXPECT_EQ(j["errors"], 0) << j["errors_by_kind"].dump();
  // Each of the 8 users ran at least one journey; ramped down ones ended
  // theirs, none was cut short.
  EXPECT_GE(j["journeys"]["started"].get<int>(), 8);
  EXPECT_EQ(j["journeys"]["interrupted"], 0) << j["journeys"].dump();
  r = Itsload(Cat(Scenario("display.toml"),
                  " --stage 2s:8 --duration 5s --url ", c->url()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = Itsload(Cat(Scenario("display.toml"), " --stage 2s --url ", c->url()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("DURATION:TARGET"), std::string::npos) << r.output;
}

// The counterpart of LockConflictsAreCountedByKind: with ess-data.toml each
// user opens the personnel number of its own CSV row, logged on as that
// row's user, so no lock is ever wanted by two; and every page shows the
// screen and the field values the scenario expects.
TEST(Itsload, DataFileGivesEachUserItsOwnRecord) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  ProgramRun r = Itsload(Cat(Scenario("ess-data.toml"), " --url ", c->url(),
                             " --users 10 --duration 3s --think 20ms --quiet "
                             "--report ",
                             dir, "/ess-data.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = ReadJson(dir + "/ess-data.json");
  EXPECT_EQ(j["errors"], 0) << j["errors_by_kind"].dump();
  EXPECT_EQ(j["errors_by_kind"].value("locked by another user", 0u), 0u);
  EXPECT_GT(j["journeys"]["completed"].get<uint64_t>(), 10u);
  EXPECT_EQ(j["journeys"]["failed"], 0);
  for (const char* step :
       {"change-own-address/open-address", "change-own-address/save",
        "change-own-address/check-saved"}) {
    ASSERT_TRUE(j["steps"].contains(step)) << j["steps"].dump();
    EXPECT_GT(j["steps"][step]["requests"].get<uint64_t>(), 0u) << step;
    EXPECT_EQ(j["steps"][step]["errors"], 0) << step;
  }
  // Journeys still going at the end were logged off: nothing is left.
  EXPECT_TRUE(Admin(*c, "sm04").empty()) << Admin(*c, "sm04").dump();
  EXPECT_TRUE(Admin(*c, "sm12").empty()) << Admin(*c, "sm12").dump();
}

// A field or screen check that cannot hold fails on every page, counted by
// the check as the scenario wrote it (never the row's values).
TEST(Itsload, FailedFieldAndScreenChecksAreCountedByKind) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  std::string file = dir + "/wrong-field.toml";
  std::ofstream(file) << Cat(R"([[journey]]
service = "ess"
data = ")",
                             ITS_SOURCE_DIR,
                             R"(/deploy/scenarios/ess-people.csv"
data_per = "user"
  [[journey.step]]
  name = "open-address"
  fields = { "RP50G-PERNR" = "${pernr}" }
  expect_screen = "PA30/2000"
  expect_field = { "RP50G-PERNR" = "x${pernr}" }
  [[journey.step]]
  name = "save"
  okcode = "UPD"
  expect_screen = "PA30/2000"
)");
  ProgramRun r = Itsload(Cat(file, " --url ", c->url(),
                             " --users 5 --duration 2s --think 20ms --quiet "
                             "--report ",
                             dir, "/wrong.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = ReadJson(dir + "/wrong.json");
  const auto& kinds = j["errors_by_kind"];
  uint64_t field = kinds.value("field RP50G-PERNR is not x${pernr}", 0u);
  uint64_t screen = kinds.value("screen is not PA30/2000", 0u);
  EXPECT_GT(field, 0u) << kinds.dump();
  EXPECT_GT(screen, 0u) << kinds.dump();
  EXPECT_EQ(kinds.size(), 2u) << kinds.dump();
  EXPECT_EQ(j["steps"]["journey1/open-address"]["errors"].get<uint64_t>(),
            field);
  EXPECT_EQ(j["steps"]["journey1/save"]["errors"].get<uint64_t>(), screen);
  EXPECT_EQ(j["steps"]["journey1/logon"]["errors"], 0);
  // A journey with a failed check is a failed journey.
  EXPECT_EQ(j["journeys"]["completed"], 0) << j["journeys"].dump();
  EXPECT_GT(j["journeys"]["failed"].get<uint64_t>(), 0u);
}

// A step that fails while the server keeps the session (504: R/3 too slow)
// ends the journey as failed, and the session is logged off, not left to
// ~timeout with its locks.
TEST(Itsload, AFailedJourneyLogsOffTheSessionTheServerKept) {
  auto c = StartCluster([](toml::table& t) {
    t.insert_or_assign("agate", toml::table{{"r3_timeout_s", 0.2}});
  });
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  // After the logons R/3 hangs for a while: steps get 504 after
  // r3_timeout_s, their sessions kept.
  ProgramRun r = ItsloadWithFault(
      *c,
      Cat(Scenario("ess-data.toml"), " --url ", c->url(),
          " --users 6 --duration 2s --think 400ms --graceful-stop 3s --quiet "
          "--report ",
          dir, "/f.json"),
      std::chrono::milliseconds(300), proto::FaultRequest::HANG, "r3_stub",
      1.5);
  auto j = ReadJson(dir + "/f.json");
  EXPECT_GT(j["journeys"]["failed"].get<uint64_t>(), 0u) << r.output;
  EXPECT_GT(j["journeys"]["logged_off_after_failure"].get<uint64_t>(), 0u)
      << j["journeys"].dump();
  EXPECT_TRUE(WaitFor([&] { return Admin(*c, "sm04").empty(); }, 5000))
      << Admin(*c, "sm04").dump();
  EXPECT_TRUE(Admin(*c, "sm12").empty()) << Admin(*c, "sm12").dump();
}

// A wgate that crashes under load is restarted at once, and its sessions
// live on: the journeys its crash failed are logged off once it is back,
// not left with their locks until ~timeout.
TEST(Itsload, JourneysAWgateCrashFailedAreLoggedOffWhenItIsBack) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  // Slow R/3 calls, so requests are in flight when the wgate dies.
  proto::FaultRequest slow;
  slow.set_action(proto::FaultRequest::DELAY);
  slow.set_target("agate->r3");
  slow.set_seconds(0.2);
  proto::FaultReply reply;
  ASSERT_TRUE(c->Fault(slow, &reply).ok());
  ProgramRun r = ItsloadWithFault(
      *c,
      Cat(Scenario("ess-data.toml"), " --url ", c->url(),
          " --users 8 --duration 2s --think 50ms --graceful-stop 3s --quiet "
          "--report ",
          dir, "/crash.json"),
      std::chrono::milliseconds(900), proto::FaultRequest::KILL, "wgate", 0);
  auto j = ReadJson(dir + "/crash.json");
  const auto& journeys = j["journeys"];
  EXPECT_GT(journeys["failed"].get<uint64_t>(), 0u) << r.output;
  EXPECT_GT(journeys["logged_off_after_failure"].get<uint64_t>(), 0u)
      << journeys.dump();
  EXPECT_EQ(journeys["logoff_after_failure_failed"], 0) << journeys.dump();
  EXPECT_TRUE(WaitFor([&] { return Admin(*c, "sm04").empty(); }, 5000))
      << Admin(*c, "sm04").dump();
  EXPECT_TRUE(Admin(*c, "sm12").empty()) << Admin(*c, "sm12").dump();
}

// Think times beyond the wgate's idle timeout: the server closes the kept-
// alive connection between steps, and the next request goes out again on a
// new one (as browsers do) instead of failing.
TEST(Itsload, AConnectionClosedWhileIdleIsReopenedNotAnError) {
  auto c = StartCluster([](toml::table& t) {
    t["wgate"].as_table()->insert_or_assign("idle_timeout_s", 0.3);
  });
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  ProgramRun r = Itsload(Cat(Scenario("display.toml"), " --url ", c->url(),
                             " --users 2 --duration 2s --think 600ms --quiet "
                             "--report ",
                             dir, "/idle.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = ReadJson(dir + "/idle.json");
  EXPECT_GT(j["requests"].get<uint64_t>(), 4u);
  EXPECT_EQ(j["errors"], 0) << j["errors_by_kind"].dump();
  EXPECT_EQ(j["journeys"]["failed"], 0);
}

// A wgate that hangs past the graceful stop: its requests are not dropped
// from the figures — they count as errors, their journeys as interrupted.
TEST(Itsload, RequestsUnansweredAtTheEndAreCountedNotDropped) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  ProgramRun r = ItsloadWithFault(
      *c,
      Cat(Scenario("display.toml"), " --url ", c->url(),
          " --users 5 --duration 1s --think 200ms --graceful-stop 0.5s --quiet "
          "--report ",
          dir, "/h.json"),
      std::chrono::milliseconds(600), proto::FaultRequest::HANG, "wgate", 9);
  auto j = ReadJson(dir + "/h.json");
  const auto& journeys = j["journeys"];
  EXPECT_EQ(j["errors_by_kind"].value("no answer before the run ended", 0u), 5u)
      << j["errors_by_kind"].dump() << r.output;
  EXPECT_EQ(journeys["started"].get<uint64_t>(),
            journeys["completed"].get<uint64_t>() +
                journeys["failed"].get<uint64_t>() +
                journeys["interrupted"].get<uint64_t>())
      << journeys.dump();
  EXPECT_EQ(journeys["logoff_at_end_failed"], 5) << journeys.dump();
  EXPECT_GT(j["latency_ms"]["max"].get<double>(), 4000) << j["latency_ms"];
}

TEST(Itsload, BadScenariosAndOptionsAreNamed) {
  std::string dir = std::filesystem::temp_directory_path().string();
  std::string file = Cat(dir, "/bad-scenario-", getpid(), ".toml");
  std::ofstream(file)
      << "name = \"x\"\n[[journey]]\nservice = \"webgui\"\nend = \"vanish\"\n";
  ProgramRun r = Itsload(file + " --users 1 --duration 1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(
      r.output.find(file +
                    ":4: journey[0].end: must be logoff, abandon or close_tab"),
      std::string::npos)
      << r.output;
  std::ofstream(file)
      << "[[journey]]\nthink = { dist = \"exponential\", mean_ms = \"x\" }\n";
  r = Itsload(file + " --users 1 --duration 1");
  EXPECT_NE(r.output.find(":2: journey[0].think.mean_ms: expected a number"),
            std::string::npos)
      << r.output;
  std::ofstream(file) << "[[journey]]\nbogus = 1\n";
  r = Itsload(file + " --users 1 --duration 1");
  EXPECT_NE(r.output.find(":2: journey[0].bogus: unknown key"),
            std::string::npos)
      << r.output;
  r = Itsload(Scenario("display.toml") + " --duration 1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--users"), std::string::npos);
  // Setup errors: exit 2 before any request, with what was wrong.
  r = Itsload(Scenario("display.toml") +
              " --users 1 --duration 1 --report /nonexistent/dir/r.json");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("cannot write /nonexistent/dir/r.json"),
            std::string::npos)
      << r.output;
  r = Itsload(Scenario("display.toml") + " --users 1 --duration 5x");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("not a duration"), std::string::npos) << r.output;
  std::ofstream(file) << "thresholds = [\"p99<5ms\", \"p99<<5\"]\n"
                         "[[journey]]\n";
  r = Itsload(file + " --users 1 --duration 1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(":1: thresholds: threshold 'p99<<5'"),
            std::string::npos)
      << r.output;
  std::ofstream(file) << "[[stage]]\nduration = \"10s\"\n[[journey]]\n";
  r = Itsload(file);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(":1: stage[0].: a stage needs duration and target"),
            std::string::npos)
      << r.output;
  r = Itsload(Scenario("display.toml") + " --rate 5 --ramp-up 2s");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--ramp-up"), std::string::npos) << r.output;
  std::filesystem::remove(file);
}

// ---------------------------------------------------------------- workers

// An `itsload --worker` in a process of its own, on a free port. Stopped by
// its PID when this goes (SIGTERM, SIGKILL after 10 s), whatever the test's
// outcome. Its stdout and stderr go to a file: the first line names the
// address, then a line per run.
class ItsloadWorker {
 public:
  ItsloadWorker() {
    static int counter = 0;
    out_ = Cat(std::filesystem::temp_directory_path().string(),
               "/itsload-worker-", getpid(), "-", ++counter, ".out");
    pid_ = fork();
    if (pid_ == 0) {
      int fd = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execl(ITS_BIN_DIR "/itsload", "itsload", "--worker", "--listen",
            "127.0.0.1:0", static_cast<char*>(nullptr));
      _exit(127);
    }
    const std::string announce = "itsload worker listening on ";
    WaitFor(
        [&] {
          std::ifstream in(out_);
          std::string line;
          if (std::getline(in, line) && line.rfind(announce, 0) == 0)
            address_ = line.substr(announce.size());
          return !address_.empty();
        },
        10000);
    EXPECT_FALSE(address_.empty()) << output();
  }
  ~ItsloadWorker() {
    Stop(SIGTERM);
    std::filesystem::remove(out_);
  }
  ItsloadWorker(const ItsloadWorker&) = delete;
  ItsloadWorker& operator=(const ItsloadWorker&) = delete;

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  std::string output() const {
    std::ifstream in(out_);
    return std::string(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  }
  // Signals the worker and reaps it; its exit status (-1: killed by a
  // signal, or already stopped).
  int Stop(int sig) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    int status = 0;
    bool reaped =
        WaitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, 10000);
    if (!reaped) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    return reaped && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  std::string out_;
  pid_t pid_ = -1;
  std::string address_;
};

uint64_t SumOf(const nlohmann::json& list, const char* key) {
  uint64_t sum = 0;
  for (const auto& e : list) sum += e[key].get<uint64_t>();
  return sum;
}

// The requests a worker's output says its runs made.
uint64_t WorkerRequests(const std::string& output) {
  uint64_t sum = 0;
  size_t at = 0;
  while ((at = output.find(" done: ", at)) != std::string::npos) {
    at += 7;
    sum += std::strtoull(output.c_str() + at, nullptr, 10);
  }
  return sum;
}

// Two workers share 8 users: the coordinator's one report has both their
// figures, added up (the merge's exactness is load_workers_test's), and
// looks like a run of one process of the same load.
TEST(Itsload, WorkersSplitTheLoadAndOneReportMergesThem) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  ItsloadWorker w1, w2;
  ASSERT_FALSE(w1.address().empty());
  ASSERT_FALSE(w2.address().empty());
  std::string dir = c->config_dir();
  const std::string load =
      Cat(Scenario("display.toml"), " --url ", c->url(),
          " --users 8 --duration 3s --think 5ms --quiet --threshold "
          "errors==0 --threshold 'step:enter-document:requests>0' --report ");
  ProgramRun r = Itsload(
      Cat(load, dir, "/w.json --workers ", w1.address(), ",", w2.address()));
  ASSERT_EQ(r.exit_code, 0) << r.output << w1.output() << w2.output();
  EXPECT_TRUE(WaitFor([&] { return Admin(*c, "sm04").empty(); }, 5000))
      << Admin(*c, "sm04").dump();
  ProgramRun single = Itsload(Cat(load, dir, "/s.json"));
  ASSERT_EQ(single.exit_code, 0) << single.output;
  auto j = ReadJson(dir + "/w.json");
  auto s = ReadJson(dir + "/s.json");
  EXPECT_EQ(j["parameters"]["workers"], 2);
  EXPECT_EQ(j["parameters"]["users"], 8);
  EXPECT_EQ(s["parameters"]["workers"], 1);
  EXPECT_FALSE(j.contains("lost_workers"));
  // The same report, key for key.
  for (const auto& [key, value] : s.items())
    EXPECT_TRUE(j.contains(key)) << key;
  // Each worker ran its half, and the report has the sum.
  const uint64_t requests = j["requests"].get<uint64_t>();
  EXPECT_GT(WorkerRequests(w1.output()), 0u) << w1.output();
  EXPECT_GT(WorkerRequests(w2.output()), 0u) << w2.output();
  EXPECT_EQ(requests, WorkerRequests(w1.output()) + WorkerRequests(w2.output()))
      << w1.output() << w2.output();
  EXPECT_EQ(SumOf(j["timeline"], "requests"), requests);
  EXPECT_EQ(j["errors"], 0) << j["errors_by_kind"].dump();
  EXPECT_EQ(j["thresholds_ok"], true) << j["thresholds"].dump();
  EXPECT_EQ(j["thresholds"].size(), 2u);
  EXPECT_GE(j["journeys"]["started"].get<int>(), 8);
  EXPECT_EQ(j["journeys"]["failed"], 0);
  EXPECT_EQ(j["journeys"]["interrupted"], 0) << j["journeys"].dump();
  // The steps add up to the run, each journey's to the journey.
  uint64_t steps = 0;
  for (const auto& [name, step] : j["steps"].items())
    steps += step["requests"].get<uint64_t>();
  EXPECT_EQ(steps, requests);
  const auto& doc = j["by_journey"]["display-document"];
  uint64_t journey_steps = 0;
  for (const auto& [name, step] : doc["steps"].items())
    journey_steps += step["requests"].get<uint64_t>();
  EXPECT_EQ(journey_steps, doc["requests"].get<uint64_t>());
  EXPECT_EQ(doc["started"], j["journeys"]["started"]);
  // Every journey logged on once and off once.
  EXPECT_EQ(j["steps"]["display-document/logon"]["requests"],
            j["journeys"]["started"]);
  EXPECT_EQ(j["steps"]["display-document/logoff"]["requests"],
            j["journeys"]["completed"]);
  // The workers' targets and journeys in progress add up to the 8 users.
  ASSERT_GE(j["timeline"].size(), 3u) << j["timeline"].dump();
  EXPECT_EQ(j["timeline"][1]["target"], 8) << j["timeline"].dump();
  EXPECT_LE(j["timeline"][1]["active"].get<int>(), 8);
  EXPECT_GE(j["timeline"][1]["active"].get<int>(), 6);
  // Another run, so only roughly the same latencies (on a shared machine).
  for (const char* p : {"p50", "p90"}) {
    double merged = j["latency_ms"][p].get<double>();
    double alone = s["latency_ms"][p].get<double>();
    EXPECT_GT(merged, 0) << p;
    EXPECT_LT(merged, alone * 10)
        << p << " " << j["latency_ms"].dump() << " " << s["latency_ms"].dump();
    EXPECT_GT(merged * 10, alone)
        << p << " " << j["latency_ms"].dump() << " " << s["latency_ms"].dump();
  }
  EXPECT_LE(j["latency_ms"]["p50"].get<double>(),
            j["latency_ms"]["p99"].get<double>());
}

// A worker that does not answer: no run, and its address is named.
TEST(Itsload, AnUnreachableWorkerIsNamedAndNothingRuns) {
  ItsloadWorker w;
  ASSERT_FALSE(w.address().empty());
  const std::string dead = Cat("127.0.0.1:", DeadPort());
  ProgramRun r = Itsload(
      Cat(Scenario("display.toml"), " --url http://127.0.0.1:", DeadPort(),
          " --users 2 --duration 1s --workers ", w.address(), ",", dead));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("worker " + dead + ": cannot connect"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(w.output().find(" run "), std::string::npos) << w.output();
  // What workers cannot do, said before any run.
  r = Itsload(Cat(Scenario("display.toml"),
                  " --users 2 --threshold 'p99<1ms' --abort-on-fail "
                  "--workers ",
                  w.address()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--abort-on-fail does not go with --workers"),
            std::string::npos)
      << r.output;
  r = Itsload(Cat(Scenario("display.toml"), " --worker"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  // The worker stops on SIGTERM, at once when idle.
  EXPECT_EQ(w.Stop(SIGTERM), 0) << w.output();
}

// A worker stopped (SIGTERM) during the run ends its share as an abort
// would: its journeys are logged off, its figures until then are in, and it
// is named; the exit status says the run is short (4). One killed is named
// too, and the report has the other's figures.
TEST(Itsload, AWorkerLostDuringTheRunIsNamed) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  for (int sig : {SIGTERM, SIGKILL}) {
    ItsloadWorker w1, w2;
    ASSERT_FALSE(w1.address().empty());
    ASSERT_FALSE(w2.address().empty());
    // Once w2 has run for a second (its first second's line came), it goes.
    std::thread stopper([&] {
      WaitFor(
          [&] { return w2.output().find(" starts in ") != std::string::npos; },
          10000);
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      w2.Stop(sig);
    });
    ProgramRun r = Itsload(Cat(Scenario("display.toml"), " --url ", c->url(),
                               " --users 4 --duration 4s --think 5ms --quiet "
                               "--report ",
                               dir, "/l.json --workers ", w1.address(), ",",
                               w2.address()));
    stopper.join();
    EXPECT_EQ(r.exit_code, 4) << sig << r.output;
    EXPECT_NE(r.output.find("lost worker " + w2.address()), std::string::npos)
        << r.output;
    auto j = ReadJson(dir + "/l.json");
    ASSERT_EQ(j["lost_workers"].size(), 1u) << j.dump();
    EXPECT_EQ(j["lost_workers"][0].get<std::string>().rfind(w2.address(), 0),
              0u);
    EXPECT_EQ(j["parameters"]["workers"], 2);
    EXPECT_EQ(j["errors"], 0) << j["errors_by_kind"].dump();
    const uint64_t requests = j["requests"].get<uint64_t>();
    EXPECT_EQ(SumOf(j["timeline"], "requests"), requests);
    if (sig == SIGKILL) {
      // Only w1's figures: w2 sent none.
      EXPECT_EQ(requests, WorkerRequests(w1.output())) << w1.output();
    } else {
      EXPECT_EQ(requests,
                WorkerRequests(w1.output()) + WorkerRequests(w2.output()));
      EXPECT_NE(j["aborted"].get<std::string>().find("the worker was stopped"),
                std::string::npos)
          << j["aborted"];
      EXPECT_TRUE(WaitFor([&] { return Admin(*c, "sm04").empty(); }, 5000))
          << Admin(*c, "sm04").dump();
    }
  }
}

}  // namespace
}  // namespace its::testing
