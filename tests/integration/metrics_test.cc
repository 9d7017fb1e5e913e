// Every process of the cluster serves its metrics (Prometheus text
// exposition) on an HTTP endpoint of its own, and each Mapping Manager
// serves the http_sd document of its agates' endpoints
// (docs/architecture.md §7).
#include <regex>

#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

std::string Get(const std::string& address, const std::string& path,
                int* status = nullptr, std::string* type = nullptr) {
  auto r = HttpGet(address, path, 3000);
  EXPECT_TRUE(r.ok()) << address << path << ": " << r.status().message();
  if (!r.ok()) return "";
  if (status) *status = r->status;
  if (type) *type = r->Header("content-type").value_or("");
  return r->body;
}

// The value of the sample `series` (name and labels exactly as exposed) in
// `text`, or -1.
double Sample(const std::string& text, const std::string& series) {
  size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n')
      return std::atof(text.c_str() + at + series.size() + 1);
    at += series.size();
  }
  return -1;
}

TEST(Metrics, EveryProcessServesItsMetricsAndManagersTheirAgates) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  auto config = ClusterConfig::Load(c->config_dir());
  ASSERT_TRUE(config.ok()) << config.status().message();

  // The R/3 stub: its endpoint is in the working copy of cluster.toml.
  int status = 0;
  std::string type;
  std::string r3 = Get(config->r3_metrics_listen, "/metrics", &status, &type);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r3.find("# TYPE its_r3_user_sessions gauge"), std::string::npos)
      << r3;
  EXPECT_NE(r3.find("# TYPE its_r3_step_seconds histogram"), std::string::npos);

  // A session with a step and /nex, so counters move.
  Browser user(c->url());
  auto r = user.Get(StartUrl("webgui", "LOAD00301", "&~transaction=FB03"));
  ASSERT_EQ(r.status, 200) << r.body;
  AgateId owner = ServedBy(r);
  ASSERT_FALSE(owner.instance.empty());
  ASSERT_EQ(user.Get(Step("webgui", "~okcode=/00")).status, 200);
  user.Get(Step("webgui", "~okcode=/nex"));

  std::set<int> listed_pids;
  for (const auto& inst : config->instances) {
    // /sd: an http_sd document with every agate that is up, and the manager.
    nlohmann::json sd;
    ASSERT_TRUE(WaitFor([&] {
      std::string body = Get(inst.metrics_listen, "/sd", &status, &type);
      sd = nlohmann::json::parse(body, nullptr, false);
      int agates = 0;
      for (const auto& g : sd) agates += g["labels"]["job"] == "agate";
      return status == 200 && sd.is_array() && agates == inst.min_agates;
    })) << inst.name
        << ": " << sd.dump();
    EXPECT_EQ(type, "application/json");
    bool self = false;
    for (const auto& g : sd) {
      ASSERT_EQ(g["targets"].size(), 1u) << g.dump();
      std::string target = g["targets"][0];
      const auto& l = g["labels"];
      EXPECT_EQ(l["instance"], inst.name);
      if (l["job"] == "mapping_manager") {
        self = true;
        EXPECT_EQ(target, inst.metrics_listen);
        std::string mm = Get(target, "/metrics");
        EXPECT_EQ(
            Sample(mm, Cat("its_mm_agates_up{instance=\"", inst.name, "\"}")),
            inst.min_agates)
            << mm;
        continue;
      }
      // Each agate's own endpoint, with the labels the document gives it.
      std::string pid = l["pid"], process = l["process"];
      listed_pids.insert(std::atoi(pid.c_str()));
      std::string labels = Cat("instance=\"", inst.name, "\",pid=\"", pid,
                               "\",process=\"", process, "\"");
      std::string text = Get(target, "/metrics");
      EXPECT_GE(Sample(text, Cat("its_agate_sessions{", labels, "}")), 0)
          << text;
      if (std::atoi(pid.c_str()) != owner.pid) continue;
      EXPECT_TRUE(WaitFor([&] {
        text = Get(target, "/metrics");
        return Sample(text, Cat("its_agate_session_ends_total{", labels,
                                ",reason=\"nex\"}")) == 1;
      })) << text;
      EXPECT_EQ(
          Sample(text, Cat("its_agate_session_starts_total{", labels, "}")), 1);
      EXPECT_EQ(Sample(text, Cat("its_agate_step_seconds_count{", labels, "}")),
                1);
      EXPECT_EQ(Sample(text, Cat("its_agate_step_seconds_bucket{", labels,
                                 ",le=\"+Inf\"}")),
                1);
      EXPECT_EQ(
          Sample(text, Cat("its_agate_logon_seconds_count{", labels, "}")), 1);
    }
    EXPECT_TRUE(self) << inst.name << ": the manager lists itself";
  }
  // The documents list exactly the agates itsadm lists.
  std::set<int> admin_pids;
  for (const auto& a : Admin(*c, "agates"))
    admin_pids.insert(a["pid"].get<int>());
  EXPECT_EQ(listed_pids, admin_pids);
  EXPECT_TRUE(listed_pids.count(owner.pid));

  // R/3 counted the logon and the step.
  r3 = Get(config->r3_metrics_listen, "/metrics");
  EXPECT_EQ(Sample(r3, "its_r3_requests_total{code=\"ok\",kind=\"step\"}"), 1)
      << r3;
  EXPECT_EQ(Sample(r3, "its_r3_requests_total{code=\"ok\",kind=\"logon\"}"), 1);
}

TEST(Metrics, TheEndpointAnswersHostileRequestsWithClearErrors) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  auto config = ClusterConfig::Load(c->config_dir());
  ASSERT_TRUE(config.ok());
  const std::string& address = config->instances[0].metrics_listen;
  HttpClient http(address);
  auto r = http.Send("POST", "/metrics", {}, "x");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 405);
  HttpClient http2(address);
  r = http2.Send("GET", "/nothing");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("/metrics, /sd"), std::string::npos) << r->body;
  HttpClient http3(address);
  r = http3.SendRaw("GARBAGE\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 400);
  // Still serving.
  int status = 0;
  Get(address, "/metrics?x=1", &status);
  EXPECT_EQ(status, 200);
}

}  // namespace
}  // namespace its::testing
