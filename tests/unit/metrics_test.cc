// The metrics of the agate, Mapping Manager and R/3 stub as Prometheus reads
// them (text exposition), the Mapping Manager's http_sd document, and the
// metrics endpoint's answers. No sockets: the exposition and the answers are
// computed directly.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agate/agate_metrics.h"
#include "common/cluster_config.h"
#include "common/metrics_http.h"
#include "mapping_manager/mm_metrics.h"
#include "r3_stub/r3_metrics.h"

namespace its {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos ||
         text.rfind(line + "\n", 0) == 0;
}

TEST(AgateMetrics, ExposesCountersByReasonAndCumulativeHistograms) {
  prometheus::Registry registry;
  agate::AgateMetrics m(registry,
                        {{"instance", "IT1"}, {"process", "0"}, {"pid", "7"}},
                        1000, 4, 3);
  m.Request();
  m.SessionStarted();
  m.Ended(agate::EndReason::kNex);
  m.Ended(agate::EndReason::kNex);
  m.Ended(agate::EndReason::kTimeout);
  m.Answered(proto::SESSION_NOT_FOUND);
  m.Answered(proto::PAGE);  // no error
  m.StepDone(0.003);
  m.StepDone(0.2);
  m.Load(5, 2, 0.25, 3, 7);
  m.Load(5, 2, 0.25, 3, 9);  // the counter follows the pool's total
  std::string t = MetricsHttpServer::Exposition(registry);
  const std::string l = R"(instance="IT1",pid="7",process="0")";
  EXPECT_TRUE(Has(t, "# TYPE its_agate_session_ends_total counter")) << t;
  EXPECT_TRUE(
      Has(t, "its_agate_session_ends_total{" + l + R"(,reason="nex"} 2)"));
  EXPECT_TRUE(
      Has(t, "its_agate_session_ends_total{" + l + R"(,reason="timeout"} 1)"));
  EXPECT_TRUE(
      Has(t, "its_agate_session_ends_total{" + l + R"(,reason="logoff"} 0)"));
  EXPECT_TRUE(Has(t, "its_agate_session_starts_total{" + l + "} 1"));
  EXPECT_TRUE(Has(t, "its_agate_requests_total{" + l + "} 1"));
  EXPECT_TRUE(Has(
      t, "its_agate_errors_total{" + l + R"(,kind="session_not_found"} 1)"));
  EXPECT_EQ(t.find(R"(kind="page")"), std::string::npos) << "not an error";
  EXPECT_EQ(t.find(R"(kind="agate_timeout")"), std::string::npos)
      << "the wgate's own outcome";
  // Buckets are cumulative; +Inf equals the count.
  EXPECT_TRUE(Has(t, "# TYPE its_agate_step_seconds histogram"));
  EXPECT_TRUE(
      Has(t, "its_agate_step_seconds_bucket{" + l + R"(,le="0.0025"} 0)"));
  EXPECT_TRUE(
      Has(t, "its_agate_step_seconds_bucket{" + l + R"(,le="0.005"} 1)"));
  EXPECT_TRUE(Has(t, "its_agate_step_seconds_bucket{" + l + R"(,le="0.1"} 1)"));
  EXPECT_TRUE(
      Has(t, "its_agate_step_seconds_bucket{" + l + R"(,le="0.25"} 2)"));
  EXPECT_TRUE(
      Has(t, "its_agate_step_seconds_bucket{" + l + R"(,le="+Inf"} 2)"));
  EXPECT_TRUE(Has(t, "its_agate_step_seconds_count{" + l + "} 2"));
  EXPECT_TRUE(Has(t, "its_agate_step_seconds_sum{" + l + "} 0.203"));
  EXPECT_TRUE(Has(t, "its_agate_sessions{" + l + "} 5"));
  EXPECT_TRUE(Has(t, "its_agate_busy_threads{" + l + "} 2"));
  EXPECT_TRUE(Has(t, "its_agate_work_queue{" + l + "} 3"));
  EXPECT_TRUE(Has(t, "its_agate_work_waits_total{" + l + "} 9"));
  EXPECT_TRUE(Has(t, "its_agate_weight{" + l + "} 0.25"));
  EXPECT_TRUE(Has(t, "its_agate_max_threads{" + l + "} 4"));
  EXPECT_TRUE(Has(t, "its_agate_incarnation{" + l + "} 3"));
}

