// The wgate's pure decisions: path dispatch, instance choice by free
// capacity (step 1), routing of existing sessions, outcome -> HTTP.
#include <gtest/gtest.h>

#include "wgate/directory.h"
#include "wgate/metrics.h"
#include "wgate/outcome.h"
#include "wgate/router.h"
#include "wgate/session_routing.h"

namespace its::wgate {
namespace {

TEST(RouterTest, Paths) {
  EXPECT_EQ(RoutePath("/").kind, Endpoint::kTopology);
  EXPECT_EQ(RoutePath("/topology.json").kind, Endpoint::kTopologyJson);
  EXPECT_EQ(RoutePath("/topology.json/x").kind, Endpoint::kNotFound);
  EXPECT_EQ(RoutePath("/healthz").kind, Endpoint::kHealth);
  EXPECT_EQ(RoutePath("/metrics").kind, Endpoint::kMetrics);
  EXPECT_EQ(RoutePath("/dsm/terminator").kind, Endpoint::kTerminator);
  EXPECT_EQ(RoutePath("/portal").kind, Endpoint::kPortal);
  EXPECT_EQ(RoutePath("/scripts/wgate/admin/!").kind, Endpoint::kAdmin);
  EXPECT_EQ(RoutePath("/scripts/wgate/admin/").kind, Endpoint::kAdminRedirect);
  EXPECT_EQ(RoutePath("/scripts/wgate/ADMIN").kind, Endpoint::kAdminRedirect);
  EXPECT_EQ(RoutePath("/scripts/wgate/admin/x").kind, Endpoint::kNotFound);
  Endpoint e = RoutePath("/scripts/wgate/WebGUI/!");
  EXPECT_EQ(e.kind, Endpoint::kService);
  EXPECT_EQ(e.service, "webgui");
  EXPECT_TRUE(e.start);
  e = RoutePath("/scripts/wgate/webgui/");
  EXPECT_EQ(e.kind, Endpoint::kService);
  EXPECT_FALSE(e.start);
  EXPECT_EQ(RoutePath("/scripts/wgate/webgui/x").kind, Endpoint::kNotFound);
  EXPECT_EQ(RoutePath("/scripts/wgate/../x/").kind, Endpoint::kNotFound);
}

class DirectoryTest : public ::testing::Test {
 protected:
  DirectoryTest() {
    configs_.resize(2);
    configs_[0].name = "IT1";
    configs_[1].name = "IT2";
    for (auto& c : configs_) {
      c.max_agates = 2;
      c.max_sessions = 10;
    }
    directory_.emplace(configs_);
  }
  // Instance `i` reports its processes: {process, sessions, state}.
  void Report(size_t i, std::vector<std::tuple<int, int, int>> processes) {
    proto::Directory d;
    d.set_instance(configs_[i].name);
    for (auto [process, sessions, state] : processes) {
      auto* p = d.add_processes();
      p->set_instance(configs_[i].name);
      p->set_process(process);
      p->set_pid(static_cast<int>(1000 + 10 * i) + process);
      p->set_sessions(sessions);
      p->set_max_sessions(10);
      p->set_state(static_cast<proto::ProcessInfo::State>(state));
      p->set_incarnation(1);
      p->set_address("127.0.0.1:" + std::to_string(4000 + 10 * i + process));
    }
    directory_->Update(i, d, now_);
  }

