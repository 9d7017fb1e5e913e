// itsload's pure parts around a run: stage plans, thresholds, and the
// figures (slots per journey, the timeline, merging workers' figures).
#include <gtest/gtest.h>

#include "clients/load_report.h"
#include "clients/stages.h"
#include "clients/thresholds.h"
#include "tests/unit/load_fixtures.h"

namespace its::load {
namespace {

using Clock = std::chrono::steady_clock;

TEST(Stages, ParseStage) {
  auto s = ParseStage("30s:100");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->duration_s, 30);
  EXPECT_EQ(s->target, 100);
  EXPECT_EQ(ParseStage("1m30s:5").status().ok(), false);  // one unit only
  EXPECT_EQ(ParseStage("500ms:2.5")->target, 2.5);
  for (const char* bad : {"30s", "30s:", ":5", "x:5", "30s:-1", "30s:5x"}) {
    EXPECT_FALSE(ParseStage(bad).ok()) << bad;
  }
}

TEST(Stages, LinearRampsFromZeroAndJumps) {
  StagePlan p({{10, 100}, {20, 100}, {10, 0}});
  EXPECT_EQ(p.duration_s(), 40);
  EXPECT_EQ(p.max_target(), 100);
  EXPECT_DOUBLE_EQ(p.Target(0), 0);
  EXPECT_DOUBLE_EQ(p.Target(5), 50);
  EXPECT_DOUBLE_EQ(p.Target(10), 100);
  EXPECT_DOUBLE_EQ(p.Target(29.9), 100);
  EXPECT_DOUBLE_EQ(p.Target(35), 50);
  EXPECT_DOUBLE_EQ(p.Target(99), 0);
  StagePlan c = StagePlan::Constant(7, 60);
  EXPECT_EQ(c.duration_s(), 60);
  EXPECT_EQ(c.Users(0), 7);  // a 0 s stage jumps
  EXPECT_EQ(c.Users(59.9), 7);
  StagePlan r = StagePlan::RampThenHold(4, 8, 10);
  EXPECT_EQ(r.Users(0), 0);
  EXPECT_EQ(r.Users(8), 4);
  EXPECT_EQ(r.duration_s(), 10);
}

// Following NextUsersChange visits every count of a ramp, up and down, once,
// at the times the rounding says.
TEST(Stages, NextUsersChangeWalksEveryStep) {
  StagePlan p({{10, 5}, {5, 5}, {10, 0}});
  std::vector<int> seen;
  std::vector<double> at;
  double t = 0;
  int guard = 0;
  while (t < p.duration_s() && ++guard < 1000) {
    int u = p.Users(t);
    if (seen.empty() || seen.back() != u) {
      seen.push_back(u);
      at.push_back(t);
    }
    t = p.NextUsersChange(t);
  }
  EXPECT_LT(guard, 100);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4, 5, 4, 3, 2, 1, 0}));
  EXPECT_NEAR(at[1], 1, 1e-6);   // 0.5 users at 1 s rounds to 1
  EXPECT_NEAR(at[5], 9, 1e-6);   // 4.5 at 9 s
  EXPECT_NEAR(at[6], 16, 1e-5);  // below 4.5 just after 16 s
  EXPECT_EQ(p.NextUsersChange(30), std::numeric_limits<double>::infinity());
}

TEST(Thresholds, Grammar) {
  auto t = ParseThreshold("p99<50ms");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->metric, Threshold::kPercentile);
  EXPECT_EQ(t->percentile, 99);
  EXPECT_EQ(t->op, Threshold::kLt);
  EXPECT_EQ(t->limit, 50);
  EXPECT_EQ(ParseThreshold("p99.9<=0.2s")->limit, 200);
  EXPECT_EQ(ParseThreshold("p99.9<=0.2s")->percentile, 99.9);
  EXPECT_EQ(ParseThreshold("p95<20")->limit, 20);  // plain: ms
  EXPECT_EQ(ParseThreshold("max<500us")->limit, 0.5);
  auto e = ParseThreshold("errors<1%");
  EXPECT_TRUE(e->percent);
  EXPECT_EQ(e->limit, 1);
  EXPECT_FALSE(ParseThreshold("errors==0")->percent);
  EXPECT_EQ(ParseThreshold("errors==0")->op, Threshold::kEq);
  EXPECT_EQ(ParseThreshold("rps>=100")->op, Threshold::kGe);
  auto s = ParseThreshold("step:enter-document:p95<20ms");
  EXPECT_EQ(s->step, "enter-document");
  EXPECT_EQ(s->journey, "");
  auto q = ParseThreshold("step:display-logoff/refresh:errors==0");
  EXPECT_EQ(q->journey, "display-logoff");
  EXPECT_EQ(q->step, "refresh");
  EXPECT_EQ(ParseThreshold("journey:ess:failed<1%")->journey, "ess");
  for (const char* bad :
       {"p99", "p99<", "p0<5", "p101<5", "q99<5", "p99<5kg", "rps>5%",
        "p99<-1ms", "step::p99<5", "step:x", "step:a/:p99<5",
        "step:x:failed<1%", "<5", "p99=<5"}) {
    auto b = ParseThreshold(bad);
    EXPECT_FALSE(b.ok()) << bad;
    if (!b.ok()) {
      EXPECT_NE(b.status().message().find(bad), std::string::npos);
    }
  }
}

using testing::Step;
using testing::TwoJourneys;

