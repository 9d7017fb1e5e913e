// Session lifetime as R/3 and ITS apply it, and no way into another user's
// session, over HTTP against real processes.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/gusid.h"
#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

constexpr char kTimedOut[] = "Session timed out - please log in again";

std::string Profile(const std::string& extra) {
  std::ifstream in(std::string(ITS_SOURCE_DIR) +
                   "/deploy/config/r3/DEFAULT.PFL");
  std::stringstream ss;
  ss << in.rdbuf() << "\n" << extra << "\n";  // later lines win
  return ss.str();
}

// R/3 ends the session first (rdisp/plugin_auto_logout 60 s < ~timeout 15 min):
// the agate is told at once (pushed), and the next request gets, by service
// configuration, the 400 page, the logon page or a silent restart.
TEST(Lifetime, WhenR3EndsFirstTheNextRequestShowsWhatTheServiceSays) {
  auto c = StartCluster(
      Fast,
      {{"r3/DEFAULT.PFL", Profile("rdisp/plugin_auto_logout = 60")},
       {"services/plain.srvc",
        "~transaction FB03\n~timeout 15\n~serviceRestart 0\n"},
       {"services/kept.srvc",
        "~transaction FB03\n~timeout 15\n~userTimeout 1\n~serviceRestart 1\n"},
       {"services/relog.srvc",
        "~transaction FB03\n~timeout 15\n~userTimeout 0\n~serviceRestart "
        "1\n"}});
  ASSERT_NE(c, nullptr);
  Browser plain(c->url()), kept(c->url()), relog(c->url());
  ASSERT_EQ(plain.Get(StartUrl("plain", "LOAD00011")).status, 200);
  ASSERT_EQ(kept.Get(StartUrl("kept", "LOAD00012")).status, 200);
  ASSERT_EQ(relog.Get(StartUrl("relog", "LOAD00013")).status, 200);
  auto start = std::chrono::steady_clock::now();
  // No requests: R/3 ends them after 60 simulated seconds (0.1 s real) and
  // pushes it; the agate marks them ended without polling.
  ASSERT_TRUE(WaitFor([&] {
    int ended = 0;
    for (const auto& s : Admin(*c, "sessions")) ended += s["state"] == "ended";
    return ended == 3;
  }));
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(80));
  EXPECT_EQ(UsersNamed(*c, "LOAD00011") + UsersNamed(*c, "LOAD00012"), 0);

  HttpResult a = plain.Get(Step("plain", "~okcode=/00"));
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(a.body.find(kTimedOut), std::string::npos);
  HttpResult b = kept.Get(Step("kept", "~okcode=/00"));
  EXPECT_EQ(b.status, 200);
  EXPECT_NE(b.body.find("~serviceRestarted=X"), std::string::npos);
  EXPECT_EQ(UsersNamed(*c, "LOAD00012"), 1);
  HttpResult d = relog.Get(Step("relog", "~okcode=/00"));
  EXPECT_EQ(d.status, 200);
  EXPECT_NE(d.body.find("name=\"~password\""), std::string::npos);
}

