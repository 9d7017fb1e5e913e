#include "common/service_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/profile.h"

namespace its {
namespace {

TEST(ServiceFile, ParsesParametersAndComments) {
  auto p = ParseServiceFile(
      "# ESS\n~transaction  PA30\n\n~TIMEOUT 15 # minutes\n~exitURL /bye\n",
      "ess.srvc");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->GetOr("~transaction", ""), "PA30");
  EXPECT_EQ(p->GetOr("~timeout", ""), "15");
  EXPECT_EQ(p->GetOr("~exiturl", ""), "/bye");
}

TEST(ServiceFile, ErrorNamesFileLineAndKey) {
  auto p =
      ParseServiceFile("~timeout 5\n~userTimeout soon\n", "services/x.srvc");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "services/x.srvc:2: ~userTimeout: expected a whole number >= 0, "
            "got 'soon'");
  auto q = ParseServiceFile("timeout 5\n", "y.srvc");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("y.srvc:1:"), std::string::npos);
  // A deep link or a routing every start would refuse: refused at load.
  auto tx = ParseServiceFile("~timeout 5\n~transaction *FB03 RF05L-BELNR\n",
                             "w.srvc");
  ASSERT_FALSE(tx.ok());
  EXPECT_EQ(tx.status().message().rfind("w.srvc:2: ~transaction: ", 0), 0u)
      << tx.status().message();
  auto routing = ParseServiceFile("~agate_routing IT1:x\n", "r.srvc");
  ASSERT_FALSE(routing.ok());
  EXPECT_EQ(routing.status().message().rfind("r.srvc:1: ~agate_routing: ", 0),
            0u)
      << routing.status().message();
  EXPECT_TRUE(ParseServiceFile("~transaction *FB03 RF05L-BELNR=1\n"
                               "~agate_routing IT2:1\n",
                               "ok.srvc")
                  .ok());
}

TEST(ServiceCatalog, ServiceOverridesGlobal) {
  auto dir = std::filesystem::temp_directory_path() /
             ("svc_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "global.srvc") << "~timeout 10\n~client 100\n";
  std::ofstream(dir / "ess.srvc") << "~timeout 15\n~transaction PA30\n";
  auto c = ServiceCatalog::Load(dir.string());
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(c.ok()) << c.status();
  const Params* ess = c->Find("ESS");
  ASSERT_NE(ess, nullptr);
  EXPECT_EQ(ess->GetOr("~timeout", ""), "15");
  EXPECT_EQ(ess->GetOr("~client", ""), "100");
  EXPECT_EQ(c->Find("global"), nullptr);
  EXPECT_EQ(c->Find("nope"), nullptr);
}

TEST(ServiceName, AtMost14Characters) {
  EXPECT_TRUE(IsValidServiceName("webgui"));
  EXPECT_TRUE(IsValidServiceName("abcdefghijklmn"));
  EXPECT_FALSE(IsValidServiceName("abcdefghijklmno"));
  EXPECT_FALSE(IsValidServiceName("../etc"));
  EXPECT_FALSE(IsValidServiceName(""));
}

TEST(Profile, ParsesAndValidatesIntegers) {
  auto p = Profile::Parse(
      "# comment\nrdisp/max_alt_modes = 6\nrdisp/gui_auto_logout=x\n",
      "DEFAULT.PFL");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p->GetInt("rdisp/max_alt_modes", 6, 2, 16), 6);
  EXPECT_EQ(*p->GetInt("rdisp/tm_max_no", 200, 1, 100000), 200);
  auto bad = p->GetInt("rdisp/gui_auto_logout", 0, 0, 100000);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("DEFAULT.PFL:3: rdisp/gui_auto_logout"),
            std::string::npos);
  EXPECT_FALSE(Profile::Parse("no equals sign\n", "P").ok());
}

}  // namespace
}  // namespace its
