// A real Prometheus (Debian package prometheus) scrapes a running cluster:
// the agates found through each Mapping Manager's http_sd document, the
// managers themselves, the wgate and the R/3 stub from static targets. Its
// query API must return a series per agate with the agate's labels. Skipped
// if the prometheus binary is missing (deploy/test installs it).
#include <signal.h>

#include <fstream>
#include <regex>

#include "common/line_config.h"
#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

std::string PrometheusBinary() {
  const char* env = getenv("ITS_PROMETHEUS");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/prometheus";
}

// A Prometheus process this test started; the destructor ends exactly it.
struct Prometheus {
  pid_t pid = -1;
  std::string dir, log, address;

  ~Prometheus() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    bool ended =
        WaitFor([&] { return waitpid(pid, nullptr, WNOHANG) == pid; }, 10000);
    if (!ended) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (getenv("ITS_KEEP_TEST_RUNS") == nullptr)
      std::filesystem::remove_all(dir);
  }
};

std::string UrlEncodeQuery(const std::string& q) {
  std::string out;
  for (unsigned char ch : q) {
    if (IsAlnum(static_cast<char>(ch)) || ch == '_' || ch == '-' || ch == '.')
      out += static_cast<char>(ch);
    else
      out += {'%', "0123456789ABCDEF"[ch >> 4], "0123456789ABCDEF"[ch & 15]};
  }
  return out;
}

// The result vector of an instant query, or an empty array.
nlohmann::json Query(const std::string& address, const std::string& q) {
  auto r = HttpGet(address, "/api/v1/query?query=" + UrlEncodeQuery(q), 3000);
  if (!r.ok() || r->status != 200) return nlohmann::json::array();
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || j["status"] != "success")
    return nlohmann::json::array();
  return j["data"]["result"];
}

