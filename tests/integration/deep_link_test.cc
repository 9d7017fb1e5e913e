// Deep links and demonstrations over HTTP against real processes: a
// transaction call in ~transaction (fields, `*`, ~okcode), ~agate_routing,
// and what a newcomer meets first (portal launch form, admin URL, the steps
// of a failed logon, the simulated time, incarnations).
#include <regex>

#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

class DeepLink : public SharedClusterTest {
 protected:
  // A start URL of `service` for `user` with ~transaction=`call`.
  static std::string CallUrl(const std::string& service,
                             const std::string& user, const std::string& call,
                             const std::string& extra = "") {
    return StartUrl(service, user,
                    Cat("&~transaction=", UrlEncode(call), extra));
  }
  static std::string Output(const std::string& field,
                            const std::string& value) {
    return Cat("<output id=\"", field, "\">", value, "</output>");
  }
  static std::string Input(const std::string& field, const std::string& value) {
    return Cat("<input id=\"", field, "\" name=\"", field, "\" value=\"", value,
               "\">");
  }
  static int Rows(const std::string& command, const std::string& key,
                  const std::string& value) {
    int n = 0;
    for (const auto& row : Admin(*cluster_, command)) n += row[key] == value;
    return n;
  }
};

TEST_F(DeepLink, StarCallLandsOnTheDocumentDisplayWithItsValues) {
  Browser b(cluster_->url());
  // As another system links to it: every value in the one parameter.
  HttpResult r = b.Get(
      CallUrl("webgui", "DEMO",
              "*FB03 RF05L-BELNR=4711;RF05L-BUKRS=1000;RF05L-GJAHR=2024"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("x-its-steps"), "1,2,3,4,5");
  EXPECT_NE(r.body.find("data-tcode=\"FB03\" data-dynpro=\"700\""),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("Display Document: Data Entry View"),
            std::string::npos);
  EXPECT_NE(r.body.find(Output("RF05L-BELNR", "4711")), std::string::npos);
  EXPECT_NE(r.body.find(Output("RF05L-BUKRS", "1000")), std::string::npos);
  EXPECT_NE(r.body.find(Output("RF05L-GJAHR", "2024")), std::string::npos);
  EXPECT_FALSE(b.session().empty());
  // The session goes on from there like any other.
  HttpResult next = b.Get(Step("webgui", "~okcode=/00"));
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.Header("x-its-agate"), r.Header("x-its-agate"));
}

