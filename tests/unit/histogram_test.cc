#include "clients/histogram.h"

#include <gtest/gtest.h>

#include <random>

#include "clients/scenario.h"

namespace its::load {
namespace {

TEST(Histogram, ExactBelow128AndWithinOnePercentAbove) {
  Histogram h;
  for (int v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(50), 50);
  EXPECT_EQ(h.Percentile(99), 99);
  EXPECT_EQ(h.Percentile(100), 100);
  EXPECT_EQ(h.count(), 100u);
  Histogram big;
  std::mt19937_64 rng(7);
  std::vector<int64_t> values;
  for (int i = 0; i < 100000; ++i) {
    int64_t v = static_cast<int64_t>(
        std::exp(std::uniform_real_distribution<double>(0, 20)(rng)));
    values.push_back(v);
    big.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    int64_t exact =
        values[static_cast<size_t>(std::ceil(p / 100 * values.size())) - 1];
    int64_t got = big.Percentile(p);
    EXPECT_GE(got, exact) << p;
    EXPECT_LE(static_cast<double>(got - exact), exact / 128.0 + 1) << p;
  }
  EXPECT_EQ(big.max(), values.back());
}

TEST(Histogram, MergeAddsCountsAndExtremes) {
  Histogram a, b;
  a.Record(10);
  b.Record(5000);
  b.Record(20);
  a.Merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.max(), 5000);
  EXPECT_EQ(a.min(), 10);
  EXPECT_EQ(Histogram().Percentile(99), 0);
}

TEST(Scenario, ShippedScenariosParse) {
  for (const char* f :
       {"display.toml", "ess.toml", "ess-data.toml", "mixed.toml"}) {
    auto s =
        Scenario::Load(std::string(ITS_SOURCE_DIR) + "/deploy/scenarios/" + f);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_FALSE(s->journeys.empty());
  }
  auto mixed = Scenario::Load(std::string(ITS_SOURCE_DIR) +
                              "/deploy/scenarios/mixed.toml");
  EXPECT_EQ(mixed->journeys[2].end, JourneyDef::kCloseTab);
  EXPECT_EQ(mixed->journeys[0].steps[1].repeat, 3);
}

TEST(Think, Distributions) {
  std::mt19937_64 rng(1);
  Think c{Think::kConstant, 250, 0};
  EXPECT_EQ(c.Sample(rng), 250);
  Think u{
      Think::kUniform,
      100,
      200,
  };
  Think e{Think::kExponential, 1000, 0};
  double sum = 0;
  for (int i = 0; i < 20000; ++i) {
    double v = u.Sample(rng);
    EXPECT_GE(v, 100);
    EXPECT_LE(v, 200);
    sum += e.Sample(rng);
  }
  EXPECT_NEAR(sum / 20000, 1000, 50);
}

}  // namespace
}  // namespace its::load
