#include "r3_stub/r3_system.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/service_file.h"

namespace its::r3 {
namespace {

class R3SystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = std::string(ITS_SOURCE_DIR) + "/deploy/config/r3";
    auto data = MasterData::Load(dir);
    ASSERT_TRUE(data.ok()) << data.status();
    auto profile = Profile::Parse(profile_text_, "DEFAULT.PFL");
    ASSERT_TRUE(profile.ok());
    auto timeouts = TimeoutSettings::Load(*profile, sicf_text_, "sicf.toml");
    ASSERT_TRUE(timeouts.ok()) << timeouts.status();
    system_ = std::make_unique<R3System>(std::move(*data), std::move(*profile),
                                         std::move(*timeouts), clock_);
  }

  proto::R3Response Logon(const std::string& user, const std::string& tcode,
                          const std::string& password = "welcome",
                          std::map<std::string, std::string> fields = {},
                          const std::string& okcode = "") {
    proto::R3Logon req;
    req.set_client("100");
    req.set_user(user);
    req.set_password(password);
    req.set_tcode(tcode);
    req.set_terminal("IT1/0000");
    for (auto& [k, v] : fields) (*req.mutable_fields())[k] = v;
    req.set_okcode(okcode);
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
  std::string profile_text_ = "rdisp/tm_max_no = 3\n";
  std::string sicf_text_;
  std::unique_ptr<R3System> system_;
};

TEST_F(R3SystemTest, LogonChecksPasswordAndGeneratedUsers) {
  EXPECT_EQ(Logon("DEMO", "FB03", "wrong").code(),
            proto::R3Response::BAD_LOGON);
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
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(Logon("DEMO", "FB03").code(), proto::R3Response::OK);
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

TEST_F(R3SystemTest, TransactionCallFillsAndExecutesTheFirstScreen) {
  std::map<std::string, std::string> doc = {{"RF05L-BELNR", "4711"},
                                            {"RF05L-BUKRS", "2000"},
                                            {"RF05L-GJAHR", "2023"}};
  // Filled only: the first screen with the values, nothing executed.
  auto filled = Logon("DEMO", "FB03", "welcome", doc);
  ASSERT_EQ(filled.code(), proto::R3Response::OK);
  EXPECT_EQ(filled.screen().dynpro(), 100);
  EXPECT_EQ(filled.screen().fields(0).value(), "4711");
  EXPECT_EQ(filled.screen().fields(1).value(), "2000");
  EXPECT_EQ(filled.screen().message(), "");
  // Executed: the document display with those values.
  auto shown = Logon("DEMO", "FB03", "welcome", doc, "/00");
  ASSERT_EQ(shown.code(), proto::R3Response::OK);
  EXPECT_EQ(shown.screen().dynpro(), 700);
  EXPECT_EQ(shown.screen().fields(0).value(), "4711");
  EXPECT_EQ(shown.screen().fields(1).value(), "2000");
  EXPECT_EQ(shown.screen().fields(2).value(), "2023");
  // Executed without a required field: the session starts on the first
  // screen with R/3's message, as after Enter.
  auto missing = Logon("DEMO2", "FB03", "welcome", {}, "/00");
  ASSERT_EQ(missing.code(), proto::R3Response::OK);
  EXPECT_EQ(missing.screen().dynpro(), 100);
  EXPECT_EQ(missing.screen().message(), "Fill in all required entry fields");
  EXPECT_EQ(system_->session_count(), 3u);
}

TEST_F(R3SystemTest, TransactionCallWithAnUnknownFieldStartsNothing) {
  auto r = Logon("DEMO", "FB03", "welcome",
                 {{"RF05L-BELNR", "1"}, {"RF05L-XBLNR", "2"}}, "/00");
  EXPECT_EQ(r.code(), proto::R3Response::BAD_CALL);
  EXPECT_EQ(r.error(),
            "Field RF05L-XBLNR does not exist on the first screen of FB03 "
            "(screen 100)");
  EXPECT_EQ(r.session(), 0u);
  // An output field of a later screen is no input of the first one.
  EXPECT_EQ(Logon("DEMO", "FB03", "welcome", {{"BKPF-BLART", "SA"}}).code(),
            proto::R3Response::BAD_CALL);
  EXPECT_EQ(Logon("DEMO", "SM04", "welcome", {{"X", "1"}}).code(),
            proto::R3Response::BAD_CALL);
  // Nothing leaked: no user session, no security session.
  EXPECT_EQ(system_->session_count(), 0u);
  EXPECT_EQ(system_->UserSessions().rows_size(), 0);
  EXPECT_EQ(system_->SecuritySessions().rows_size(), 0);
  // A wrong password is still a wrong password.
  EXPECT_EQ(Logon("DEMO", "FB03", "bad", {{"X", "1"}}).code(),
            proto::R3Response::BAD_LOGON);
}

TEST_F(R3SystemTest, TransactionCallLocksLikeADialogStep) {
  auto a = Logon("DEMO", "PA30", "welcome", {{"RP50G-PERNR", "1234"}}, "/00");
  ASSERT_EQ(a.code(), proto::R3Response::OK);
  EXPECT_EQ(a.screen().dynpro(), 2000);
  EXPECT_EQ(system_->Locks().rows_size(), 1);
  auto b = Logon("DEMO2", "PA30", "welcome", {{"RP50G-PERNR", "1234"}}, "/00");
  ASSERT_EQ(b.code(), proto::R3Response::OK);
  EXPECT_EQ(b.screen().dynpro(), 1000);
  EXPECT_EQ(b.screen().message(),
            "Personnel number 1234 is locked by user DEMO");
  Logoff(a.session());
  EXPECT_EQ(system_->Locks().rows_size(), 0);
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
  EXPECT_EQ(refused.screen().message(),
            "Personnel number 1234 is locked by user DEMO");

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

TEST_F(R3SystemTest, SlashNAloneEndsTheTransactionAtTheEasyAccessMenu) {
  uint64_t a = Logon("DEMO", "PA30").session();
  Step(a, "/00", {{"RP50G-PERNR", "1"}});
  ASSERT_EQ(system_->Locks().rows_size(), 1);
  auto menu = Step(a, "/n");
  EXPECT_EQ(menu.screen().tcode(), "SESSION_MANAGER");
  EXPECT_EQ(menu.screen().title(), "SAP Easy Access");
  EXPECT_EQ(system_->Locks().rows_size(), 0);
  EXPECT_EQ(system_->UserSessions().rows(0).tcode(), "SESSION_MANAGER");
  // A button per transaction but the menu itself, each a "/n<code>".
  std::vector<std::string> okcodes;
  for (const auto& b : menu.screen().buttons()) okcodes.push_back(b.okcode());
  EXPECT_NE(std::find(okcodes.begin(), okcodes.end(), "/nFB03"), okcodes.end());
  EXPECT_NE(std::find(okcodes.begin(), okcodes.end(), "/nPA30"), okcodes.end());
  EXPECT_EQ(std::find(okcodes.begin(), okcodes.end(), "/nSESSION_MANAGER"),
            okcodes.end());
  // Enter refreshes; a code in the command field starts its transaction.
  EXPECT_EQ(Step(a, "/00").screen().tcode(), "SESSION_MANAGER");
  auto bad = Step(a, "XX99");
  EXPECT_EQ(bad.screen().tcode(), "SESSION_MANAGER");
  EXPECT_EQ(bad.screen().message(), "Transaction XX99 does not exist");
  EXPECT_EQ(bad.screen().message_type(), "E");
  EXPECT_EQ(Step(a, "fb03").screen().tcode(), "FB03");
  EXPECT_EQ(Step(a, "/n").screen().tcode(), "SESSION_MANAGER");
  EXPECT_EQ(Step(a, "/nPA30").screen().tcode(), "PA30");
}

TEST(R3MasterData, WithoutAMenuSlashNAloneRestartsTheTransaction) {
  const std::string users =
      "[[user]]\nclient = \"100\"\nname = \"DEMO\"\npassword = \"welcome\"\n";
  const std::string txs =
      "[[transaction]]\ncode = \"SM12\"\ntitle = \"Locks\"\n"
      "builtin = \"sm12\"\nstart = 100\n";
  auto data = MasterData::Parse(users, "users.toml", txs, "transactions.toml");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->Menu(), nullptr);
  auto profile = Profile::Parse("", "DEFAULT.PFL");
  ASSERT_TRUE(profile.ok());
  auto timeouts = TimeoutSettings::Load(*profile, "", "sicf.toml");
  ASSERT_TRUE(timeouts.ok());
  FakeClock clock{1000 * kSimSecond};
  R3System system(std::move(*data), std::move(*profile), std::move(*timeouts),
                  clock);
  proto::R3Logon logon;
  logon.set_client("100");
  logon.set_user("DEMO");
  logon.set_password("welcome");
  logon.set_tcode("SM12");
  logon.set_terminal("IT1/0000");
  int ms;
  auto r = system.Logon(logon, &ms);
  ASSERT_EQ(r.code(), proto::R3Response::OK) << r.error();
  proto::R3Step step;
  step.set_session(r.session());
  step.set_okcode("/n");
  EXPECT_EQ(system.Step(step, &ms).screen().tcode(), "SM12");
}

TEST(R3MasterData, OneMenuAtMost) {
  const std::string users =
      "[[user]]\nclient = \"100\"\nname = \"DEMO\"\npassword = \"welcome\"\n";
  const std::string txs =
      "[[transaction]]\ncode = \"M1\"\ntitle = \"A\"\nbuiltin = \"menu\"\n"
      "start = 100\n"
      "[[transaction]]\ncode = \"M2\"\ntitle = \"B\"\nbuiltin = \"menu\"\n"
      "start = 100\n";
  auto data = MasterData::Parse(users, "users.toml", txs, "transactions.toml");
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().message(),
            "transactions.toml:9: transaction[1].builtin: only one transaction "
            "can be the menu; M1 is already");
}

TEST_F(R3SystemTest, Sm04ListsLastStepTime) {
  uint64_t a = Logon("DEMO", "SM04").session();
  clock_.Advance(65 * kSimSecond);
  auto list = Step(a, "/00");
  ASSERT_EQ(list.screen().table().rows_size(), 1);
  EXPECT_EQ(list.screen().table().rows(0).cells(1), "DEMO");
  EXPECT_EQ(system_->UserSessions().rows(0).last_step(),
            FormatTimeOfDay(1065 * kSimSecond));
}

// ---- R/3-side session lifetime ----

TimeoutSettings Settings(const std::string& profile,
                         const std::string& sicf = "") {
  auto p = Profile::Parse(profile, "DEFAULT.PFL");
  EXPECT_TRUE(p.ok());
  auto t = TimeoutSettings::Load(*p, sicf, "sicf.toml");
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : TimeoutSettings();
}

TEST(TimeoutSettings, ShortestNonZeroLimitWins) {
  const std::string sicf =
      "[service.short]\ntimeout = \"00:10:00\"\n"
      "[service.long]\ntimeout = \"01:00:00\"\n"
      "[service.system]\ntimeout = \"00:00:00\"\n"
      "[service.gui]\ntimeout = \"00:00:00\"\nwebgui = true\n"
      "[service.guishort]\ntimeout = \"00:02:00\"\nwebgui = true\n";
  TimeoutSettings t = Settings(
      "rdisp/plugin_auto_logout = 1800\nrdisp/gui_auto_logout = 300\n", sicf);
  EXPECT_EQ(t.ApplicationLimit("unknown"), 1800);  // system value
  EXPECT_EQ(t.ApplicationLimit("short"), 600);     // SICF shortens
  EXPECT_EQ(t.ApplicationLimit("long"), 1800);     // ... but never lengthens
  EXPECT_EQ(t.ApplicationLimit("system"), 1800);  // 00:00:00 = the system value
  EXPECT_EQ(t.ApplicationLimit("gui"), 300);  // WebGUI: rdisp/gui_auto_logout
  EXPECT_EQ(t.ApplicationLimit("guishort"),
            120);  // SICF shorter than gui_auto_logout
  EXPECT_EQ(t.ApplicationLimit("SHORT"),
            600);  // service names are case-insensitive
  // Which setting gave the limit, as an ended session's message names it.
  auto name = [&](std::string_view service) {
    LimitSource source;
    int64_t limit = t.ApplicationLimit(service, &source);
    return TimeoutSettings::LimitName(source, limit);
  };
  EXPECT_EQ(name("unknown"), "rdisp/plugin_auto_logout = 1800 s");
  EXPECT_EQ(name("gui"), "rdisp/gui_auto_logout = 300 s");
  EXPECT_EQ(name("short"), "the service's SICF session timeout 00:10:00");
  EXPECT_EQ(name("guishort"), "the service's SICF session timeout 00:02:00");
  EXPECT_EQ(name("long"), "rdisp/plugin_auto_logout = 1800 s");

  TimeoutSettings off = Settings(
      "rdisp/plugin_auto_logout = 0\nrdisp/gui_auto_logout = 0\n", sicf);
  EXPECT_EQ(off.ApplicationLimit("unknown"), 0);  // 0 = not limited
  EXPECT_EQ(off.ApplicationLimit("short"), 600);
  EXPECT_EQ(off.ApplicationLimit("gui"), 0);
  TimeoutSettings gui_only = Settings(
      "rdisp/plugin_auto_logout = 0\nrdisp/gui_auto_logout = 90\n", sicf);
  EXPECT_EQ(gui_only.ApplicationLimit("gui"), 90);
  EXPECT_EQ(gui_only.ApplicationLimit("system"), 0);  // not a WebGUI service
  EXPECT_EQ(ShorterLimit(0, 0), 0);
  EXPECT_EQ(ShorterLimit(5, 0), 5);
  EXPECT_EQ(ShorterLimit(0, 7), 7);
}

TEST(TimeoutSettings, BadValuesNameFileLineAndKey) {
  auto p =
      Profile::Parse("http/security_session_timeout = 30\n", "DEFAULT.PFL");
  auto t = TimeoutSettings::Load(*p, "", "");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(
      t.status().message().find("DEFAULT.PFL:1: http/security_session_timeout"),
      std::string::npos);
  auto ok = Profile::Parse("", "DEFAULT.PFL");
  auto s = TimeoutSettings::Load(*ok, "[service.x]\ntimeout = \"10:75:00\"\n",
                                 "sicf.toml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("sicf.toml:2: service.x.timeout"),
            std::string::npos);
  EXPECT_FALSE(ParseHms("1:2").ok());
  EXPECT_EQ(*ParseHms("01:02:03"), 3723);
}

class R3LifetimeTest : public R3SystemTest {
 protected:
  proto::R3Response LogonTo(const std::string& service, const std::string& user,
                            const std::string& tcode = "PA30",
                            uint32_t owner = 0) {
    proto::R3Logon req;
    req.set_client("100");
    req.set_user(user);
    req.set_password("welcome");
    req.set_tcode(tcode);
    req.set_service(service);
    int ms;
    return system_->Logon(req, &ms, owner);
  }
  void Rebuild(const std::string& profile, const std::string& sicf = "") {
    profile_text_ = profile;
    sicf_text_ = sicf;
    SetUp();
  }
  // The reasons of the ends R/3 pushes; timeouts_ says which were timeouts
  // (an idle limit: the agate may keep the logon data for ~serviceRestart).
  std::vector<std::string> Ended() {
    std::vector<std::string> out;
    timeouts_.clear();
    for (auto& e : system_->TakeEnded()) {
      out.push_back(e.reason);
      timeouts_.push_back(e.timeout);
    }
    return out;
  }
  std::vector<bool> timeouts_;
};

TEST_F(R3LifetimeTest, PluginAutoLogoutBoundaryPlusMinusOneSecond) {
  Rebuild(
      "rdisp/plugin_auto_logout = 60\nhttp/security_session_timeout = 1000\n");
  uint64_t s = LogonTo("ess", "DEMO").session();
  Step(s, "/00", {{"RP50G-PERNR", "1"}});  // lock; idle time starts again
  clock_.Advance(59 * kSimSecond);
  system_->Advance();
  EXPECT_EQ(system_->session_count(), 1u);
  EXPECT_TRUE(Ended().empty());
  clock_.Advance(2 * kSimSecond);
  system_->Advance();
  EXPECT_EQ(system_->session_count(), 0u);
  EXPECT_EQ(system_->Locks().rows_size(), 0);
  auto ended = Ended();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(timeouts_, std::vector<bool>{true});
  EXPECT_EQ(ended[0],
            "R/3 session timed out (idle longer than "
            "rdisp/plugin_auto_logout = 60 s)");
  EXPECT_EQ(system_->SecuritySessions().rows_size(), 0);
}

TEST_F(R3LifetimeTest, SicfAndGuiAutoLogoutShortenForTheirService) {
  Rebuild("rdisp/plugin_auto_logout = 1800\nrdisp/gui_auto_logout = 120\n",
          "[service.webgui]\ntimeout = \"00:00:00\"\nwebgui = true\n"
          "[service.ess]\ntimeout = \"00:05:00\"\n");
  uint64_t gui = LogonTo("webgui", "DEMO", "FB03").session();
  uint64_t ess = LogonTo("ess", "DEMO2").session();
  uint64_t other = LogonTo("other", "LOAD00001").session();
  clock_.Advance(119 * kSimSecond);
  system_->Advance();
  EXPECT_EQ(system_->session_count(), 3u);
  clock_.Advance(2 * kSimSecond);
  system_->Advance();  // 121 s: the WebGUI session is gone
  EXPECT_EQ(system_->session_count(), 2u);
  EXPECT_EQ(Ended(),
            std::vector<std::string>{"R/3 session timed out (idle longer than "
                                     "rdisp/gui_auto_logout = 120 s)"});
  EXPECT_EQ(Step(gui, "/00").code(), proto::R3Response::SESSION_GONE);
  clock_.Advance(179 * kSimSecond - 2 * kSimSecond);  // 298 s
  system_->Advance();
  EXPECT_EQ(Step(ess, "/00").code(),
            proto::R3Response::OK);  // a step restarts its time
  clock_.Advance(301 * kSimSecond);
  system_->Advance();
  EXPECT_EQ(Step(ess, "/00").code(), proto::R3Response::SESSION_GONE);
  EXPECT_EQ(Ended(), std::vector<std::string>{
                         "R/3 session timed out (idle longer than the "
                         "service's SICF session timeout 00:05:00)"});
  EXPECT_EQ(system_->session_count(),
            1u);  // `other` keeps the system value 1800 s
  (void)other;
}

TEST_F(R3LifetimeTest, SecuritySessionTimeoutEndsItsLinkedSessions) {
  Rebuild(
      "rdisp/plugin_auto_logout = 0\nhttp/security_session_timeout = 120\n");
  LogonTo("ess", "DEMO");
  ASSERT_EQ(system_->SecuritySessions().rows_size(), 1);
  EXPECT_EQ(system_->SecuritySessions().rows(0).sessions(), 1);
  // SM05 names the session it links, as SM04 and SM12 name it.
  ASSERT_EQ(system_->SecuritySessions().rows(0).session_ids_size(), 1);
  EXPECT_EQ(system_->SecuritySessions().rows(0).session_ids(0),
            system_->UserSessions().rows(0).session());
  // ... and its own ID is not one of SM04's numbers.
  EXPECT_NE(system_->SecuritySessions().rows(0).id(),
            system_->UserSessions().rows(0).session());
  clock_.Advance(119 * kSimSecond);
  system_->Advance();
  EXPECT_EQ(system_->session_count(), 1u);
  clock_.Advance(2 * kSimSecond);
  system_->Advance();
  EXPECT_EQ(system_->session_count(), 0u);
  EXPECT_EQ(system_->SecuritySessions().rows_size(), 0);
  auto ended = Ended();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_NE(ended[0].find("security_session_timeout"), std::string::npos);
  EXPECT_EQ(timeouts_, std::vector<bool>{true});
}

TEST_F(R3LifetimeTest, EndingASecuritySessionEndsItsSessionsAtOnce) {
  uint64_t s = LogonTo("ess", "DEMO").session();
  Step(s, "/00", {{"RP50G-PERNR", "2"}});
  uint64_t sec = system_->SecuritySessions().rows(0).id();
  EXPECT_FALSE(system_->EndSecuritySession(sec + 100));
  EXPECT_TRUE(system_->EndSecuritySession(sec));
  EXPECT_EQ(system_->session_count(), 0u);
  EXPECT_EQ(system_->Locks().rows_size(), 0);
  auto ended = Ended();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_NE(ended[0].find("SM05"), std::string::npos);
  EXPECT_EQ(timeouts_, std::vector<bool>{false});  // an administrator's end
}

TEST_F(R3LifetimeTest, MoreThanMaxAltModesDisplacesTheOldest) {
  Rebuild("rdisp/max_alt_modes = 2\nrdisp/tm_max_no = 100\n");
  uint64_t first = LogonTo("ess", "DEMO").session();
  Step(first, "/00", {{"RP50G-PERNR", "3"}});
  uint64_t second = LogonTo("ess", "DEMO").session();
  LogonTo("ess", "DEMO2");
  EXPECT_TRUE(Ended().empty());
  uint64_t third = LogonTo("ess", "DEMO").session();
  auto ended = system_->TakeEnded();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].session, first);
  EXPECT_NE(ended[0].reason.find("rdisp/max_alt_modes"), std::string::npos);
  EXPECT_FALSE(ended[0].timeout);
  EXPECT_EQ(system_->Locks().rows_size(), 0);  // its lock went with it
  EXPECT_EQ(Step(second, "/00").code(), proto::R3Response::OK);
  EXPECT_EQ(Step(third, "/00").code(), proto::R3Response::OK);
  EXPECT_EQ(system_->session_count(), 3u);
}

