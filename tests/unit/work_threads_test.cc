// The agate's simulated MaxWorkThreads pool: fake time, no threads, no sleeps.
#include "agate/work_threads.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/clock.h"

namespace its::agate {
namespace {

TEST(WorkThreads, RunsAtOnceWhileAThreadIsFree) {
  FakeClock clock(5 * kSimSecond);
  WorkThreads pool(clock, 2);
  std::vector<SimMicros> started;
  pool.Run([&](SimMicros t) { started.push_back(t); });
  pool.Run([&](SimMicros t) { started.push_back(t); });
  EXPECT_EQ(started, (std::vector<SimMicros>{5 * kSimSecond, 5 * kSimSecond}));
  EXPECT_EQ(pool.busy(), 2);
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(WorkThreads, QueuesFifoWhenAllAreBusyAndHandsOnAtRelease) {
  FakeClock clock;
  WorkThreads pool(clock, 1);
  std::vector<int> ran;
  std::vector<SimMicros> started;
  for (int i = 0; i < 3; ++i) {
    pool.Run([&, i](SimMicros t) {
      ran.push_back(i);
      started.push_back(t);
    });
  }
  EXPECT_EQ(ran, (std::vector<int>{0}));
  EXPECT_EQ(pool.busy(), 1);
  EXPECT_EQ(pool.queued(), 2u);

  clock.Advance(kSimSecond);
  pool.Release(started[0]);
  EXPECT_EQ(ran, (std::vector<int>{0, 1}));
  EXPECT_EQ(started[1], kSimSecond);  // when it got the thread, not queued
  EXPECT_EQ(pool.busy(), 1);

  pool.Release(started[1]);
  pool.Release(started[2]);
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(pool.busy(), 0);
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(WorkThreads, WorkMayReleaseItsThreadAtOnce) {
  FakeClock clock;
  WorkThreads pool(clock, 1);
  int ran = 0;
  for (int i = 0; i < 3; ++i) {
    pool.Run([&](SimMicros t) {
      ++ran;
      pool.Release(t);  // e.g. the session ended while the work was queued
    });
  }
  EXPECT_EQ(ran, 3);
  EXPECT_EQ(pool.busy(), 0);
}

TEST(WorkThreads, CountsTheWorksThatWaitedForAThread) {
  FakeClock clock;
  WorkThreads pool(clock, 2);
  std::vector<SimMicros> started;
  for (int i = 0; i < 5; ++i) {
    pool.Run([&](SimMicros t) { started.push_back(t); });
  }
  EXPECT_EQ(pool.waited(), 3u);  // two ran at once
  EXPECT_EQ(pool.queued(), 3u);
  pool.Release(started[0]);  // the next queued one runs: no new wait
  EXPECT_EQ(pool.waited(), 3u);
  EXPECT_EQ(pool.queued(), 2u);
  pool.Run([&](SimMicros t) { started.push_back(t); });
  EXPECT_EQ(pool.waited(), 4u);
}

TEST(WorkThreads, TurnaroundIsTheAverageSinceTheLastReport) {
  FakeClock clock;
  WorkThreads pool(clock, 4);
  EXPECT_EQ(pool.TakeTurnaround(), 0.0);
  std::vector<SimMicros> started;
  pool.Run([&](SimMicros t) { started.push_back(t); });
  pool.Run([&](SimMicros t) { started.push_back(t); });
  clock.Advance(kSimSecond);
  pool.Release(started[0]);
  clock.Advance(2 * kSimSecond);
  pool.Release(started[1]);
  EXPECT_DOUBLE_EQ(pool.TakeTurnaround(), 2.0);  // (1 s + 3 s) / 2
  EXPECT_EQ(pool.TakeTurnaround(), 0.0);         // counted anew
}

}  // namespace
}  // namespace its::agate
