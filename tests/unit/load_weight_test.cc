#include "common/load_weight.h"

#include <gtest/gtest.h>

namespace its {
namespace {

TEST(LoadWeight, IdleIsOne) {
  EXPECT_DOUBLE_EQ(LoadWeight({0, 64, 0, 4, 0}), 1.0);
}

TEST(LoadWeight, FallsWithSessionsThreadsAndTurnaround) {
  EXPECT_DOUBLE_EQ(LoadWeight({32, 64, 0, 4, 0}), 0.5);
  EXPECT_DOUBLE_EQ(LoadWeight({32, 64, 2, 4, 0}), 0.25);
  EXPECT_DOUBLE_EQ(LoadWeight({32, 64, 2, 4, 1.0}), 0.125);
  EXPECT_DOUBLE_EQ(LoadWeight({64, 64, 0, 4, 0}), 0.0);
  EXPECT_DOUBLE_EQ(LoadWeight({70, 64, 5, 4, 0}), 0.0);  // never negative
}

}  // namespace
}  // namespace its