TEST_F(R3LifetimeTest, AnOwnersSessionsEndTogetherAndOnlyThey) {
  Rebuild("rdisp/max_alt_modes = 3\nrdisp/tm_max_no = 100\n");
  // Owner 1 (an agate's connection): four sessions, one with a lock; owner 2
  // one; and one without an owner.
  uint64_t a = LogonTo("ess", "DEMO", "PA30", 1).session();
  Step(a, "/00", {{"RP50G-PERNR", "5"}});
  uint64_t b = LogonTo("ess", "DEMO2", "PA30", 1).session();
  uint64_t c = LogonTo("ess", "DEMO", "PA30", 2).session();
  uint64_t d = LogonTo("ess", "DEMO2", "PA30", 1).session();
  uint64_t e = LogonTo("ess", "DEMO2", "PA30", 1).session();
  uint64_t f = LogonTo("ess", "DEMO", "PA30").session();
  EXPECT_EQ(system_->owner_count(), 2u);
  ASSERT_EQ(system_->Locks().rows_size(), 1);
  // Out of the middle of owner 1's list, by a logoff...
  Logoff(d);
  // ...and by R/3: DEMO2's fourth session displaces the oldest, b, whose
  // owner the report names (the push goes to its connection).
  uint64_t g = LogonTo("ess", "DEMO2", "PA30", 2).session();
  EXPECT_TRUE(system_->TakeEnded().empty());
  uint64_t h = LogonTo("ess", "DEMO2", "PA30", 2).session();
  auto ended = system_->TakeEnded();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].session, b);
  EXPECT_EQ(ended[0].owner, 1u);

  EXPECT_EQ(system_->EndOwnedBy(1), 2u);       // a and e
  EXPECT_TRUE(system_->TakeEnded().empty());   // nobody to tell
  EXPECT_EQ(system_->Locks().rows_size(), 0);  // a's lock went with it
  EXPECT_EQ(system_->owner_count(), 1u);
  EXPECT_EQ(system_->EndOwnedBy(1), 0u);
  for (uint64_t gone : {a, b, d, e})
    EXPECT_EQ(Step(gone, "/00").code(), proto::R3Response::SESSION_GONE);
  for (uint64_t kept : {c, f, g, h})
    EXPECT_EQ(Step(kept, "/00").code(), proto::R3Response::OK);
  // SM04 and SM05 still name the users of what is left.
  auto sm04 = system_->UserSessions();
  ASSERT_EQ(sm04.rows_size(), 4);
  EXPECT_EQ(sm04.rows(0).user(), "DEMO");
  EXPECT_EQ(sm04.rows(0).client(), "100");
  EXPECT_EQ(sm04.rows(3).user(), "DEMO2");
  auto sm05 = system_->SecuritySessions();
  ASSERT_EQ(sm05.rows_size(), 4);
  EXPECT_EQ(sm05.rows(3).user(), "DEMO2");
  EXPECT_EQ(system_->EndOwnedBy(2), 3u);
  EXPECT_EQ(system_->owner_count(), 0u);
  EXPECT_EQ(system_->session_count(), 1u);
}