TEST_F(DeepLink, FieldsAloneFillTheFirstScreenAndOkcodeExecutesIt) {
  Browser filled(cluster_->url());
  HttpResult r = filled.Get(
      CallUrl("webgui", "LOAD00901", "fb03 rf05l-belnr=815;RF05L-GJAHR=2023"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("data-dynpro=\"100\""), std::string::npos);
  EXPECT_NE(r.body.find(Input("RF05L-BELNR", "815")), std::string::npos);
  EXPECT_NE(r.body.find(Input("RF05L-BUKRS", "1000")), std::string::npos)
      << "the screen's default stays";
  EXPECT_NE(r.body.find(Input("RF05L-GJAHR", "2023")), std::string::npos);

  Browser executed(cluster_->url());
  r = executed.Get(
      CallUrl("webgui", "LOAD00902", "FB03 RF05L-BELNR=816", "&~okcode=%2F00"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("data-dynpro=\"700\""), std::string::npos);
  EXPECT_NE(r.body.find(Output("RF05L-BELNR", "816")), std::string::npos);

  // `\;` is a semicolon inside a value.
  Browser escaped(cluster_->url());
  r = escaped.Get(CallUrl("webgui", "LOAD00903",
                          "*FB03 RF05L-BELNR=8\\;17;RF05L-BUKRS=0001"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(Output("RF05L-BELNR", "8;17")), std::string::npos);
  EXPECT_NE(r.body.find(Output("RF05L-BUKRS", "0001")), std::string::npos);
}

TEST_F(DeepLink, UnknownFieldGetsAClearPageAndLeavesNothingBehind) {
  Browser b(cluster_->url());
  HttpResult r = b.Get(
      CallUrl("webgui", "LOAD00911", "*FB03 RF05L-BELNR=4711;RF05L-XBLNR=X"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Header("x-its-steps"), "1,2,3");
  EXPECT_NE(r.body.find("Transaction call not possible"), std::string::npos);
  EXPECT_NE(r.body.find("Field RF05L-XBLNR does not exist on the first screen "
                        "of FB03 (screen 100)"),
            std::string::npos)
      << r.body;
  EXPECT_TRUE(b.raw_cookie().empty());
  EXPECT_EQ(Rows("sm04", "user", "LOAD00911"), 0);
  EXPECT_EQ(Rows("sm05", "user", "LOAD00911"), 0);
  EXPECT_EQ(Rows("sessions", "user", "LOAD00911"), 0);
}

TEST_F(DeepLink, MalformedCallsAreRefusedBeforeAnyProcessIsAsked) {
  for (const std::string& bad :
       {std::string("FB03 RF05L-BELNR=1;rf05l-belnr=2"),
        std::string("FB03 RF05L-BELNR"), std::string("<script>"),
        Cat("FB03 RF05L-BELNR=", std::string(300, '9')),
        std::string(3000, 'A')}) {
    Browser b(cluster_->url());
    HttpResult r = b.Get(CallUrl("webgui", "LOAD00921", bad));
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.Header("x-its-steps"), "1") << bad;
    EXPECT_NE(r.body.find("~transaction: "), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("<script>"), std::string::npos);
    EXPECT_TRUE(b.raw_cookie().empty());
  }
  HttpResult twice = Browser(cluster_->url())
                         .Get(CallUrl("webgui", "LOAD00921",
                                      "FB03 RF05L-BELNR=1;rf05l-belnr=2"));
  EXPECT_NE(twice.body.find("field RF05L-BELNR is given twice"),
            std::string::npos);
  EXPECT_EQ(Rows("sm04", "user", "LOAD00921"), 0);
  // Without logon data too: refused at once, not after a logon page has
  // asked for a password.
  HttpResult no_logon =
      Browser(cluster_->url())
          .Get("/scripts/wgate/webgui/!?~transaction=*FB03%20A");
  EXPECT_EQ(no_logon.status, 400) << no_logon.body;
  EXPECT_EQ(no_logon.Header("x-its-steps"), "1");
  EXPECT_NE(no_logon.body.find("~transaction: "), std::string::npos)
      << no_logon.body;
}

TEST_F(DeepLink, FailedLogonReportsOnlyTheStepsThatHappened) {
  Browser b(cluster_->url());
  HttpResult wrong =
      b.Post("/scripts/wgate/webgui/!",
             "~transaction=FB03&~client=100&~login=DEMO2&~password=nope");
  EXPECT_EQ(wrong.status, 200);
  EXPECT_NE(wrong.body.find("Name or password is incorrect"),
            std::string::npos);
  EXPECT_EQ(wrong.Header("x-its-steps"), "1,2,3");
  HttpResult ok =
      b.Post("/scripts/wgate/webgui/!",
             "~transaction=FB03&~client=100&~login=DEMO2&~password=welcome");
  EXPECT_EQ(ok.Header("x-its-steps"), "1,2,3,4,5");
}

TEST_F(DeepLink, AgateRoutingPinsNewSessionsToTheNamedProcess) {
  std::string pid;
  for (int i = 0; i < 2; ++i) {
    Browser b(cluster_->url());
    HttpResult r =
        b.Get(StartUrl("webgui", Cat("LOAD0093", i), "&~agate_routing=IT2:1"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("x-its-steps"), "1,2,3,4,5");
    AgateId served = ServedBy(r);
    EXPECT_EQ(served.instance, "IT2");
    EXPECT_EQ(served.process, 1);
    EXPECT_EQ(b.session().substr(0, 3), "IT2");
    if (i == 1) {
      EXPECT_EQ(std::to_string(served.pid), pid) << "the same process";
    }
    pid = std::to_string(served.pid);
  }
  // The instance alone: that instance, its own rule for the process.
  Browser b(cluster_->url());
  HttpResult r = b.Get(StartUrl("webgui", "LOAD00935", "&~agate_routing=it1"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ServedBy(r).instance, "IT1");
}

TEST_F(DeepLink, AgateRoutingRefusesWhatCannotTakeTheSession) {
  Browser b(cluster_->url());
  HttpResult unknown =
      b.Get(StartUrl("webgui", "LOAD00941", "&~agate_routing=IT9"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.Header("x-its-steps"), "1");
  EXPECT_NE(unknown.body.find("AGate routing refused"), std::string::npos);
  EXPECT_NE(unknown.body.find(
                "There is no AGate instance IT9 (configured: IT1, IT2)"),
            std::string::npos)
      << unknown.body;
  EXPECT_TRUE(b.raw_cookie().empty());

  HttpResult beyond =
      b.Get(StartUrl("webgui", "LOAD00941", "&~agate_routing=IT1:7"));
  EXPECT_EQ(beyond.status, 400);
  EXPECT_NE(beyond.body.find("AGate instance IT1 has no process 7"),
            std::string::npos);
  HttpResult malformed =
      b.Get(StartUrl("webgui", "LOAD00941", "&~agate_routing=IT1:x"));
  EXPECT_EQ(malformed.status, 400);
  // Without logon data: refused before the logon page.
  HttpResult no_logon = b.Get("/scripts/wgate/webgui/!?~agate_routing=IT9");
  EXPECT_EQ(no_logon.status, 400) << no_logon.body;
  EXPECT_NE(no_logon.body.find("There is no AGate instance IT9"),
            std::string::npos)
      << no_logon.body;

  // Process 3 may exist (max_agates 4) but does not run: refused by the
  // Mapping Manager, not sent to process 0 or 1 instead.
  HttpResult idle =
      b.Get(StartUrl("webgui", "LOAD00941", "&~agate_routing=IT1:3"));
  EXPECT_EQ(idle.status, 503);
  EXPECT_EQ(idle.Header("x-its-steps"), "1,2");
  EXPECT_NE(idle.body.find("AGate process 3 of IT1 is not running"),
            std::string::npos)
      << idle.body;
  EXPECT_FALSE(idle.Header("x-its-agate").has_value());
  EXPECT_TRUE(b.raw_cookie().empty());
  EXPECT_EQ(Rows("sm04", "user", "LOAD00941"), 0);
}

TEST_F(DeepLink, PortalWithoutLaunchShowsTheLaunchForm) {
  auto r = HttpGet(cluster_->url(), "/portal/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("id=\"portal-launch\""), std::string::npos);
  for (const char* service : {"ess", "webgui"}) {
    EXPECT_NE(
        r->body.find(Cat("/portal/?launch=",
                         UrlEncode(Cat("/scripts/wgate/", service, "/!")))),
        std::string::npos)
        << service;
  }
  EXPECT_EQ(HttpGet(cluster_->url(), "/portal/?launch=")->status, 200);
  EXPECT_EQ(HttpGet(cluster_->url(), "/portal/?launch=http://x/")->status, 400);
}

TEST_F(DeepLink, AdminUrlWithoutBangRedirectsToTheAdminPage) {
  for (const char* path : {"/scripts/wgate/admin/", "/scripts/wgate/admin"}) {
    auto r = HttpGet(cluster_->url(), path);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 302) << path;
    EXPECT_EQ(r->Header("location"), "/scripts/wgate/admin/!");
  }
  auto refresh =
      HttpGet(cluster_->url(), "/scripts/wgate/admin/?refresh=2&x=%0d%0a");
  EXPECT_EQ(refresh->Header("location"), "/scripts/wgate/admin/!?refresh=2");
}

TEST_F(DeepLink, PagesAndAdminViewsShowTheSimulatedTime) {
  Browser b(cluster_->url());
  HttpResult r = b.Get(StartUrl("webgui", "LOAD00951"));
  ASSERT_EQ(r.status, 200);
  std::regex clock(
      "Simulated time [0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} "
      "UTC \\(time scale 1\\)");
  EXPECT_TRUE(std::regex_search(r.body, clock)) << r.body;
  auto admin = HttpGet(cluster_->url(), "/scripts/wgate/admin/!");
  EXPECT_TRUE(std::regex_search(admin->body, clock));
  size_t sessions = Admin(*cluster_, "sessions").size();
  EXPECT_NE(
      admin->body.find(Cat(
          "<span id=\"sessions-count\">",
          sessions == 1 ? "1 session" : Cat(sessions, " sessions"), "</span>")),
      std::string::npos)
      << admin->body;

  auto text =
      RunProgram("itsadm", Cat("--config ", cluster_->config_dir(), " agates"));
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("INCARNATION"), std::string::npos);
  EXPECT_TRUE(std::regex_search(
      text.output,
      std::regex(
          "\\([0-9]+ rows\\)\nsimulated time [0-9/: ]+ UTC \\(time scale "
          "1\\)\n$")))
      << text.output;
  for (const auto& row : Admin(*cluster_, "agates")) {
    EXPECT_TRUE(row["incarnation"].is_number_integer()) << row;
  }
  auto time = RunProgram(
      "itsadm", Cat("--config ", cluster_->config_dir(), " time --json"));
  EXPECT_EQ(time.exit_code, 0) << time.output;
  auto j = nlohmann::json::parse(time.output);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["time_scale"], 1.0);
  EXPECT_GT(j[0]["sim_epoch"].get<int64_t>(), 0);
}

}  // namespace
}  // namespace its::testing