TEST(LoadStats, SlotsPerJourneyAndSameNamesShareOne) {
  Scenario sc = TwoJourneys();
  LoadStats st(sc);
  EXPECT_EQ(st.Slots(0).logon, 0);
  EXPECT_EQ(st.Slots(0).steps, (std::vector<int>{1, 2, 1}));
  EXPECT_EQ(st.Slots(0).end, 3);   // logoff
  EXPECT_EQ(st.Slots(1).end, -1);  // abandon sends nothing
  auto t0 = Clock::now();
  st.Start(t0);
  auto ms = [&](int v) { return t0 + std::chrono::milliseconds(v); };
  st.Request({0, 1}, 200, "", "A/0/1", ms(0), ms(10));
  st.Request({1, 1}, 200, "locked by another user", "A/0/1", ms(0), ms(30));
  st.Request({1, 1}, 0, "connect: refused", "", ms(0), ms(5));
  auto r = st.Report("s", false);
  EXPECT_EQ(r["steps"]["a/x"]["requests"], 1);
  EXPECT_EQ(r["steps"]["b/x"]["requests"], 2);
  EXPECT_EQ(r["steps"]["b/x"]["errors"], 2);
  EXPECT_EQ(r["by_journey"]["a"]["steps"]["logoff"]["requests"], 0);
  EXPECT_EQ(r["errors_by_kind"]["locked by another user"], 1);
  EXPECT_EQ(r["transport_errors"], 1);
  LoadStats::Figures f;
  ASSERT_TRUE(st.Select("", "x", &f));
  EXPECT_EQ(f.stats.requests, 3u);
  ASSERT_TRUE(st.Select("b", "", &f));
  EXPECT_EQ(f.stats.errors, 2u);
  EXPECT_FALSE(st.Select("c", "", &f));
  EXPECT_FALSE(st.Select("a", "zz", &f));
}

TEST(Thresholds, EvaluateOnFigures) {
  Scenario sc = TwoJourneys();
  LoadStats st(sc);
  auto t0 = Clock::now();
  st.Start(t0);
  auto ms = [&](int v) { return t0 + std::chrono::milliseconds(v); };
  // 99 fast requests of a/x, one slow error in b/x.
  for (int i = 0; i < 99; ++i) st.Request({0, 1}, 200, "", "", ms(0), ms(2));
  st.Request({1, 1}, 500, "", "", ms(0), ms(400));
  st.JourneyStarted(0);
  st.JourneyEnded(0, LoadStats::Ending::kFailed);
  st.JourneyStarted(0);
  st.JourneyEnded(0, LoadStats::Ending::kCompleted);
  auto check = [&](const char* text) {
    return Evaluate(*ParseThreshold(text), st, 10);
  };
  EXPECT_TRUE(check("p99<5ms").ok);
  EXPECT_FALSE(check("p99.9<5ms").ok);
  EXPECT_FALSE(check("max<300ms").ok);
  EXPECT_NEAR(check("max<300ms").value, 400, 4);
  EXPECT_TRUE(check("errors<=1%").ok);
  EXPECT_FALSE(check("errors<1%").ok);
  EXPECT_EQ(check("errors==1").ok, true);
  EXPECT_NEAR(check("rps>9").value, 10, 1e-9);
  EXPECT_TRUE(check("requests>=100").ok);
  EXPECT_TRUE(check("step:a/x:errors==0").ok);
  EXPECT_FALSE(check("step:x:errors==0").ok);  // every journey's x
  EXPECT_EQ(check("journey:a:failed<=50%").value, 50);
  // Nothing measured passes nothing: an unknown scope, a step without
  // requests.
  EXPECT_TRUE(check("journey:nope:p99<1s").no_data);
  EXPECT_FALSE(check("journey:nope:p99<1s").ok);
  EXPECT_FALSE(check("step:y:p99<1s").ok);
  EXPECT_FALSE(check("journey:b:failed<1%").ok);  // b had no journey
}

// Two workers' figures merged equal the figures of one generator that saw
// every request: same counts, same percentiles (histograms, not averages).
TEST(LoadStats, MergeIsExact) {
  Scenario sc = TwoJourneys();
  LoadStats one(sc), w1(sc), w2(sc);
  auto t0 = Clock::now();
  for (LoadStats* s : {&one, &w1, &w2}) s->Start(t0);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 5000; ++i) {
    int us = static_cast<int>(
        std::exponential_distribution<double>(1.0 / 3000)(rng));
    StepKey k{i % 2, 1};
    int status = i % 97 == 0 ? 503 : 200;
    auto end = t0 + std::chrono::microseconds(us);
    one.Request(k, status, "", "A/0/1", t0, end);
    (i % 3 == 0 ? w1 : w2).Request(k, status, "", "A/0/1", t0, end);
    if (i % 500 == 499) {
      int64_t n = i / 500 + 1;
      one.EndOfSecond(n, 4, 2);
      w1.EndOfSecond(n, 1, 1);
      w2.EndOfSecond(n, 3, 1);
    }
  }
  w1.Merge(w2);
  auto a = one.Report("s", false), b = w1.Report("s", false);
  for (const char* key : {"requests", "errors", "latency_ms", "steps",
                          "by_journey", "errors_by_kind", "agates"}) {
    EXPECT_EQ(a[key], b[key]) << key;
  }
  for (size_t i = 0; i < a["timeline"].size(); ++i) {
    EXPECT_EQ(a["timeline"][i], b["timeline"][i]) << i;
  }
}

}  // namespace
}  // namespace its::load