TEST_F(R3LifetimeTest, WrongPasswordsLockTheUser) {
  Rebuild("login/fails_to_user_lock = 3\nrdisp/tm_max_no = 100\n");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Logon("DEMO", "FB03", "bad").error(),
              "Name or password is incorrect (repeat logon)");
  }
  EXPECT_EQ(Logon("DEMO", "FB03", "bad").error(),
            "User is locked. Please notify the person responsible");
  auto refused = Logon("DEMO", "FB03");  // even with the right password
  EXPECT_EQ(refused.code(), proto::R3Response::REFUSED);
  EXPECT_EQ(refused.error(),
            "User is locked. Please notify the person responsible");
  EXPECT_EQ(Logon("DEMO2", "FB03").code(), proto::R3Response::OK);
  // A success resets the count for others.
  Logon("DEMO2", "FB03", "bad");
  Logon("DEMO2", "FB03", "bad");
  EXPECT_EQ(Logon("DEMO2", "FB03").code(), proto::R3Response::OK);
  Logon("DEMO2", "FB03", "bad");
  EXPECT_EQ(Logon("DEMO2", "FB03").code(), proto::R3Response::OK);
}

TEST(MasterData, ErrorsNameFileLineAndKey) {
  auto bad = MasterData::Parse("[[user]]\nclient = \"100\"\nname = 5\n",
                               "users.toml", "", "tx.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "users.toml:3: user[0].name: expected a string");
  auto tx = MasterData::Parse(
      "", "users.toml",
      "[[transaction]]\ncode = \"X\"\ntitle = \"t\"\nstart = 5\n", "tx.toml");
  ASSERT_FALSE(tx.ok());
  EXPECT_EQ(tx.status().message(),
            "tx.toml:4: transaction[0].start: no screen with this number");
}

// Typos and repeats are errors, not silently ignored or overwritten.
TEST(MasterData, UnknownKeysDuplicatesAndNegativeNumbersAreRefused) {
  const std::string user =
      "[[user]]\nclient = \"100\"\nname = \"DEMO\"\npassword = \"a\"\n";
  auto typo = MasterData::Parse(user + "passwort = \"b\"\n", "users.toml", "",
                                "tx.toml");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().message(),
            "users.toml:5: user[0].passwort: unknown key");
  auto twice = MasterData::Parse(user + user, "users.toml", "", "tx.toml");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(),
            "users.toml:5: user[1].name: user DEMO of client 100 is defined "
            "twice");
  const std::string tx =
      "[[transaction]]\ncode = \"X\"\ntitle = \"t\"\nstart = 1\n"
      "[[transaction.screen]]\nnumber = 1\ntitle = \"s\"\n";
  auto dup = MasterData::Parse("", "users.toml", tx + tx, "tx.toml");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("transaction X is defined twice"),
            std::string::npos)
      << dup.status().message();
  auto negative = MasterData::Parse(
      "", "users.toml",
      "[[transaction]]\ncode = \"X\"\ntitle = \"t\"\nstart = 1\n"
      "step_ms = -5\n",
      "tx.toml");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().message(),
            "tx.toml:5: transaction[0].step_ms: must be >= 0 and <= "
            "2147483647");
  auto screen_typo =
      MasterData::Parse("", "users.toml", tx + "titel = \"x\"\n", "tx.toml");
  ASSERT_FALSE(screen_typo.ok());
  EXPECT_NE(screen_typo.status().message().find(
                "transaction[0].screen[0].titel: unknown key"),
            std::string::npos)
      << screen_typo.status().message();
}

}  // namespace
}  // namespace its::r3