proto::ProcessInfo Process(int n, int pid, proto::ProcessInfo::State state,
                           const std::string& metrics) {
  proto::ProcessInfo p;
  p.set_instance("IT1");
  p.set_process(n);
  p.set_pid(pid);
  p.set_state(state);
  p.set_metrics_address(metrics);
  return p;
}

TEST(ServiceDiscovery, ListsLiveAgatesWithEndpointsAndTheManager) {
  proto::Directory d;
  d.set_instance("IT1");
  *d.add_processes() = Process(0, 100, proto::ProcessInfo::UP, "h:1");
  *d.add_processes() = Process(1, 101, proto::ProcessInfo::DOWN, "h:2");
  *d.add_processes() = Process(2, 102, proto::ProcessInfo::STARTING, "h:3");
  *d.add_processes() = Process(3, 103, proto::ProcessInfo::UNRESPONSIVE, "h:4");
  *d.add_processes() = Process(4, 104, proto::ProcessInfo::UP, "");  // none
  auto sd = nlohmann::json::parse(mm::ServiceDiscovery(d, "h:9"));
  auto expected = nlohmann::json::parse(R"([
    {"targets": ["h:1"], "labels": {"job": "agate", "instance": "IT1",
                                    "process": "0", "pid": "100"}},
    {"targets": ["h:4"], "labels": {"job": "agate", "instance": "IT1",
                                    "process": "3", "pid": "103"}},
    {"targets": ["h:9"], "labels": {"job": "mapping_manager",
                                    "instance": "IT1"}}])");
  EXPECT_EQ(sd, expected) << sd.dump();
  EXPECT_EQ(mm::ServiceDiscovery(proto::Directory(), ""), "[]");
}

TEST(MmMetrics, FollowsTheDirectoryAndCountsRestartsPerSlot) {
  prometheus::Registry registry;
  mm::MmMetrics m(registry, "IT2", 2);
  proto::Directory d;
  d.set_instance("IT2");
  auto p = Process(1, 4242, proto::ProcessInfo::UP, "h:1");
  p.set_instance("IT2");
  p.set_sessions(3);
  p.set_weight(0.5);
  *d.add_processes() = p;
  m.Directory(d, "h:9");
  m.Restarted(1);
  m.Restarted(1);
  m.Restarted(7);  // no such slot: ignored
  m.Assigned(0.002, grpc::StatusCode::OK);
  m.Assigned(0.5, grpc::StatusCode::RESOURCE_EXHAUSTED);
  std::string t = MetricsHttpServer::Exposition(registry);
  EXPECT_TRUE(Has(t, R"(its_mm_agate_sessions{instance="IT2",process="1"} 3)"))
      << t;
  EXPECT_TRUE(Has(t, R"(its_mm_agate_pid{instance="IT2",process="1"} 4242)"));
  EXPECT_TRUE(Has(t, R"(its_mm_agate_up{instance="IT2",process="0"} 0)"));
  EXPECT_TRUE(Has(t, R"(its_mm_agates_up{instance="IT2"} 1)"));
  EXPECT_TRUE(
      Has(t, R"(its_mm_agate_restarts_total{instance="IT2",process="1"} 2)"));
  EXPECT_TRUE(
      Has(t, R"(its_mm_agate_restarts_total{instance="IT2",process="0"} 0)"));
  EXPECT_TRUE(
      Has(t, R"(its_mm_assignments_total{instance="IT2",result="ok"} 1)"));
  EXPECT_TRUE(Has(
      t, R"(its_mm_assignments_total{instance="IT2",result="no_capacity"} 1)"));
  EXPECT_TRUE(Has(t, R"(its_mm_assign_seconds_count{instance="IT2"} 2)"));
  EXPECT_NE(m.sd().find("\"h:1\""), std::string::npos) << m.sd();
}

