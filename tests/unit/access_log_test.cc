// The lines an agate writes to its instance's access.log: fake time, a file
// in the test's temporary directory.
#include "agate/access_log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/clock.h"

namespace its::agate {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class AccessLogWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "access_log_test_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() +
            ".log";
    std::remove(path_.c_str());
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

// 2024/03/01 12:34:56.789 UTC.
constexpr SimMicros kT = 1709296496 * kSimSecond + 789'000;

TEST_F(AccessLogWriterTest, WritesTypeTimeInstanceRequestNumberIpAndText) {
  FakeClock clock(kT);
  AccessLogWriter log(clock, "IT1", 3);
  std::string error;
  ASSERT_TRUE(log.Open(path_, &error)) << error;
  log.Write('n', "10.0.0.1", "IT1-A:h:0003.01000001 new session of DEMO");
  clock.Advance(12'000);  // same second, 801 ms
  log.Write('r', "", "IT1-A:h:0003.01000001 ~okcode=/00");
  clock.Advance(kSimSecond);  // next second: the time is formatted anew
  log.Write('o', "-", "IT1-A:h:0003.01000001 session ended: timeout");
  EXPECT_EQ(ReadFile(path_), "") << "buffered until Flush";
  log.Flush();
  EXPECT_EQ(ReadFile(path_),
            "n 2024/03/01 12:34:56.789 IT1 3:1 10.0.0.1 "
            "IT1-A:h:0003.01000001 new session of DEMO\n"
            "r 2024/03/01 12:34:56.801 IT1 3:2 - "
            "IT1-A:h:0003.01000001 ~okcode=/00\n"
            "o 2024/03/01 12:34:57.801 IT1 3:3 - "
            "IT1-A:h:0003.01000001 session ended: timeout\n");
}

TEST_F(AccessLogWriterTest, MillisecondsKeepTheirLeadingZeros) {
  FakeClock clock(1709296496 * kSimSecond + 7'000);
  AccessLogWriter log(clock, "IT2", 0);
  std::string error;
  ASSERT_TRUE(log.Open(path_, &error)) << error;
  log.Write('a', "::1", "x");
  log.Flush();
  EXPECT_EQ(ReadFile(path_), "a 2024/03/01 12:34:56.007 IT2 0:1 ::1 x\n");
}

TEST_F(AccessLogWriterTest, WithoutAFileNothingIsWrittenOrCounted) {
  FakeClock clock(kT);
  AccessLogWriter log(clock, "IT1", 0);
  log.Write('n', "1.2.3.4", "not written");  // no Open: the log is off
  log.Flush();
  std::string error;
  ASSERT_TRUE(log.Open(path_, &error)) << error;
  log.Write('n', "1.2.3.4", "first");
  log.Flush();
  EXPECT_EQ(ReadFile(path_),
            "n 2024/03/01 12:34:56.789 IT1 0:1 1.2.3.4 first\n");
}

}  // namespace
}  // namespace its::agate