TEST(Lifetime, EndingASecuritySessionInSm05EndsItsSessionAtOnce) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  Browser b(c->url());
  ASSERT_EQ(b.Get(StartUrl("ess", "LOAD00021")).status, 200);
  b.Get(Step("ess", "~okcode=/00&RP50G-PERNR=2121"));
  uint64_t id = 0;
  for (const auto& s : Admin(*c, "sm05")) {
    if (s["user"] == "LOAD00021") {
      id = s["id"];
      EXPECT_EQ(s["sessions"], 1);
    }
  }
  ASSERT_NE(id, 0u);
  std::string cmd =
      Cat(ITS_BIN_DIR, "/itsadm --config ", c->config_dir(), " sm05 end ", id);
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(UsersNamed(*c, "LOAD00021"), 0);
  EXPECT_TRUE(Admin(*c, "sm12").empty());
  HttpResult r = b.Get(Step("ess", "~okcode=/00"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(kTimedOut), std::string::npos);
  std::string again = Cat(ITS_BIN_DIR, "/itsadm --config ", c->config_dir(),
                          " sm05 end ", id, " 2>/dev/null");
  EXPECT_NE(std::system(again.c_str()),
            0);  // no such security session any more
  // IDs that are no IDs are a usage error (2), not wrapped into one.
  for (const char* bad : {"-1", "99999999999999999999", "0", "1x"}) {
    ProgramRun run = RunProgram(
        "itsadm", Cat("--config ", c->config_dir(), " sm05 end ", bad));
    EXPECT_EQ(run.exit_code, 2) << bad << ": " << run.output;
    EXPECT_EQ(run.output.find("18446744073709551615"), std::string::npos)
        << run.output;
  }
}

TEST(Lifetime, TheOldestTabIsDisplacedBeyondMaxAltModes) {
  auto c = StartCluster(
      nullptr, {{"r3/DEFAULT.PFL", Profile("rdisp/max_alt_modes = 2")}});
  ASSERT_NE(c, nullptr);
  std::vector<std::unique_ptr<Browser>> tabs;
  for (int i = 0; i < 3; ++i) {
    tabs.push_back(std::make_unique<Browser>(c->url()));
    ASSERT_EQ(tabs.back()->Get(StartUrl("webgui", "DEMO")).status, 200);
  }
  EXPECT_TRUE(WaitFor([&] { return UsersNamed(*c, "DEMO") == 2; }));
  HttpResult oldest = tabs[0]->Get(Step("webgui", "~okcode=/00"));
  EXPECT_EQ(oldest.status,
            400);  // although its ~timeout (15 min) has not passed
  EXPECT_NE(oldest.body.find(kTimedOut), std::string::npos);
  EXPECT_EQ(tabs[1]->Get(Step("webgui", "~okcode=/00")).status, 200);
  EXPECT_EQ(tabs[2]->Get(Step("webgui", "~okcode=/00")).status, 200);
}

TEST(Lifetime, LogonLimitsAndUserLockGiveClearPages) {
  auto c = StartCluster(
      nullptr,
      {{"r3/DEFAULT.PFL",
        Profile("rdisp/tm_max_no = 2\nlogin/fails_to_user_lock = 2")}});
  ASSERT_NE(c, nullptr);
  Browser a(c->url()), b(c->url()), d(c->url());
  ASSERT_EQ(a.Get(StartUrl("webgui", "LOAD00031")).status, 200);
  ASSERT_EQ(b.Get(StartUrl("webgui", "LOAD00032")).status, 200);
  HttpResult full = d.Get(StartUrl("webgui", "LOAD00033"));
  EXPECT_EQ(full.status, 400);
  EXPECT_NE(full.body.find("rdisp/tm_max_no"), std::string::npos);
  a.Get(Step("webgui", "~okcode=/nex"));

  Browser e(c->url());
  for (int i = 0; i < 2; ++i) {
    e.Post("/scripts/wgate/webgui/!",
           "~client=100&~login=LOAD00034&~password=wrong");
  }
  HttpResult locked = e.Post("/scripts/wgate/webgui/!",
                             "~client=100&~login=LOAD00034&~password=welcome");
  EXPECT_NE(
      locked.body.find("User is locked. Please notify the person responsible"),
      std::string::npos);
  EXPECT_TRUE(e.raw_cookie().empty());
}

