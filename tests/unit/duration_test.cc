#include "common/duration.h"

#include <gtest/gtest.h>

namespace its {
namespace {

TEST(DurationTest, UnitsAsTestersTypeThem) {
  EXPECT_EQ(ParseDuration("500ms"), 0.5);
  EXPECT_EQ(ParseDuration("2300ms"), 2.3);  // printed as 2.3, not 2.30...03
  EXPECT_EQ(ParseDuration("30s"), 30);
  EXPECT_EQ(ParseDuration("2m"), 120);
  EXPECT_EQ(ParseDuration("1.5h"), 5400);
  EXPECT_EQ(ParseDuration("0s"), 0);
}

TEST(DurationTest, APlainNumberKeepsTheOptionsOwnUnit) {
  EXPECT_EQ(ParseDuration("60"), 60);
  EXPECT_EQ(ParseDuration("250", 0.001), 0.25);  // --think: milliseconds
  EXPECT_EQ(ParseDuration("2s", 0.001), 2) << "a unit wins";
}

TEST(DurationTest, WhatIsNotADuration) {
  for (const char* bad :
       {"", "s", "ms", "-1s", "1x", "1 s", "1sec", "abc", "1e", "nan"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace its
