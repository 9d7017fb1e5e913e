#include "common/admin_table.h"

#include <gtest/gtest.h>

#include "clients/admin.h"
#include "common/clock.h"

namespace its {
namespace {

proto::ProcessInfo Process() {
  proto::ProcessInfo p;
  p.set_instance("IT1");
  p.set_process(2);
  p.set_pid(4711);
  p.set_address("127.0.0.1:3910");
  p.set_sessions(3);
  p.set_max_sessions(10);
  p.set_busy_threads(1);
  p.set_max_threads(4);
  p.set_weight(0.5);
  p.set_state(proto::ProcessInfo::UNRESPONSIVE);
  p.set_turnaround_s(0.25);
  p.set_requests(99);
  p.set_incarnation(3);
  return p;
}

std::vector<std::string> Keys(const admin_table::Table& t) {
  std::vector<std::string> out;
  for (const auto& c : t.columns) out.push_back(c.key);
  return out;
}

TEST(AdminTable, AgatesInItsadmOrder) {
  admin_table::Table t = admin_table::AgateTable();
  admin_table::AddAgateRow(Process(), &t);
  EXPECT_EQ(Keys(t), (std::vector<std::string>{
                         "instance", "process", "pid", "address", "sessions",
                         "max_sessions", "busy_threads", "max_threads",
                         "weight", "state", "incarnation", "draining"}));
  EXPECT_EQ(admin_table::Titles(t)[8], "Load weight w");
  EXPECT_EQ(admin_table::TextRows(t),
            (std::vector<std::vector<std::string>>{
                {"IT1", "2", "4711", "127.0.0.1:3910", "3", "10", "1", "4",
                 "0.500", "unresponsive", "3", "no"}}));
}

TEST(AdminTable, LoadstatComputesFreeCapacity) {
  admin_table::Table t = admin_table::LoadstatTable();
  admin_table::AddLoadstatRow(Process(), &t);
  EXPECT_EQ(admin_table::TextRows(t)[0],
            (std::vector<std::string>{"IT1", "2", "0.500", "7", "10", "3", "4",
                                      "0.250", "99"}));
}

TEST(AdminTable, SessionsOfAProcess) {
  proto::SessionsReply reply;
  auto* r = reply.add_rows();
  r->set_session("IT1/2/7");
  r->set_service("webgui");
  r->set_user("LOAD00001");
  r->set_state("active");
  r->set_idle_s(1.5);
  r->set_r3_session(12);
  reply.add_rows();
  admin_table::Table t = admin_table::SessionTable();
  admin_table::AddSessionRows(Process(), reply, &t);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.columns.size(), t.rows[0].size());
  EXPECT_EQ(admin_table::Text(t.rows[0][2]), "IT1/2/7");
  EXPECT_EQ(admin_table::Text(t.rows[0][8]), "1.500");
  EXPECT_EQ(std::get<uint64_t>(t.rows[0][10]), 12u);
}

TEST(AdminTable, R3ListingsKeepTheirColumns) {
  proto::Sm04Reply sm04;
  sm04.add_rows()->set_session(5);
  proto::Sm05Reply sm05;
  sm05.add_rows()->set_id(7);
  sm05.mutable_rows(0)->add_session_ids(5);
  sm05.mutable_rows(0)->add_session_ids(9);
  proto::Sm12Reply sm12;
  sm12.add_rows()->set_argument("1007777");
  EXPECT_EQ(Keys(admin_table::Sm04Table(sm04)),
            (std::vector<std::string>{"client", "user", "terminal", "tcode",
                                      "type", "last_step", "session"}));
  EXPECT_EQ(Keys(admin_table::Sm05Table(sm05)),
            (std::vector<std::string>{"id", "client", "user", "sessions",
                                      "created", "last_activity",
                                      "expires_in_s", "session_ids"}));
  EXPECT_EQ(admin_table::Text(admin_table::Sm05Table(sm05).rows[0][7]), "5,9");
  EXPECT_EQ(Keys(admin_table::Sm12Table(sm12)),
            (std::vector<std::string>{"client", "user", "mode", "table",
                                      "argument", "time", "session"}));
  EXPECT_EQ(admin_table::Text(admin_table::Sm12Table(sm12).rows[0][4]),
            "1007777");
}

TEST(AdminTable, ItsadmJsonKeepsNumbersAndTextAligns) {
  admin::Table listing;
  listing.table = admin_table::AgateTable();
  admin_table::AddAgateRow(Process(), &listing.table);
  nlohmann::json j = admin::ToJson(listing);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_TRUE(j[0]["pid"].is_number_integer());
  EXPECT_EQ(j[0]["pid"], 4711);
  EXPECT_TRUE(j[0]["weight"].is_number_float());
  EXPECT_EQ(j[0]["state"], "unresponsive");
  EXPECT_EQ(j[0]["incarnation"], 3) << "added after the documented keys";
  proto::ClusterProcesses procs;
  auto* p = procs.add_processes();
  p->set_name("wgate");
  p->set_pid(42);
  p->set_address("127.0.0.1:8080");
  p->set_state("running");
  admin::Table processes;
  processes.table = admin_table::ProcessTable(procs);
  EXPECT_EQ(admin::ToText(processes),
            "NAME   PID  ADDRESS         RESTARTS  STATE\n"
            "wgate  42   127.0.0.1:8080  0         running\n"
            "(1 row)");
  EXPECT_TRUE(admin::ToJson(processes)[0]["restarts"].is_number_integer());
  procs.add_processes()->set_name("r3_stub");
  processes.table = admin_table::ProcessTable(procs);
  EXPECT_TRUE(admin::ToText(processes).ends_with("\n(2 rows)"));
  processes.table.rows.clear();
  EXPECT_TRUE(admin::ToText(processes).ends_with("\n(0 rows)"));
  // A list of IDs is a JSON array of numbers.
  proto::Sm05Reply sm05;
  sm05.add_rows()->add_session_ids(1000003);
  admin::Table security;
  security.table = admin_table::Sm05Table(sm05);
  nlohmann::json ids = admin::ToJson(security)[0]["session_ids"];
  ASSERT_TRUE(ids.is_array());
  EXPECT_EQ(ids, nlohmann::json::array({1000003}));
}

TEST(AdminClock, OneSimulatedTimeForTheWholeCluster) {
  // 2026-01-01 00:00:00 UTC; an hour of real time later at scale 60 the
  // simulated time is 60 hours on, in every process that shares the epoch.
  constexpr int64_t kEpoch = 1767225600;
  constexpr SimMicros kHour = 3600 * kSimSecond;
  SimMicros real = kEpoch * kSimSecond + kHour;
  EXPECT_EQ(SimulatedTime(kEpoch, 60, real), kEpoch * kSimSecond + 60 * kHour);
  EXPECT_EQ(SimulatedTime(kEpoch, 1, real), real);
  EXPECT_EQ(SimulatedTime(0, 60, real), real) << "no epoch: real time";
  EXPECT_EQ(ClockText(SimulatedTime(kEpoch, 60, real), 60),
            "2026/01/03 12:00:00 UTC (time scale 60)");
  EXPECT_EQ(ClockText(kEpoch * kSimSecond, 0.5),
            "2026/01/01 00:00:00 UTC (time scale 0.5)");

  ClusterConfig config;
  config.time_scale = 60;
  config.sim_epoch = kEpoch;
  EXPECT_EQ(admin::ClockLine(config, real),
            "simulated time 2026/01/03 12:00:00 UTC (time scale 60)");
  nlohmann::json j = admin::ToJson(admin::TimeTable(config, real));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["simulated_time"], "2026/01/03 12:00:00");
  EXPECT_EQ(j[0]["time_scale"], 60.0);
  EXPECT_EQ(j[0]["sim_epoch"], kEpoch);
  // Without an epoch each process has its own simulated time: itsadm does
  // not pretend to know it.
  config.sim_epoch = 0;
  EXPECT_EQ(admin::ClockLine(config, real),
            "time scale 60 (simulated time differs per process: no sim_epoch "
            "in cluster.toml)");
  EXPECT_EQ(admin::ToJson(admin::TimeTable(config, real))[0]["simulated_time"],
            "");
}

}  // namespace
}  // namespace its
