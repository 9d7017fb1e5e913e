// itsload against a real cluster (issue 3): both load models, the reports,
// the three journey ends, and scenario errors.
#include <cstdio>
#include <fstream>

#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

struct LoadRun {
  int exit_code = -1;
  std::string output;
};

LoadRun Itsload(const std::string& args) {
  std::string cmd = Cat(ITS_BIN_DIR, "/itsload ", args, " 2>&1");
  FILE* f = popen(cmd.c_str(), "r");
  LoadRun r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.output.append(buf, n);
  int status = pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Scenario(const std::string& name) {
  return Cat(ITS_SOURCE_DIR, "/deploy/scenarios/", name);
}

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

TEST(Itsload, ClosedModelWritesTheReports) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  LoadRun r =
      Itsload(Cat(Scenario("display.toml"), " --url ", c->url(),
                  " --users 20 --duration 2 --think 5 --quiet --report ", dir,
                  "/r.json --html ", dir, "/r.html"));
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
  EXPECT_TRUE(j["steps"].contains("logon"));
  EXPECT_TRUE(j["steps"].contains("enter-document"));
  EXPECT_TRUE(j["steps"].contains("logoff"));
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
}

TEST(Itsload, OpenModelMixedJourneysEndAsTheyShould) {
  auto c = StartCluster(
      [](toml::table& t) { t.insert_or_assign("time_scale", 600.0); });
  ASSERT_NE(c, nullptr);
  std::string dir = c->config_dir();
  LoadRun r = Itsload(Cat(Scenario("mixed.toml"), " --url ", c->url(),
                          " --rate 40 --duration 2 --think 5 --quiet --report ",
                          dir, "/m.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = ReadJson(dir + "/m.json");
  EXPECT_EQ(j["model"], "open");
  EXPECT_EQ(j["errors"], 0) << j["errors_by_kind"].dump();
  EXPECT_GT(j["journeys"]["completed"].get<int>(), 20);
  EXPECT_TRUE(j["steps"].contains("close_tab")) << j["steps"].dump();
  // close_tab ended its sessions through the Terminator; abandoned ones end at
  // ~timeout (15 simulated minutes = 1.5 s here); logoffs ended at once.
  EXPECT_TRUE(WaitFor([&] { return Admin(*c, "sm04").empty(); }, 10000))
      << Admin(*c, "sm04").dump();
  EXPECT_TRUE(Admin(*c, "sm12").empty());
  auto metrics = HttpGet(c->url(), "/metrics");
  EXPECT_EQ(metrics->body.find("its_dsm_terminated_total 0\n"),
            std::string::npos);
}

TEST(Itsload, BadScenariosAndOptionsAreNamed) {
  std::string dir = std::filesystem::temp_directory_path().string();
  std::string file = Cat(dir, "/bad-scenario-", getpid(), ".toml");
  std::ofstream(file)
      << "name = \"x\"\n[[journey]]\nservice = \"webgui\"\nend = \"vanish\"\n";
  LoadRun r = Itsload(file + " --users 1 --duration 1");
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
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace its::testing
