// itsload workers' pure parts: LoadStats on the wire (the codec round trip
// gives the same report; another scenario's or corrupt figures give an
// error, not a crash) and the split of a load plan into workers' shares.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <sstream>

#include "clients/load_coordinator.h"
#include "clients/load_report.h"
#include "clients/load_stats_codec.h"
#include "tests/unit/load_fixtures.h"

namespace its::load {
namespace {

using Clock = std::chrono::steady_clock;

using testing::Step;
using testing::TwoJourneys;

// A run's worth of figures: every kind of count, a timeline with a gap.
void Fill(LoadStats& st, uint64_t seed, int requests) {
  std::mt19937_64 rng(seed);
  auto t0 = Clock::now();
  st.Start(t0);
  for (int i = 0; i < requests; ++i) {
    int journey = static_cast<int>(rng() % 2);
    const StepSlots& slots = st.Slots(journey);
    int slot = slots.steps[rng() % slots.steps.size()];
    int us = static_cast<int>(
        std::exponential_distribution<double>(1.0 / 3000)(rng));
    int status = i % 97 == 0 ? 503 : i % 89 == 0 ? 0 : 200;
    std::string error = status == 0    ? "connect: Connection refused"
                        : i % 101 == 0 ? "locked by another user"
                                       : "";
    st.Request({journey, slot}, status, error, i % 3 ? "A/0/1" : "B/1/2", t0,
               t0 + std::chrono::microseconds(us));
    if (i % 7 == 0) st.JourneyStarted(journey);
    if (i % 11 == 0) st.JourneyEnded(journey, LoadStats::Ending::kCompleted);
    if (i % 13 == 0) st.JourneyEnded(journey, LoadStats::Ending::kFailed);
    if (i % 17 == 0) st.JourneyEnded(journey, LoadStats::Ending::kInterrupted);
    if (i % 19 == 0) st.BackedOff(75.5);
    if (i % 23 == 0) st.JourneyDropped();
    if (i % 29 == 0) st.LoggedOffAtEnd(i % 2 == 0);
    if (i % 31 == 0) st.Error("odd page");
    // Seconds 1, 2, 4, ...: second 3 never ends (a worker stalled).
    if (i % 500 == 499) {
      int64_t n = i / 500 + 1;
      st.EndOfSecond(n >= 3 ? n + 1 : n, i % 5, n % 2 ? -1 : 3.5);
    }
  }
  st.Finished(12.5, 0.75);
}

pb::LoadStats RoundTripParts(const std::vector<pb::LoadStats>& parts) {
  pb::LoadStats all;
  for (const pb::LoadStats& p : parts) {
    EXPECT_EQ(p.first_second(), all.timeline_size());
    all.MergeFrom(p);
  }
  all.set_first_second(0);
  return all;
}

TEST(LoadStatsCodec, RoundTripGivesTheSameReport) {
  Scenario sc = TwoJourneys();
  LoadStats st(sc);
  Fill(st, 7, 5000);
  pb::LoadStats msg;
  LoadStatsCodec::ToProto(st, &msg);
  // Through bytes, as on the wire.
  pb::LoadStats wire;
  ASSERT_TRUE(wire.ParseFromString(msg.SerializeAsString()));
  auto back = LoadStatsCodec::FromProto(wire, sc);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(st.Report("s", false).dump(), back->Report("s", false).dump());
  EXPECT_EQ(back->elapsed_s(), 12.5);
  // In parts of 3 seconds, reassembled: the same.
  auto parts = LoadStatsCodec::ToParts(st, 3);
  EXPECT_EQ(parts.size(), 4u);  // 11 seconds
  EXPECT_EQ(parts[0].journeys_size(), 0);
  auto again = LoadStatsCodec::FromProto(RoundTripParts(parts), sc);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(st.Report("s", true).dump(), again->Report("s", true).dump());
  // Nothing measured: the same, too.
  LoadStats empty(sc);
  LoadStatsCodec::ToProto(empty, &msg);
  auto none = LoadStatsCodec::FromProto(msg, sc);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(empty.Report("s", false), none->Report("s", false));
  EXPECT_EQ(LoadStatsCodec::ToParts(empty, 600).size(), 1u);
}

// Merging decoded figures is merging the figures.
TEST(LoadStatsCodec, MergeOfDecodedFiguresIsExact) {
  Scenario sc = TwoJourneys();
  LoadStats w1(sc), w2(sc);
  Fill(w1, 1, 3000);
  Fill(w2, 2, 4000);
  LoadStats direct(sc);
  direct.Merge(w1);
  direct.Merge(w2);
  LoadStats coded(sc);
  for (const LoadStats* w : {&w1, &w2}) {
    auto back = LoadStatsCodec::FromProto(
        RoundTripParts(LoadStatsCodec::ToParts(*w, 2)), sc);
    ASSERT_TRUE(back.ok()) << back.status();
    coded.Merge(*back);
  }
  EXPECT_EQ(direct.Report("s", false).dump(), coded.Report("s", false).dump());
}

TEST(LoadStatsCodec, AnotherScenariosFiguresAreRefused) {
  Scenario sc = TwoJourneys();
  LoadStats st(sc);
  Fill(st, 3, 100);
  pb::LoadStats msg;
  LoadStatsCodec::ToProto(st, &msg);
  Scenario renamed = TwoJourneys();
  renamed.journeys[1].name = "c";
  auto r = LoadStatsCodec::FromProto(msg, renamed);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("journey 1 is 'b', not 'c'"),
            std::string::npos)
      << r.status();
  Scenario other_steps = TwoJourneys();
  other_steps.journeys[0].steps[1].name = "z";
  r = LoadStatsCodec::FromProto(msg, other_steps);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(
                "the steps of journey 'a' are logon, x, y, logoff"),
            std::string::npos)
      << r.status();
  Scenario fewer = TwoJourneys();
  fewer.journeys.pop_back();
  r = LoadStatsCodec::FromProto(msg, fewer);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("2 journeys, not 1"), std::string::npos)
      << r.status();
}

