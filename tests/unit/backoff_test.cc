#include "clients/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace its::load {
namespace {

// unit = 0 takes nothing off: the delay is the ceiling itself.
TEST(Backoff, DoublesFromInitialUpToTheCap) {
  Backoff b;  // 50 ms, x2, capped at 2 s
  std::vector<double> got;
  for (int i = 0; i < 9; ++i) got.push_back(b.Failed(0));
  EXPECT_EQ(got, (std::vector<double>{50, 100, 200, 400, 800, 1600, 2000, 2000,
                                      2000}));
  EXPECT_EQ(b.failures(), 9);
}

TEST(Backoff, JitterOnlyShortensAndStaysWithinItsFraction) {
  Backoff b(Backoff::Policy{
      .initial_ms = 100, .max_ms = 1000, .multiplier = 2, .jitter = 0.5});
  for (int n = 1; n <= 12; ++n) {
    double ceiling = std::min(1000.0, 100.0 * (1 << (n - 1)));
    for (double unit : {0.0, 0.25, 0.5, 0.999999}) {
      double d = b.DelayMs(n, unit);
      EXPECT_LE(d, ceiling) << n << " " << unit;
      EXPECT_GE(d, ceiling / 2) << n << " " << unit;
    }
    EXPECT_DOUBLE_EQ(b.DelayMs(n, 0.5), ceiling * 0.75);
  }
  // Two users that failed together come back at different times.
  EXPECT_NE(b.DelayMs(3, 0.1), b.DelayMs(3, 0.9));
}

TEST(Backoff, ASuccessStartsOver) {
  Backoff b;
  for (int i = 0; i < 4; ++i) b.Failed(0);  // 50, 100, 200, 400
  EXPECT_EQ(b.Failed(0), 800);
  b.Succeeded();
  EXPECT_EQ(b.failures(), 0);
  EXPECT_EQ(b.Failed(0), 50);
  EXPECT_EQ(b.Failed(0), 100);
}

TEST(Backoff, PureInItsArguments) {
  Backoff b;
  EXPECT_EQ(b.DelayMs(0, 0), 0);  // no failure, no wait
  EXPECT_EQ(b.DelayMs(4, 0.3), b.DelayMs(4, 0.3));
  b.Failed(0);
  EXPECT_EQ(b.DelayMs(4, 0.3), Backoff().DelayMs(4, 0.3));  // state ignored
}

TEST(Backoff, EndlessFailuresStayAtTheCap) {
  Backoff b;
  double d = 0;
  for (int i = 0; i < 100000; ++i) d = b.Failed(0);
  EXPECT_EQ(d, 2000);
  EXPECT_EQ(b.DelayMs(1 << 30, 0), 2000);
  Backoff steep(Backoff::Policy{.multiplier = 1e6});
  EXPECT_EQ(steep.DelayMs(1000, 0), 2000);  // the power overflows to inf
}

TEST(Backoff, NonsensePoliciesAreMadeSane) {
  Backoff b(Backoff::Policy{
      .initial_ms = -5, .max_ms = -1, .multiplier = 0.5, .jitter = 3});
  EXPECT_EQ(b.policy().initial_ms, 0);
  EXPECT_EQ(b.policy().max_ms, 0);
  EXPECT_EQ(b.policy().multiplier, 1);
  EXPECT_EQ(b.policy().jitter, 1);
  Backoff cap_below_start(Backoff::Policy{.initial_ms = 500, .max_ms = 100});
  EXPECT_EQ(cap_below_start.DelayMs(1, 0), 500);  // the cap is raised
  Backoff no_jitter(Backoff::Policy{.jitter = 0});
  EXPECT_EQ(no_jitter.DelayMs(2, 0.99), 100);
  EXPECT_EQ(Backoff().DelayMs(1, 7), 25);  // unit clamped to [0, 1]
}

}  // namespace
}  // namespace its::load
