// Restart back-off and the unresponsive detector, with fake time.
#include <gtest/gtest.h>

#include "common/restart_policy.h"
#include "mapping_manager/liveness.h"

namespace its {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = std::chrono::steady_clock::time_point;

TEST(RestartPolicy, DelayDoublesPerCrashInTheWindowUpToTheCap) {
  SupervisorConfig c;  // 0.1 s, doubling, at most 5 s; 5 crashes in 60 s
  c.max_restarts = 10;
  RestartPolicy p(c);
  TimePoint t{};
  std::vector<int64_t> delays;
  for (int i = 0; i < 8; ++i) {
    auto d = p.OnExit(t + seconds(i));
    ASSERT_TRUE(d.has_value());
    delays.push_back(d->count());
  }
  EXPECT_EQ(delays,
            (std::vector<int64_t>{100, 200, 400, 800, 1600, 3200, 5000, 5000}));
}

TEST(RestartPolicy, GivesUpAfterMaxRestartsWithinTheWindow) {
  SupervisorConfig c;
  c.max_restarts = 3;
  c.window_s = 10;
  RestartPolicy p(c);
  TimePoint t{};
  EXPECT_TRUE(p.OnExit(t).has_value());
  EXPECT_TRUE(p.OnExit(t + seconds(1)).has_value());
  EXPECT_TRUE(p.OnExit(t + seconds(2)).has_value());
  EXPECT_FALSE(p.OnExit(t + seconds(3)).has_value())
      << "the fourth crash in 10 s";
  EXPECT_EQ(p.recent_crashes(), 4);
}

TEST(RestartPolicy, CrashesOutsideTheWindowAreForgotten) {
  SupervisorConfig c;
  c.max_restarts = 2;
  c.window_s = 10;
  RestartPolicy p(c);
  TimePoint t{};
  EXPECT_EQ(p.OnExit(t)->count(), 100);
  EXPECT_EQ(p.OnExit(t + seconds(5))->count(), 200);
  // 11 s after the first: it left the window; back-off starts over from the
  // crashes still inside it.
  auto d = p.OnExit(t + seconds(16));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->count(), 100);
  EXPECT_EQ(p.recent_crashes(), 1);
}

TEST(Liveness, UnresponsiveAfterThreeMissedReportsRestartedLater) {
  mm::LivenessLimits l;  // 1 s reports, 3 missed, restart after 60 s more
  TimePoint last{};
  EXPECT_EQ(mm::JudgeLiveness(last, last + milliseconds(2999), l),
            mm::Liveness::kResponsive);
  EXPECT_EQ(mm::JudgeLiveness(last, last + seconds(3), l),
            mm::Liveness::kUnresponsive);
  EXPECT_EQ(mm::JudgeLiveness(last, last + milliseconds(62999), l),
            mm::Liveness::kUnresponsive);
  EXPECT_EQ(mm::JudgeLiveness(last, last + seconds(63), l),
            mm::Liveness::kRestart);
}

TEST(Liveness, ZeroRestartAfterNeverRestarts) {
  mm::LivenessLimits l;
  l.restart_after = milliseconds(0);
  TimePoint last{};
  EXPECT_EQ(mm::JudgeLiveness(last, last + std::chrono::hours(24), l),
            mm::Liveness::kUnresponsive);
}

}  // namespace
}  // namespace its