// load_stats_fuzz starts from real figures of the shipped mixed scenario;
// refused, they would start it nowhere (see tests/fuzz/load_stats_fuzz.cc to
// write the seed again).
TEST(LoadStatsCodec, TheFuzzSeedIsOfTheShippedMixedScenario) {
  auto sc = Scenario::Load(std::string(ITS_SOURCE_DIR) +
                           "/deploy/scenarios/mixed.toml");
  ASSERT_TRUE(sc.ok()) << sc.status();
  std::ifstream in(
      std::string(ITS_SOURCE_DIR) + "/tests/fuzz/seeds/load_stats/mixed-run",
      std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  pb::LoadStats m;
  ASSERT_TRUE(m.ParseFromString(bytes.str()));
  auto r = LoadStatsCodec::FromProto(m, *sc);
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST(LoadStatsCodec, CorruptFiguresAreAnErrorNotACrash) {
  Scenario sc = TwoJourneys();
  LoadStats st(sc);
  Fill(st, 4, 2000);
  pb::LoadStats good;
  LoadStatsCodec::ToProto(st, &good);
  auto refused = [&](const std::function<void(pb::LoadStats&)>& spoil,
                     const std::string& says) {
    pb::LoadStats m = good;
    spoil(m);
    auto r = LoadStatsCodec::FromProto(m, sc);
    ASSERT_FALSE(r.ok()) << says;
    EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status();
  };
  refused(
      [](pb::LoadStats& m) {
        m.mutable_all()->mutable_latency()->add_index(1);
      },
      "bucket indices but");
  refused(
      [](pb::LoadStats& m) {
        m.mutable_journeys(0)->mutable_slots(1)->mutable_latency()->set_index(
            0, 1u << 30);
      },
      "a/x: bucket 1073741824 out of range");
  refused([](pb::LoadStats& m) { m.mutable_all()->set_requests(1); },
          "all requests: 1 requests");
  refused([](pb::LoadStats& m) { m.mutable_timeline(0)->set_errors(1u << 31); },
          "second 1:");
  refused([](pb::LoadStats& m) { m.set_first_second(int64_t{1} << 40); },
          "seconds after second 1099511627776 (at most 200000 in all)");
  refused(
      [](pb::LoadStats& m) {
        m.set_first_second(std::numeric_limits<int64_t>::max());
      },
      "seconds after second 9223372036854775807");
  refused([](pb::LoadStats& m) { m.mutable_journeys(1)->clear_slots(); },
          "0 step figures for 2 steps");
  // Not numbers, or extremes the other way round (found by
  // tests/fuzz/load_stats_fuzz.cc: a NaN sum made the report's mean NaN).
  refused(
      [](pb::LoadStats& m) {
        m.mutable_all()->mutable_latency()->set_sum_us(
            std::numeric_limits<double>::quiet_NaN());
      },
      "all requests: latency sum nan");
  refused(
      [](pb::LoadStats& m) {
        m.mutable_timeline(0)->mutable_latency()->set_min_us(
            m.timeline(0).latency().max_us() + 1);
      },
      "second 1: latency sum");
  refused(
      [](pb::LoadStats& m) {
        auto* h = m.mutable_all()->mutable_latency();
        h->set_sum_us(1e300);  // more than count x maximum: the mean infinite
      },
      "all requests: latency sum");
  refused(
      [](pb::LoadStats& m) {
        m.mutable_all()->mutable_latency()->set_min_us(-1);
      },
      "all requests: latency sum");
  refused([](pb::LoadStats& m) { m.mutable_timeline(0)->set_active(1 << 30); },
          "second 1: 1073741824 journeys in progress");
  refused(
      [](pb::LoadStats& m) {
        m.set_cpu_s(std::numeric_limits<double>::infinity());
      },
      "a time that is not a finite number");
  refused(
      [](pb::LoadStats& m) {
        m.mutable_timeline(0)->set_target(
            std::numeric_limits<double>::quiet_NaN());
      },
      "second 1: a target that is not a finite number");
  // Bytes flipped at random: parsed or not, decoded or refused, never a
  // crash (under the sanitizers of the debug preset, never a bad access).
  const std::string bytes = good.SerializeAsString();
  std::mt19937_64 rng(5);
  int decoded = 0;
  for (int i = 0; i < 300; ++i) {
    std::string b = bytes;
    for (int k = 0; k < 4; ++k) b[rng() % b.size()] = static_cast<char>(rng());
    pb::LoadStats m;
    if (!m.ParseFromString(b)) continue;
    auto r = LoadStatsCodec::FromProto(m, sc);
    if (r.ok()) {
      ++decoded;
      r->Report("s", false);
    }
  }
  EXPECT_LT(decoded, 300);
}

TEST(WorkerShares, UsersSplitWholeRatesEqually) {
  EXPECT_EQ(ShareOf(8, 0, 3), 3);
  EXPECT_EQ(ShareOf(8, 1, 3), 3);
  EXPECT_EQ(ShareOf(8, 2, 3), 2);
  EXPECT_EQ(ShareOf(1, 1, 2), 0);
  EXPECT_EQ(ShareOf(5, 3, 3), 0);  // no such worker
  StagePlan users = StagePlan::RampThenHold(8, 2, 10);
  int total = 0;
  for (int i = 0; i < 3; ++i) {
    StagePlan share = SharePlan(users, /*open_model=*/false, i, 3);
    ASSERT_EQ(share.stages().size(), users.stages().size());
    EXPECT_EQ(share.duration_s(), 10);
    total += share.Users(5);
  }
  EXPECT_EQ(total, 8);
  EXPECT_EQ(SharePlan(users, false, 0, 3).Users(5), 3);
  EXPECT_EQ(SharePlan(users, false, 2, 3).Users(5), 2);
  StagePlan rate({{10, 100}, {20, 30}});
  StagePlan quarter = SharePlan(rate, /*open_model=*/true, 3, 4);
  EXPECT_DOUBLE_EQ(quarter.Target(10), 25);
  EXPECT_DOUBLE_EQ(quarter.Target(30), 7.5);
  EXPECT_EQ(quarter.duration_s(), 30);
}

}  // namespace
}  // namespace its::load
