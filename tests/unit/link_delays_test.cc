// The run directory's link-delays.toml (common/link_delays.h) and how an
// agate takes delays from it and from the launcher's calls
// (agate/link_delay_watch.h).
#include "common/link_delays.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "agate/link_delay_watch.h"
#include "common/line_config.h"
#include "common/strings.h"

namespace its {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class LinkDelaysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = Cat(::testing::TempDir(), "/link_delays_test_", getpid());
    std::filesystem::create_directories(dir_);
    path_ = LinkDelaysPath(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void WriteText(const std::string& text) {
    std::ofstream(path_, std::ios::trunc) << text;
  }
  std::string dir_, path_;
};

TEST_F(LinkDelaysTest, WhatIsWrittenIsReadBack) {
  LinkDelays d;
  d.generation = 7;
  d.r3_delay_s = {{"IT1", 0.3}, {"IT2", 600}};
  ASSERT_TRUE(WriteLinkDelays(path_, d).ok());
  // As people would write it.
  auto text = ReadFile(path_);
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("\n\"IT1\" = 0.3\n\"IT2\" = 600.0\n"));
  auto back = ReadLinkDelays(path_);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->generation, 7u);
  EXPECT_EQ(back->r3_delay_s, d.r3_delay_s);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
}

TEST_F(LinkDelaysTest, NoFileIsNoDelay) {
  auto d = ReadLinkDelays(path_);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->generation, 0u);
  EXPECT_TRUE(d->r3_delay_s.empty());
}

TEST_F(LinkDelaysTest, ABrokenFileIsAnErrorNamingFileLineAndKey) {
  WriteText("generation = 2\n[r3_delay_s]\nIT1 = 601\n");
  auto d = ReadLinkDelays(path_);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(),
              HasSubstr(Cat(path_, ":3: r3_delay_s.IT1: expected seconds")));
  WriteText("generation = -1\n");
  EXPECT_THAT(ReadLinkDelays(path_).status().message(),
              HasSubstr(":1: generation: expected an integer"));
  WriteText("generation = 1\ndelay = 2\n");
  EXPECT_THAT(ReadLinkDelays(path_).status().message(),
              HasSubstr(":2: delay: unknown setting"));
  WriteText("r3_delay_s = 2\n");
  EXPECT_THAT(ReadLinkDelays(path_).status().message(),
              HasSubstr(":1: r3_delay_s: expected a table"));
  WriteText("generation = \n");
  EXPECT_THAT(ReadLinkDelays(path_).status().message(),
              HasSubstr(Cat(path_, ":1")));
}

TEST_F(LinkDelaysTest, AnAgateTakesOnlyNewerDelaysWhicheverWayTheyCome) {
  std::vector<double> applied;
  agate::LinkDelayWatch watch(path_, "IT2",
                              [&](double s) { applied.push_back(s); });
  watch.Poll();         // no file yet
  watch.Offer(0.5, 3);  // the launcher's call
  // The file of the same change, read after the call: nothing new.
  ASSERT_TRUE(WriteLinkDelays(path_, {3, {{"IT2", 0.5}}}).ok());
  watch.Poll();
  // The call of an older change arriving late changes nothing.
  watch.Offer(0, 2);
  // A newer change in the file (the agate missed the call).
  ASSERT_TRUE(WriteLinkDelays(path_, {4, {{"IT1", 9}, {"IT2", 1.25}}}).ok());
  watch.Poll();
  watch.Poll();  // unchanged file: not applied twice
  // Cleared for IT2 (its entry gone), kept for IT1.
  ASSERT_TRUE(WriteLinkDelays(path_, {5, {{"IT1", 9}}}).ok());
  watch.Poll();
  EXPECT_THAT(applied, ElementsAre(0.5, 1.25, 0.0));
}

TEST_F(LinkDelaysTest, AnAgateStartedAfterADelayTakesItFromTheFile) {
  ASSERT_TRUE(WriteLinkDelays(path_, {1, {{"IT1", 2}}}).ok());
  std::vector<double> applied;
  agate::LinkDelayWatch watch(path_, "IT1",
                              [&](double s) { applied.push_back(s); });
  watch.Poll();
  EXPECT_THAT(applied, ElementsAre(2.0));
  // A broken file leaves the delay as it was.
  WriteText("generation = 9\n[r3_delay_s]\nIT1 = \"x\"\n");
  watch.Poll();
  EXPECT_THAT(applied, ElementsAre(2.0));
}

}  // namespace
}  // namespace its
