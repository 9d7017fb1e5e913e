#include <gtest/gtest.h>

#include "common/byte_block.h"
#include "common/log.h"

namespace its {
namespace {

using std::chrono::milliseconds;

TEST(LogBudget, AtMostSoManyLinesASecondAndTheRestCountedOnce) {
  LogBudget budget(3);
  const LogBudget::Time t0{std::chrono::hours(1)};
  int64_t left_out = -1;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(budget.Take(t0 + milliseconds(i), &left_out));
    EXPECT_EQ(left_out, 0);
  }
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(budget.Take(t0 + milliseconds(500 + i), &left_out));
    EXPECT_EQ(left_out, 0);
  }
  // The next second: its first line comes with the count, once.
  EXPECT_TRUE(budget.Take(t0 + milliseconds(1000), &left_out));
  EXPECT_EQ(left_out, 5);
  EXPECT_TRUE(budget.Take(t0 + milliseconds(1001), &left_out));
  EXPECT_EQ(left_out, 0);
  // A quiet spell: nothing left out, nothing to report.
  EXPECT_TRUE(budget.Take(t0 + std::chrono::seconds(60), &left_out));
  EXPECT_EQ(left_out, 0);
}

TEST(LogBudget, ATimerReportsWhatNoLaterLineCarries) {
  LogBudget budget(1);
  const LogBudget::Time t0{std::chrono::hours(1)};
  int64_t left_out = 0;
  EXPECT_TRUE(budget.Take(t0, &left_out));
  EXPECT_FALSE(budget.Take(t0 + milliseconds(10), &left_out));
  EXPECT_FALSE(budget.Take(t0 + milliseconds(20), &left_out));
  EXPECT_EQ(budget.LeftOut(t0 + milliseconds(900)), 0);  // the second goes on
  EXPECT_EQ(budget.LeftOut(t0 + milliseconds(1000)), 2);
  EXPECT_EQ(budget.LeftOut(t0 + milliseconds(2000)), 0);  // reported once
  EXPECT_TRUE(budget.Take(t0 + milliseconds(3000), &left_out));
  EXPECT_EQ(left_out, 0);
}

TEST(ByteBlock, HoldsItsBytesAndCopiesThem) {
  ByteBlock empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.view(), "");
  ByteBlock none(std::string_view{});
  EXPECT_TRUE(none.empty());
  ByteBlock a(std::string_view("abc\0def", 7));
  EXPECT_EQ(a.size(), 7u);
  EXPECT_EQ(a.view(), std::string_view("abc\0def", 7));
  ByteBlock b = a;
  b.data()[0] = 'X';
  EXPECT_EQ(a.view()[0], 'a');
  EXPECT_EQ(b.view()[0], 'X');
  a = b;
  EXPECT_EQ(a.view()[0], 'X');
  ByteBlock c = std::move(a);
  EXPECT_EQ(c.size(), 7u);
  c = empty;
  EXPECT_TRUE(c.empty());
}

}  // namespace
}  // namespace its
