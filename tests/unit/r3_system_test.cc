#include "r3_stub/r3_system.h"

#include <gtest/gtest.h>

#include "common/service_file.h"

namespace its::r3 {
namespace {

class R3SystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = std::string(ITS_SOURCE_DIR) + "/deploy/config/r3";
    auto data = MasterData::Load(dir);
    ASSERT_TRUE(data.ok()) << data.status();
    auto profile = Profile::Parse("rdisp/tm_max_no = 3\n", "DEFAULT.PFL");
    ASSERT_TRUE(profile.ok());
    system_ = std::make_unique<R3System>(std::move(*data), std::move(*profile), clock_);
  }

  proto::R3Response Logon(const std::string& user, const std::string& tcode,
                          const std::string& password = "welcome") {
    proto::R3Logon req;
    req.set_client("100");
    req.set_user(user);
    req.set_password(password);
    req.set_tcode(tcode);
    req.set_terminal("IT1/0000");
    int ms;
    return system_->Logon(req, &ms);
  }
  proto::R3Response Step(uint64_t session, const std::string& ok,
                         std::map<std::string, std::string> fields = {}) {
    proto::R3Step req;
    req.set_session(session);
    req.set_okcode(ok);
    for (auto& [k, v] : fields) (*req.mutable_fields())[k] = v;
    int ms;
    return system_->Step(req, &ms);
  }
  void Logoff(uint64_t session) {
    proto::R3Logoff req;
    req.set_session(session);
    system_->Logoff(req);
  }

  FakeClock clock_{1000 * kSimSecond};
  std::unique_ptr<R3System> system_;
};

TEST_F(R3SystemTest, LogonChecksPasswordAndGeneratedUsers) {
  EXPECT_EQ(Logon("DEMO", "FB03", "wrong").code(), proto::R3Response::BAD_LOGON);
  EXPECT_EQ(Logon("NOBODY", "FB03").code(), proto::R3Response::BAD_LOGON);
  EXPECT_EQ(Logon("LOAD10001", "FB03").code(), proto::R3Response::BAD_LOGON);
  auto r = Logon("load00042", "FB03");
  ASSERT_EQ(r.code(), proto::R3Response::OK) << r.error();
  EXPECT_EQ(r.screen().tcode(), "FB03");
  EXPECT_EQ(r.screen().dynpro(), 100);
  EXPECT_EQ(system_->UserSessions().rows(0).user(), "LOAD00042");
  EXPECT_EQ(Logon("DEMO", "XX99").code(), proto::R3Response::REFUSED);
}

TEST_F(R3SystemTest, TmMaxNoCapsLoggedOnUsers) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Logon("DEMO", "FB03").code(), proto::R3Response::OK);
  auto r = Logon("DEMO2", "FB03");
  EXPECT_EQ(r.code(), proto::R3Response::REFUSED);
  EXPECT_NE(r.error().find("rdisp/tm_max_no"), std::string::npos);
}

TEST_F(R3SystemTest, Fb03ShowsDocument) {
  uint64_t s = Logon("DEMO", "FB03").session();
  auto missing = Step(s, "/00");
  EXPECT_EQ(missing.screen().dynpro(), 100);
  EXPECT_EQ(missing.screen().message_type(), "E");
  auto shown = Step(s, "/00", {{"rf05l-belnr", "4711"}});
  EXPECT_EQ(shown.screen().dynpro(), 700);
  EXPECT_EQ(shown.screen().fields(0).value(), "4711");
  EXPECT_EQ(shown.screen().fields(1).value(), "1000");
  EXPECT_EQ(Step(s, "/00").screen().dynpro(), 700);
}

TEST_F(R3SystemTest, Pa30LockConflictSaveAndRelease) {
  uint64_t a = Logon("DEMO", "PA30").session();
  uint64_t b = Logon("DEMO2", "PA30").session();
  auto opened = Step(a, "/00", {{"RP50G-PERNR", "1234"}});
  ASSERT_EQ(opened.screen().dynpro(), 2000);
  auto locks = system_->Locks();
  ASSERT_EQ(locks.rows_size(), 1);
  EXPECT_EQ(locks.rows(0).table(), "PA0006");
  EXPECT_EQ(locks.rows(0).argument(), "1001234");
  EXPECT_EQ(locks.rows(0).mode(), "E");
  EXPECT_EQ(locks.rows(0).user(), "DEMO");

  auto refused = Step(b, "/00", {{"RP50G-PERNR", "1234"}});
  EXPECT_EQ(refused.screen().dynpro(), 1000);
  EXPECT_EQ(refused.screen().message(), "Personnel number 1234 is locked by user DEMO");

  auto saved = Step(a, "UPD", {{"P0006-STRAS", "Main Street 1"}});
  EXPECT_EQ(saved.screen().dynpro(), 1000);
  EXPECT_EQ(saved.screen().message(), "Record saved");
  EXPECT_EQ(system_->Locks().rows_size(), 0);

  auto reopened = Step(b, "/00", {{"RP50G-PERNR", "1234"}});
  ASSERT_EQ(reopened.screen().dynpro(), 2000);
  EXPECT_EQ(reopened.screen().fields(1).value(), "Main Street 1");
  EXPECT_EQ(system_->Locks().rows(0).user(), "DEMO2");
}

TEST_F(R3SystemTest, LogoffAndTransactionSwitchReleaseLocks) {
  uint64_t a = Logon("DEMO", "PA30").session();
  Step(a, "/00", {{"RP50G-PERNR", "1"}});
  EXPECT_EQ(system_->Locks().rows_size(), 1);
  auto switched = Step(a, "/nFB03");
  EXPECT_EQ(switched.screen().tcode(), "FB03");
  EXPECT_EQ(system_->Locks().rows_size(), 0);
  Step(a, "/nPA30");
  Step(a, "/00", {{"RP50G-PERNR", "1"}});
  EXPECT_EQ(system_->Locks().rows_size(), 1);
  Logoff(a);
  EXPECT_EQ(system_->Locks().rows_size(), 0);
  EXPECT_EQ(system_->session_count(), 0u);
  EXPECT_EQ(Step(a, "/00").code(), proto::R3Response::SESSION_GONE);
}

TEST_F(R3SystemTest, Sm04ListsLastStepTime) {
  uint64_t a = Logon("DEMO", "SM04").session();
  clock_.Advance(65 * kSimSecond);
  auto list = Step(a, "/00");
  ASSERT_EQ(list.screen().table().rows_size(), 1);
  EXPECT_EQ(list.screen().table().rows(0).cells(1), "DEMO");
  EXPECT_EQ(system_->UserSessions().rows(0).last_step(), FormatTimeOfDay(1065 * kSimSecond));
}

TEST(MasterData, ErrorsNameFileLineAndKey) {
  auto bad = MasterData::Parse("[[user]]\nclient = \"100\"\nname = 5\n", "users.toml", "", "tx.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "users.toml:3: user[0].name: expected a string");
  auto tx = MasterData::Parse("", "users.toml",
                              "[[transaction]]\ncode = \"X\"\ntitle = \"t\"\nstart = 5\n", "tx.toml");
  ASSERT_FALSE(tx.ok());
  EXPECT_EQ(tx.status().message(), "tx.toml:4: transaction[0].start: no screen with this number");
}

}  // namespace
}  // namespace its::r3