TEST(Prometheus, ScrapesEveryAgateFoundThroughTheManagersServiceDiscovery) {
  if (access(PrometheusBinary().c_str(), X_OK) != 0) {
    GTEST_SKIP() << PrometheusBinary()
                 << " not found: install the Debian package prometheus "
                    "(deploy/test does), or set ITS_PROMETHEUS";
  }
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  auto config = ClusterConfig::Load(c->config_dir());
  ASSERT_TRUE(config.ok()) << config.status().message();

  Prometheus prom;
  prom.dir = Cat(std::filesystem::temp_directory_path().string(),
                 "/its-prometheus-", getpid());
  std::filesystem::remove_all(prom.dir);
  std::filesystem::create_directories(prom.dir);
  prom.log = prom.dir + "/prometheus.log";
  // The example deploy/prometheus/prometheus.yml, with the addresses of
  // deploy/config replaced by this cluster's and a one-second rhythm.
  auto shipped = ClusterConfig::Load(ITS_SOURCE_DIR "/deploy/config");
  ASSERT_TRUE(shipped.ok()) << shipped.status().message();
  auto example = ReadFile(ITS_SOURCE_DIR "/deploy/prometheus/prometheus.yml");
  ASSERT_TRUE(example.ok()) << example.status().message();
  std::string yml = *example;
  auto replace = [&yml](const std::string& from, const std::string& to) {
    size_t n = 0;
    for (size_t at = 0; (at = yml.find(from, at)) != std::string::npos;
         at += to.size(), ++n) {
      yml.replace(at, from.size(), to);
    }
    EXPECT_GT(n, 0u) << from << " not in deploy/prometheus/prometheus.yml";
  };
  replace(shipped->wgate_listen, config->wgate_listen);
  replace(shipped->r3_metrics_listen, config->r3_metrics_listen);
  ASSERT_EQ(shipped->instances.size(), config->instances.size());
  for (size_t i = 0; i < config->instances.size(); ++i) {
    replace(shipped->instances[i].metrics_listen + "/sd",
            config->instances[i].metrics_listen + "/sd");
  }
  replace("scrape_interval: 5s", "scrape_interval: 1s");
  replace("scrape_timeout: 2s", "scrape_timeout: 1s");
  replace("refresh_interval: 5s", "refresh_interval: 1s");
  std::ofstream(prom.dir + "/prometheus.yml") << yml;

  std::string config_flag = "--config.file=" + prom.dir + "/prometheus.yml";
  std::string data_flag = "--storage.tsdb.path=" + prom.dir + "/data";
  std::string binary = PrometheusBinary();
  prom.pid = fork();
  ASSERT_GE(prom.pid, 0);
  if (prom.pid == 0) {
    int fd = ::open(prom.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(binary.c_str(), "prometheus", config_flag.c_str(), data_flag.c_str(),
          "--web.listen-address=127.0.0.1:0", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Port 0: the bound address is in its log ("Listening on" address=...).
  const std::regex listening(R"(msg="Listening on" address=([0-9.]+:[0-9]+))");
  ASSERT_TRUE(WaitFor(
      [&] {
        std::ifstream in(prom.log);
        std::string line;
        std::smatch m;
        while (std::getline(in, line)) {
          if (std::regex_search(line, m, listening)) prom.address = m[1];
        }
        return !prom.address.empty();
      },
      20000))
      << "prometheus did not start; its log: " << prom.log;

  // Some sessions, so that counters move.
  for (int i = 0; i < 4; ++i) {
    Browser user(c->url());
    ASSERT_EQ(user.Get(StartUrl("webgui", Cat("LOAD0040", i))).status, 200);
    user.Get(Step("webgui", "~okcode=/00"));
  }

  std::set<int> agates;
  for (const auto& a : Admin(*c, "agates")) agates.insert(a["pid"].get<int>());
  ASSERT_FALSE(agates.empty());
  // A series per agate, with its labels, within 30 s.
  nlohmann::json result;
  std::set<int> scraped;
  bool all = WaitFor(
      [&] {
        result = Query(prom.address, "its_agate_sessions{job=\"agate\"}");
        scraped.clear();
        for (const auto& s : result) {
          const auto& m = s["metric"];
          if (!m.contains("instance") || !m.contains("pid") ||
              !m.contains("process")) {
            continue;
          }
          scraped.insert(std::atoi(m["pid"].get<std::string>().c_str()));
        }
        return scraped == agates;
      },
      30000);
  EXPECT_TRUE(all) << "agates " << ::testing::PrintToString(agates)
                   << ", Prometheus has " << result.dump()
                   << "; its log: " << prom.log;
  // The sessions started are all counted, across the agates.
  EXPECT_TRUE(WaitFor(
      [&] {
        result = Query(prom.address, "sum(its_agate_session_starts_total)");
        return result.size() == 1 &&
               result[0]["value"][1].get<std::string>() == "4";
      },
      15000))
      << result.dump();
  // The managers, the R/3 stub and the wgate are scraped too.
  EXPECT_TRUE(WaitFor(
      [&] {
        result = Query(prom.address, "its_mm_agates_up");
        return result.size() == config->instances.size();
      },
      15000))
      << result.dump();
  EXPECT_TRUE(WaitFor(
      [&] { return Query(prom.address, "its_r3_user_sessions").size() == 1; },
      15000));
  EXPECT_TRUE(WaitFor(
      [&] {
        return Query(prom.address, "its_wgate_requests_total").size() == 1;
      },
      15000));
  // The wgate's view of the agates keeps their labels (honor_labels), told
  // apart from the agates' own series by job.
  EXPECT_TRUE(WaitFor(
      [&] {
        result = Query(prom.address, "its_agate_sessions{job=\"wgate\"}");
        std::set<int> pids;
        for (const auto& s : result) {
          if (s["metric"].value("instance", "").rfind("IT", 0) == 0)
            pids.insert(std::atoi(s["metric"].value("pid", "0").c_str()));
        }
        return pids == agates;
      },
      15000))
      << result.dump();
}

}  // namespace
}  // namespace its::testing