  std::vector<AgateInstanceConfig> configs_;
  std::optional<ProcessDirectory> directory_;
  ProcessDirectory::Clock::time_point now_{std::chrono::seconds(100)};
  std::mt19937_64 rng_{42};
};

TEST_F(DirectoryTest, InstanceOrderFollowsFreeCapacity) {
  Report(0, {{0, 10, proto::ProcessInfo::UP}, {1, 10, proto::ProcessInfo::UP}});
  Report(1, {{0, 2, proto::ProcessInfo::UP}});
  // IT1 is full (0 free), IT2 has 8 + one more process of 10: always first.
  for (int i = 0; i < 50; ++i) {
    auto order = directory_->InstanceOrder(rng_);
    ASSERT_EQ(order.size(), 2u);
    EXPECT_EQ(order[0], 1u);
  }
}

TEST_F(DirectoryTest, InstanceOrderDrawsByWeight) {
  Report(0, {{0, 0, proto::ProcessInfo::UP}, {1, 0, proto::ProcessInfo::UP}});
  Report(1, {{0, 5, proto::ProcessInfo::UP}, {1, 10, proto::ProcessInfo::UP}});
  int first_it1 = 0;
  for (int i = 0; i < 2000; ++i)
    first_it1 += directory_->InstanceOrder(rng_)[0] == 0;
  // 20 free against 5: IT1 first about 80 % of the time.
  EXPECT_GT(first_it1, 1500);
  EXPECT_LT(first_it1, 1700);
}

TEST_F(DirectoryTest, SilentManagerTakesNoNewSessions) {
  Report(0, {{0, 0, proto::ProcessInfo::UP}});
  Report(1, {{0, 0, proto::ProcessInfo::UP}});
  now_ += std::chrono::seconds(2);
  Report(1, {{0, 0, proto::ProcessInfo::UP}});
  now_ += std::chrono::seconds(2);
  EXPECT_EQ(directory_->CheckSilence(now_), std::vector<std::string>{"IT1"});
  EXPECT_TRUE(directory_->CheckSilence(now_).empty()) << "said once";
  EXPECT_EQ(directory_->InstanceOrder(rng_), std::vector<size_t>{1});
  std::string degraded;
  EXPECT_TRUE(directory_->Healthy(&degraded));
  EXPECT_NE(degraded.find("IT1: Mapping Manager unreachable"),
            std::string::npos);
  EXPECT_TRUE(
      directory_->Update(0, *std::make_unique<proto::Directory>(), now_))
      << "answers again";
}

// An instance whose live processes are all full (or drained) still serves
// its sessions: health stays 200 and names it.
TEST_F(DirectoryTest, AFullInstanceIsDegradedNotDown) {
  Report(0, {{0, 10, proto::ProcessInfo::UP}, {1, 10, proto::ProcessInfo::UP}});
  Report(1, {{0, 9, proto::ProcessInfo::UP}});
  std::string degraded;
  EXPECT_TRUE(directory_->Healthy(&degraded));
  EXPECT_EQ(degraded,
            "IT1: takes no new sessions (every live AGate process drained or "
            "full)\n");
  Report(0, {{0, 9, proto::ProcessInfo::UP}, {1, 10, proto::ProcessInfo::UP}});
  degraded.clear();
  EXPECT_TRUE(directory_->Healthy(&degraded));
  EXPECT_EQ(degraded, "");
  // The whole instance drained (itsadm drain IT1), whatever its processes
  // say.
  proto::Directory drained;
  drained.set_instance("IT1");
  drained.set_draining(true);
  auto* p = drained.add_processes();
  p->set_instance("IT1");
  p->set_pid(1000);
  p->set_max_sessions(10);
  p->set_state(proto::ProcessInfo::UP);
  p->set_incarnation(1);
  p->set_address("127.0.0.1:4000");
  directory_->Update(0, drained, now_);
  EXPECT_TRUE(directory_->Healthy(&degraded));
  EXPECT_NE(degraded.find("IT1: takes no new sessions"), std::string::npos);
}

TEST_F(DirectoryTest, RoutesByOwnerAndRefusesWhatItCannotReach) {
  Report(0, {{0, 1, proto::ProcessInfo::UP}, {1, 1, proto::ProcessInfo::DOWN}});
  Gusid id{"IT1", "host", 0, (1u << 24) | 7, std::string(32, 'a')};
  RouteDecision d = DecideRoute(*directory_, id.ToString(), false, false, rng_);
  ASSERT_NE(d.target, nullptr);
  EXPECT_EQ(d.target->address(), "127.0.0.1:4000");
  EXPECT_EQ(d.owner.random, "") << "no copy of the random part";

  id.process = 1;  // a process that ended
  EXPECT_EQ(DecideRoute(*directory_, id.ToString(), false, false, rng_).refusal,
            proto::SESSION_LOST);
  id.process = 0;
  id.slot = (2u << 24) | 7;  // an earlier run of the process
  EXPECT_EQ(DecideRoute(*directory_, id.ToString(), false, false, rng_).refusal,
            proto::SESSION_LOST);
  EXPECT_EQ(DecideRoute(*directory_, "forged", false, false, rng_).refusal,
            proto::SESSION_NOT_FOUND);
  // A public ID only names a session for a termination.
  id.slot = (1u << 24) | 7;
  EXPECT_EQ(DecideRoute(*directory_, id.PublicId(), false, false, rng_).refusal,
            proto::SESSION_NOT_FOUND);
  EXPECT_NE(DecideRoute(*directory_, id.PublicId(), true, false, rng_).target,
            nullptr);
  // IT2 sent no directory yet: it is starting, the session is kept.
  Gusid other{"IT2", "host", 0, (1u << 24) | 7, std::string(32, 'a')};
  EXPECT_EQ(
      DecideRoute(*directory_, other.ToString(), false, false, rng_).refusal,
      proto::STARTING);
  EXPECT_FALSE(OwnerEnded(*directory_, d.owner));
  Report(0, {{0, 1, proto::ProcessInfo::DOWN}});
  EXPECT_TRUE(OwnerEnded(*directory_, d.owner));
}

// Routing "naive" (the misrouting lab): a session command goes to any live
// process, and the decision says when that is not the owner; owner routing
// never misroutes.
TEST_F(DirectoryTest, NaiveRoutingSaysWhenACommandMissesTheOwner) {
  Report(0, {{0, 1, proto::ProcessInfo::UP}, {1, 1, proto::ProcessInfo::UP}});
  Report(1, {{0, 1, proto::ProcessInfo::UP}, {1, 1, proto::ProcessInfo::UP}});
  Gusid id{"IT1", "host", 1, (1u << 24) | 7, ""};
  int misrouted = 0, owner = 0;
  for (int i = 0; i < 200; ++i) {
    RouteDecision d = DecideRoute(*directory_, id.PublicId(), true, true, rng_);
    ASSERT_NE(d.target, nullptr);
    bool at_owner = d.target->instance() == "IT1" && d.target->process() == 1;
    EXPECT_EQ(d.misrouted, !at_owner);
    misrouted += d.misrouted;
    owner += at_owner;
  }
  EXPECT_GT(misrouted, 100) << "3 of 4 processes are not the owner";
  EXPECT_GT(owner, 20);
  for (bool terminate : {false, true}) {
    RouteDecision d =
        DecideRoute(*directory_, id.PublicId(), terminate, false, rng_);
    EXPECT_FALSE(d.misrouted);
  }
  Metrics m;
  m.misrouted_commands = 3;
  EXPECT_NE(MetricsText(m, *directory_)
                .find("its_wgate_misrouted_commands_total 3\n"),
            std::string::npos);
}

TEST(AgateRoutingTest, ParsesInstanceAndProcess) {
  auto r = ParseAgateRouting("it2:1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->instance, "IT2");
  EXPECT_EQ(r->process, 1);
  r = ParseAgateRouting(" IT1 ");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->instance, "IT1");
  EXPECT_FALSE(r->process.has_value());
  EXPECT_EQ(ParseAgateRouting("IT1:255")->process, 255);
  for (const char* bad :
       {"", ":1", "IT1:", "IT1:x", "IT1:-1", "IT1:256", "IT1:0001", "IT1:1:2",
        "TOOLONGNAME", "IT-1", "IT1 :1", "<b>"}) {
    auto e = ParseAgateRouting(bad);
    EXPECT_FALSE(e.ok()) << bad;
    EXPECT_NE(e.status().message().find("~agate_routing"), std::string::npos);
  }
}

TEST_F(DirectoryTest, AgateRoutingTakesTheNamedInstanceOrRefuses) {
  Report(0, {{0, 10, proto::ProcessInfo::UP}});  // full: no matter
  Report(1, {{0, 0, proto::ProcessInfo::UP}});
  auto i = directory_->RoutedInstance({"IT1", 1});
  ASSERT_TRUE(i.ok()) << i.status();
  EXPECT_EQ(*i, 0u) << "not the weighted choice";
  EXPECT_EQ(*directory_->RoutedInstance({"IT2", std::nullopt}), 1u);
  auto unknown = directory_->RoutedInstance({"IT9", std::nullopt});
  EXPECT_TRUE(absl::IsNotFound(unknown.status()));
  EXPECT_EQ(unknown.status().message(),
            "There is no AGate instance IT9 (configured: IT1, IT2)");
  auto beyond = directory_->RoutedInstance({"IT2", 2});  // max_agates 2
  EXPECT_TRUE(absl::IsInvalidArgument(beyond.status()));
  EXPECT_EQ(beyond.status().message(),
            "AGate instance IT2 has no process 2 (its processes are 0 to 1)");
  directory_->ManagerGone(1);
  EXPECT_TRUE(absl::IsUnavailable(
      directory_->RoutedInstance({"IT2", std::nullopt}).status()));
}

TEST(OutcomeTest, StepsOfAStartAreTheStepsDone) {
  EXPECT_STREQ(StartSteps(proto::SESSION_STARTED), "1,2,3,4,5");
  EXPECT_STREQ(StartSteps(proto::SERVICE_RESTARTED), "1,2,3,4,5");
  for (proto::Outcome failed :
       {proto::LOGON_FAILED, proto::LOGON_REFUSED, proto::LOGON_PAGE,
        proto::NO_CAPACITY, proto::R3_TIMEOUT, proto::R3_UNREACHABLE,
        proto::BAD_TRANSACTION_CALL, proto::AGATE_TIMEOUT}) {
    EXPECT_STREQ(StartSteps(failed), "1,2,3") << proto::Outcome_Name(failed);
  }
  EXPECT_EQ(HttpStatus(proto::BAD_TRANSACTION_CALL), 400);
}

TEST(OutcomeTest, StepsOfASessionsRequestAreTheStepsDone) {
  proto::AGateResponse a = WgateAnswer(proto::SESSION_LOST);
  EXPECT_STREQ(ExistingSteps(a), "1");  // no process answered
  a.set_r3_called(true);
  EXPECT_STREQ(ExistingSteps(a), "1");
  proto::AGateResponse p;
  p.set_outcome(proto::SESSION_NOT_FOUND);
  p.set_pid(4711);
  EXPECT_STREQ(ExistingSteps(p), "1,4");
  p.set_outcome(proto::PAGE);
  p.set_r3_called(true);
  EXPECT_STREQ(ExistingSteps(p), "1,4,5");
}

TEST(OutcomeTest, HttpStatusAndCookie) {
  EXPECT_EQ(HttpStatus(proto::PAGE), 200);
  EXPECT_EQ(HttpStatus(proto::LOGGED_OFF), 200);
  EXPECT_EQ(HttpStatus(proto::LOGGED_OFF, true), 302);
  EXPECT_EQ(HttpStatus(proto::SESSION_ENDED), 400);
  EXPECT_EQ(HttpStatus(proto::SERVICE_NOT_FOUND), 404);
  EXPECT_EQ(HttpStatus(proto::AGATE_UNREACHABLE), 503);
  EXPECT_EQ(HttpStatus(proto::R3_TIMEOUT), 504);
  EXPECT_EQ(OutcomeLabel(proto::SESSION_STARTED), "session_started");
  EXPECT_TRUE(WgateAnswer(proto::SESSION_LOST).clear_session());
  EXPECT_FALSE(WgateAnswer(proto::AGATE_TIMEOUT).clear_session())
      << "the session is kept";
  EXPECT_EQ(WgateAnswer(proto::AGATE_TIMEOUT).outcome(), proto::AGATE_TIMEOUT);
}

TEST_F(DirectoryTest, EachAnswerIsCountedOnceByOutcome) {
  Report(0, {{0, 3, proto::ProcessInfo::UP}});
  Metrics m;
  m.Count(proto::SESSION_NOT_FOUND);  // a forged ID the wgate refused itself
  m.Count(proto::SESSION_ENDED);
  m.Count(proto::AGATE_TIMEOUT);
  ++m.no_session;
  m.step_seconds.Observe(0.003);
  m.step_seconds.Observe(0.2);
  std::string text = MetricsText(m, *directory_);
  EXPECT_NE(text.find("# TYPE its_wgate_request_seconds histogram\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("its_wgate_request_seconds_bucket{kind=\"step\","
                      "le=\"0.005\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("its_wgate_request_seconds_count{kind=\"step\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("its_wgate_request_seconds_count{kind=\"start\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("its_wgate_bad_session_total 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("its_wgate_agate_timeouts_total 1\n"), std::string::npos);
  EXPECT_NE(
      text.find("its_wgate_outcomes_total{outcome=\"session_not_found\"} 1\n"),
      std::string::npos);
  EXPECT_NE(text.find("its_agate_sessions{instance=\"IT1\",process=\"0\","
                      "pid=\"1000\"} 3\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace its::wgate