TEST(Lifetime, ExitUrlGoesOnlyToRelativeTargetsOrConfiguredHosts) {
  auto c = StartCluster([](toml::table& t) {
    t.insert_or_assign("exit_url_hosts", toml::array{"portal.example.com"});
  });
  ASSERT_NE(c, nullptr);
  struct Case {
    std::string exit_url;
    bool redirected;
  };
  for (const Case& k :
       {Case{"https://portal.example.com/home", true}, Case{"/bye", true},
        Case{"https://evil.example/", false},
        Case{"//portal.example.com/", false}}) {
    Browser b(c->url());
    ASSERT_EQ(b.Get(StartUrl("webgui", "LOAD00051",
                             "&~exitURL=" + UrlEncode(k.exit_url)))
                  .status,
              200);
    HttpResult off = b.Get(Step("webgui", "~okcode=/nex"));
    EXPECT_EQ(off.status, k.redirected ? 302 : 200) << k.exit_url;
    EXPECT_EQ(off.Header("location").value_or(""),
              k.redirected ? k.exit_url : "")
        << k.exit_url;
  }
}

// Two users, one browser: after A logs off, B in the same browser gets B's own
// session, never A's screen, data or locks; a start never adopts a session.
TEST(Lifetime, TwoUsersOneBrowserNeverShareASession) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  Browser browser(c->url());
  ASSERT_EQ(browser.Get(StartUrl("ess", "DEMO")).status, 200);
  std::string a_id = browser.session();
  browser.Get(Step("ess", "~okcode=/00&RP50G-PERNR=5151"));
  browser.Get(Step("ess", "~okcode=UPD&P0006-STRAS=Secret%20Street%201"));
  browser.Get(Step("ess", "~okcode=/00&RP50G-PERNR=5151"));  // locked again
  HttpResult off = browser.Get(Step("ess", "~okcode=/nex"));
  ASSERT_EQ(off.status, 200);
  EXPECT_TRUE(browser.raw_cookie().empty());

  HttpResult b = browser.Get(StartUrl("ess", "DEMO2"));
  ASSERT_EQ(b.status, 200);
  EXPECT_NE(browser.session(), a_id);
  EXPECT_NE(b.body.find("User DEMO2"), std::string::npos);
  EXPECT_EQ(b.body.find("Secret Street"), std::string::npos);
  EXPECT_EQ(b.body.find("5151"), std::string::npos);
  EXPECT_TRUE(Admin(*c, "sm12").empty());

  // Starting again while DEMO2's session is alive ends it first.
  std::string b_id = browser.session();
  HttpResult again = browser.Get(StartUrl("ess", "LOAD00041"));
  ASSERT_EQ(again.status, 200);
  EXPECT_NE(browser.session(), b_id);
  EXPECT_EQ(UsersNamed(*c, "DEMO2"), 0);
  // A forged cookie of the old session gets nothing.
  browser.set_cookie(UrlEncode(b_id));
  HttpResult old = browser.Get(Step("ess", "~okcode=/00"));
  EXPECT_EQ(old.status, 400);
  EXPECT_EQ(old.body.find("DEMO2"), std::string::npos);

  // The access logs say why, and no password is in any log or output file.
  // (The agates flush their access log at least every 250 ms.)
  std::string logs;
  auto read_logs = [&] {
    logs.clear();
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(c->config_dir())) {
      std::string p = e.path().string();
      if (e.is_regular_file() && (p.ends_with(".log") || p.ends_with(".out"))) {
        std::ifstream in(p);
        std::stringstream ss;
        ss << in.rdbuf();
        logs += ss.str();
      }
    }
    return logs.find("new session of DEMO2") != std::string::npos &&
           logs.find("the browser started the service anew") !=
               std::string::npos;
  };
  EXPECT_TRUE(WaitFor(read_logs, 3000));
  EXPECT_NE(logs.find("the browser started the service anew"),
            std::string::npos);
  EXPECT_NE(logs.find("new session of DEMO2"), std::string::npos);
  EXPECT_EQ(logs.find("welcome"), std::string::npos)
      << "a password reached a log";
  auto id = ParseGusid(b_id);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(logs.find(id->random), std::string::npos)
      << "a session secret reached a log";
}

}  // namespace
}  // namespace its::testing