TEST(R3Metrics, CountsRequestsByKindAndCode) {
  prometheus::Registry registry;
  r3::R3Metrics m(registry);
  m.Answered(proto::R3Request::kLogon, proto::R3Response::BAD_LOGON, 0.01);
  m.Answered(proto::R3Request::kStep, proto::R3Response::OK, 0.3);
  m.EndedByR3(1);
  m.EndedByBrokenStream(4);
  m.Tick(2, 1, 5, 3);
  std::string t = MetricsHttpServer::Exposition(registry);
  EXPECT_TRUE(
      Has(t, R"(its_r3_requests_total{code="bad_logon",kind="logon"} 1)"))
      << t;
  EXPECT_TRUE(Has(t, R"(its_r3_requests_total{code="ok",kind="step"} 1)"));
  EXPECT_TRUE(Has(t, R"(its_r3_step_seconds_bucket{le="0.25"} 0)"));
  EXPECT_TRUE(Has(t, R"(its_r3_step_seconds_bucket{le="0.5"} 1)"));
  EXPECT_TRUE(Has(t, R"(its_r3_session_ends_total{reason="connection"} 4)"));
  EXPECT_TRUE(Has(t, R"(its_r3_session_ends_total{reason="r3"} 1)"));
  EXPECT_TRUE(Has(t, "its_r3_locks 5"));
  EXPECT_TRUE(Has(t, "its_r3_agate_streams 3"));
}

TEST(MetricsEndpoint, AnswersMetricsExtraPathsAndErrors) {
  prometheus::Registry registry;
  prometheus::BuildCounter().Name("x_total").Help("x").Register(registry).Add(
      {});
  std::map<std::string, MetricsHttpServer::Handler> extra = {
      {"/sd", [] {
         return MetricsReply{"application/json", "[]"};
       }}};
  auto a = MetricsHttpServer::Respond(registry, extra, "GET", "/metrics?a=b");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.reply.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_TRUE(Has(a.reply.body, "x_total 0")) << a.reply.body;
  a = MetricsHttpServer::Respond(registry, extra, "GET", "/sd");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.reply.body, "[]");
  a = MetricsHttpServer::Respond(registry, extra, "POST", "/metrics");
  EXPECT_EQ(a.status, 405);
  a = MetricsHttpServer::Respond(registry, extra, "GET", "/../etc/passwd");
  EXPECT_EQ(a.status, 404);
  EXPECT_NE(a.reply.body.find("/metrics, /sd"), std::string::npos);
}

TEST(ClusterConfig, MetricsListenKeysAndDefaults) {
  constexpr char kBase[] = R"(
[r3]
listen = "127.0.0.1:3200"
[[agate_instance]]
name = "IT1"
mapping_manager = "10.0.0.5:3909"
)";
  auto c = ClusterConfig::Parse(kBase, "/cfg", "/cfg/cluster.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->r3_metrics_listen, "127.0.0.1:0");
  EXPECT_EQ(c->instances[0].metrics_listen, "127.0.0.1:0") << "listen_host";
  auto wild = ClusterConfig::Parse(std::string(kBase) +
                                       "host = \"10.0.0.5\"\n"
                                       "listen_host = \"0.0.0.0\"\n",
                                   "/cfg", "/cfg/cluster.toml");
  ASSERT_TRUE(wild.ok()) << wild.status();
  EXPECT_EQ(wild->instances[0].metrics_listen, "0.0.0.0:0");
  c = ClusterConfig::Parse(std::string(kBase) + "metrics_listen = \"h:1\"\n",
                           "/cfg", "/cfg/cluster.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->instances[0].metrics_listen, "h:1");
  c = ClusterConfig::Parse(std::string(kBase) + "metrics_listen = \"nope\"\n",
                           "/cfg", "/cfg/cluster.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("agate_instance[0].metrics_listen"),
            std::string::npos)
      << c.status();
  c = ClusterConfig::Parse(
      "[r3]\nmetrics_listen = 3201\n[[agate_instance]]\nname = \"IT1\"\n"
      "mapping_manager = \"h:1\"\n",
      "/cfg", "/cfg/cluster.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("r3.metrics_listen"), std::string::npos)
      << c.status();
}

}  // namespace
}  // namespace its
