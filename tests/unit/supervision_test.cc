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

TEST(UnconfirmedStarts, ReportedStartsConfirmTheOldestLostOnesExpire) {
  mm::UnconfirmedStarts u;
  TimePoint t{};
  const milliseconds lost_after = seconds(35);
  for (int i = 0; i < 5; ++i) u.Assigned(t + seconds(i));
  EXPECT_EQ(u.count(), 5);
  // It received 2 of them: 3 still count as its sessions.
  EXPECT_EQ(u.Reported(2, t + seconds(5), lost_after), 0);
  EXPECT_EQ(u.count(), 3);
  // None more arrive (lost with a broken stream): they count until they are
  // older than lost_after, then no more.
  EXPECT_EQ(u.Reported(2, t + seconds(37), lost_after), 0);
  EXPECT_EQ(u.count(), 3);
  EXPECT_EQ(u.Reported(2, t + seconds(38), lost_after), 1);  // made at 2 s
  EXPECT_EQ(u.Reported(2, t + seconds(40), lost_after), 2);
  EXPECT_EQ(u.count(), 0);
  // A later one arrives; the count goes on from the last report.
  u.Assigned(t + seconds(41));
  EXPECT_EQ(u.Reported(3, t + seconds(42), lost_after), 0);
  EXPECT_EQ(u.count(), 0);
  // A new incarnation counts its starts from 0 again.
  u.Assigned(t + seconds(43));
  u.Assigned(t + seconds(43));
  EXPECT_EQ(u.Reported(1, t + seconds(44), lost_after), 0);
  EXPECT_EQ(u.count(), 1);
}

TEST(Liveness, AStartThatDoesNotRegisterIsUnresponsiveAfterItsGrace) {
  mm::LivenessLimits l;  // 10 s to register, restart after 60 s more
  TimePoint started{};
  EXPECT_EQ(mm::JudgeStart(started, started + milliseconds(9999), l),
            mm::Liveness::kResponsive)
      << "a slow start is still a start";
  EXPECT_EQ(mm::JudgeStart(started, started + seconds(10), l),
            mm::Liveness::kUnresponsive);
  EXPECT_EQ(mm::JudgeStart(started, started + milliseconds(69999), l),
            mm::Liveness::kUnresponsive);
  EXPECT_EQ(mm::JudgeStart(started, started + seconds(70), l),
            mm::Liveness::kRestart);
  l.restart_after = milliseconds(0);
  EXPECT_EQ(mm::JudgeStart(started, started + std::chrono::hours(24), l),
            mm::Liveness::kUnresponsive);
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
