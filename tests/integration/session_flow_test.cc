// The user-visible session flow, over HTTP against real processes:
// the five steps, routing by cookie, PA30 locks, logoff, itsadm.
#include <cstdio>
#include <regex>

#include "common/gusid.h"
#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

class SessionFlow : public SharedClusterTest {
 protected:
  static uint64_t Metric(const std::string& name) {
    return WgateCounter(cluster_->url(), name);
  }
};

TEST_F(SessionFlow, NewSessionTakesFiveStepsAndTheHighestPid) {
  Browser b(cluster_->url());
  HttpResult r = b.Get(StartUrl("webgui", "DEMO", "&~transaction=FB03"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("x-its-steps"), "1,2,3,4,5");
  EXPECT_NE(r.body.find("Display Document: Initial Screen"), std::string::npos);
  // Cookie: ~session=<GUSID, URL-encoded>; HttpOnly; SameSite=Lax;
  // Path=/scripts/wgate/webgui/
  auto cookies = r.Headers("set-cookie");
  ASSERT_EQ(cookies.size(), 1u);
  EXPECT_NE(cookies[0].find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookies[0].find("SameSite=Lax"), std::string::npos);
  EXPECT_NE(cookies[0].find("Path=/scripts/wgate/webgui/"), std::string::npos);
  std::regex gusid(
      "IT[12]-A:[A-Za-z0-9.-]+:[0-9a-f]{4}\\.[0-9a-f]{8}\\.[0-9a-f]{32}");
  EXPECT_TRUE(std::regex_match(b.session(), gusid)) << b.session();

  // The process that took it has the highest PID of its instance's live
  // processes.
  AgateId served = ServedBy(r);
  int highest = 0;
  for (const auto& p : Admin(*cluster_, "agates")) {
    if (p["instance"] == served.instance && p["state"] == "up") {
      highest = std::max(highest, p["pid"].get<int>());
    }
  }
  EXPECT_EQ(served.pid, highest);
  EXPECT_EQ(b.session().substr(0, 3), served.instance);
}

TEST_F(SessionFlow, LaterRequestsGoStraightToTheOwner) {
  Browser b(cluster_->url());
  HttpResult first = b.Get(StartUrl("webgui", "DEMO", "&~transaction=FB03"));
  ASSERT_EQ(first.status, 200);
  uint64_t assigns = Metric("its_wgate_assign_calls_total");
  for (int i = 0; i < 5; ++i) {
    // Screen 100 takes the document number; screen 700 only shows it again.
    HttpResult r = b.Post(Step("webgui", ""), "~okcode=%2F00&RF05L-BELNR=" +
                                                  std::to_string(4700 + i));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("x-its-steps"), "1,4,5");
    EXPECT_EQ(r.Header("x-its-agate"), first.Header("x-its-agate"));
    EXPECT_NE(r.body.find("<output id=\"RF05L-BELNR\">4700<"),
              std::string::npos);
  }
  EXPECT_EQ(Metric("its_wgate_assign_calls_total"),
            assigns);  // no Mapping Manager call
}

TEST_F(SessionFlow, Pa30LocksAndTellsTheSecondUserWhoHoldsIt) {
  Browser a(cluster_->url()), b(cluster_->url());
  ASSERT_EQ(a.Get(StartUrl("ess", "DEMO")).status, 200);
  ASSERT_EQ(b.Get(StartUrl("ess", "DEMO2")).status, 200);
  HttpResult opened = a.Get(Step("ess", "~okcode=/00&RP50G-PERNR=4242"));
  ASSERT_NE(opened.body.find("Change Addresses"), std::string::npos)
      << opened.body;
  auto locks = Admin(*cluster_, "sm12");
  bool found = false;
  for (const auto& l : locks) {
    found |= l["table"] == "PA0006" && l["user"] == "DEMO" &&
             l["mode"] == "E" && l["argument"] == "1004242" &&
             l["client"] == "100";
  }
  EXPECT_TRUE(found) << locks.dump();

  HttpResult refused = b.Get(Step("ess", "~okcode=/00&RP50G-PERNR=4242"));
  EXPECT_NE(refused.body.find("Personnel number 4242 is locked by user DEMO"),
            std::string::npos);

  HttpResult saved = a.Get(Step("ess", "~okcode=UPD&P0006-ORT01=Heidelberg"));
  EXPECT_NE(saved.body.find("Record saved"), std::string::npos);
  for (const auto& l : Admin(*cluster_, "sm12"))
    EXPECT_NE(l["argument"], "1004242");
  HttpResult now = b.Get(Step("ess", "~okcode=/00&RP50G-PERNR=4242"));
  EXPECT_NE(now.body.find("Heidelberg"), std::string::npos);
  b.Get(Step("ess", "~okcode=/nex"));
  a.Get(Step("ess", "~okcode=/nex"));
}

TEST_F(SessionFlow, LogoffEndsTheR3SessionLocksAndCookie) {
  for (std::string logoff : {"~okcode=/nex", "~command=logoff"}) {
    Browser b(cluster_->url());
    ASSERT_EQ(b.Get(StartUrl("ess", "DEMO2")).status, 200);
    b.Get(Step("ess", "~okcode=/00&RP50G-PERNR=777"));
    std::string old = b.raw_cookie();
    auto users = [&] {
      int n = 0;
      for (const auto& u : Admin(*cluster_, "sm04")) n += u["user"] == "DEMO2";
      return n;
    };
    EXPECT_EQ(users(), 1);
    HttpResult off = b.Get(Step("ess", logoff));
    EXPECT_EQ(off.status, 200);
    EXPECT_EQ(off.Header("x-its-steps"), "1,4,5");  // R/3 logged it off
    EXPECT_TRUE(b.raw_cookie().empty()) << "cookie not cleared";
    EXPECT_EQ(users(), 0) << logoff;
    for (const auto& l : Admin(*cluster_, "sm12"))
      EXPECT_NE(l["argument"], "100777");

    b.set_cookie(old);
    HttpResult again = b.Get(Step("ess", "~okcode=/00"));
    EXPECT_EQ(again.status, 400);
    EXPECT_EQ(again.Header("x-its-steps"), "1,4");  // no R/3 call
    EXPECT_NE(again.body.find("logged off"), std::string::npos) << again.body;
    EXPECT_EQ(again.body.find("Change Addresses"), std::string::npos);
    EXPECT_EQ(again.body.find("777"), std::string::npos);
  }
}

// X-ITS-Steps names only the steps that took place, as the trace does.
TEST_F(SessionFlow, StepsOfASessionsRequestAreOnlyThoseDone) {
  Browser b(cluster_->url());
  ASSERT_EQ(b.Get(StartUrl("webgui", "DEMO")).status, 200);
  const std::string good = b.raw_cookie();
  // A GUSID the wgate cannot route: it answers alone (step 1).
  b.set_cookie("garbage");
  HttpResult forged = b.Get(Step("webgui", "~okcode=/00"));
  EXPECT_EQ(forged.status, 400);
  EXPECT_EQ(forged.Header("x-its-steps"), "1");
  EXPECT_FALSE(forged.Header("x-its-agate"));
  EXPECT_EQ(forged.Header("content-security-policy"), "frame-ancestors 'self'");
  // One that does not even decode gets "No session", and it goes too.
  b.set_cookie("%zz");
  HttpResult broken = b.Get(Step("webgui", "~okcode=/00"));
  EXPECT_EQ(broken.status, 400);
  EXPECT_NE(broken.body.find("No session"), std::string::npos);
  EXPECT_TRUE(b.raw_cookie().empty()) << "cookie not cleared";
  // The owner's ID with a wrong random part: the process looks, finds no
  // session, and R/3 is not called (steps 1, 4).
  std::string wrong = good;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  b.set_cookie(wrong);
  HttpResult guessed = b.Get(Step("webgui", "~okcode=/00"));
  EXPECT_EQ(guessed.status, 400) << guessed.body;
  EXPECT_EQ(guessed.Header("x-its-steps"), "1,4");
  // The right random part under another host: not this process's ID.
  std::string host_swapped = good;
  const std::string loopback = "127.0.0.1";
  size_t at = host_swapped.find(loopback);
  ASSERT_NE(at, std::string::npos) << good;
  host_swapped.replace(at, loopback.size(), "evil.host");
  b.set_cookie(host_swapped);
  HttpResult evil = b.Get(Step("webgui", "~okcode=/00"));
  EXPECT_EQ(evil.status, 400) << evil.body;
  EXPECT_EQ(evil.Header("x-its-steps"), "1,4");
  b.set_cookie(good);
  EXPECT_EQ(b.Get(Step("webgui", "~okcode=/00")).Header("x-its-steps"),
            "1,4,5");
  b.Get(Step("webgui", "~okcode=/nex"));
}

// A crafted link naming another session must not clear the cookie of the
// user's live session (which would leave it and its locks to ~timeout).
TEST_F(SessionFlow, ARefusedSessionInTheUrlLeavesTheCookieOfTheLiveOne) {
  Browser b(cluster_->url());
  ASSERT_EQ(b.Get(StartUrl("webgui", "DEMO")).status, 200);
  const std::string cookie = b.raw_cookie();
  std::string other = b.session();
  other.back() = other.back() == '0' ? '1' : '0';  // wrong random part
  const std::string public_id = other.substr(0, other.rfind('.'));
  for (const std::string& link :
       {Step("webgui", "~okcode=/00&~session=" + UrlEncode(other)),
        // Prefixes of its own ID are other sessions too (or none).
        Step("webgui", "~okcode=/00&~session=" + UrlEncode(public_id)),
        Step("webgui", "~okcode=/00&~session=" +
                           UrlEncode(other.substr(0, other.find('.')))),
        Step("webgui", "~SAPSessionCmd=USR_ABORT&~sessid=" +
                           UrlEncode(other.substr(0, other.rfind('.'))) +
                           "&~termtoken=bad")}) {
    HttpResult r = b.Get(link);
    EXPECT_EQ(r.status, 400) << link << "\n" << r.body;
    EXPECT_TRUE(r.Headers("set-cookie").empty()) << link;
    EXPECT_EQ(b.raw_cookie(), cookie);
  }
  EXPECT_EQ(b.Get(Step("webgui", "~okcode=/00")).status, 200);
  // Naming its own session in the URL and logging off clears it as before.
  HttpResult off =
      b.Get(Step("webgui", "~okcode=/nex&~session=" + UrlEncode(b.session())));
  EXPECT_EQ(off.status, 200);
  EXPECT_TRUE(b.raw_cookie().empty());
}

// A session serves the service it was started for: its cookie sent through
// another service's URL reaches nothing (and ends nothing).
TEST_F(SessionFlow, ASessionIsBoundToItsService) {
  Browser b(cluster_->url());
  ASSERT_EQ(b.Get(StartUrl("webgui", "DEMO")).status, 200);
  const std::string cookie = b.raw_cookie();
  HttpResult other = b.Get(Step("ess", "~okcode=/00"));
  EXPECT_EQ(other.status, 400) << other.body;
  EXPECT_EQ(other.body.find("FB03"), std::string::npos);
  HttpResult abort = b.Get(Step("ess", "~SAPSessionCmd=USR_ABORT"));
  EXPECT_EQ(abort.status, 400) << abort.body;
  b.set_cookie(cookie);
  EXPECT_EQ(b.Get(Step("webgui", "~okcode=/00")).status, 200);
  b.Get(Step("webgui", "~okcode=/nex"));
}

TEST_F(SessionFlow, MissingLogonDataGivesTheLogonPageAndWrongPasswordSaysSo) {
  Browser b(cluster_->url());
  HttpResult page = b.Get("/scripts/wgate/webgui/!?~transaction=FB03");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.Header("x-its-steps"), "1");
  EXPECT_NE(page.body.find("name=\"~password\""), std::string::npos);
  // The logon form may not be framed by another site (clickjacking).
  EXPECT_EQ(page.Header("content-security-policy"), "frame-ancestors 'self'");
  EXPECT_TRUE(b.raw_cookie().empty());  // no session before a logon
  HttpResult wrong =
      b.Post("/scripts/wgate/webgui/!",
             "~transaction=FB03&~client=100&~login=DEMO&~password=nope");
  EXPECT_NE(wrong.body.find("Name or password is incorrect (repeat logon)"),
            std::string::npos);
  EXPECT_EQ(wrong.body.find("nope"), std::string::npos);  // never echoed
  EXPECT_TRUE(b.raw_cookie().empty());
  HttpResult ok =
      b.Post("/scripts/wgate/webgui/!",
             "~transaction=FB03&~client=100&~login=DEMO&~password=welcome");
  EXPECT_EQ(ok.status, 200);
  EXPECT_FALSE(b.raw_cookie().empty());
}

TEST_F(SessionFlow, CookiesOffPutsTheSessionIntoTheUrl) {
  Browser b(cluster_->url());
  HttpResult r = b.Get(StartUrl("webgui", "DEMO", "&~cookies=0"));
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.Headers("set-cookie").empty());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.body, m,
      std::regex("action=\"/scripts/wgate/webgui/\\?~session=([^\"]+)\"")));
  std::string id = m[1];
  HttpResult step =
      b.Get(Step("webgui", "~session=" + id + "&~okcode=/00&RF05L-BELNR=1"));
  EXPECT_EQ(step.status, 200);
  EXPECT_EQ(step.Header("x-its-steps"), "1,4,5");
  // Every later page carries it too (read once at logon, kept per session).
  std::smatch again;
  ASSERT_TRUE(std::regex_search(
      step.body, again,
      std::regex("action=\"/scripts/wgate/webgui/\\?~session=([^\"]+)\"")));
  EXPECT_EQ(again[1], id);
}

TEST_F(SessionFlow, ItsadmPrintsTheContractJson) {
  Browser b(cluster_->url());
  ASSERT_EQ(b.Get(StartUrl("webgui", "DEMO")).status, 200);
  auto run = [&](const std::string& cmd) {
    std::string line = Cat(ITS_BIN_DIR, "/itsadm --config ",
                           cluster_->config_dir(), " ", cmd, " --json");
    FILE* f = popen(line.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    EXPECT_EQ(pclose(f), 0) << line;
    return nlohmann::json::parse(out);
  };
  auto agates = run("agates");
  ASSERT_GE(agates.size(), 4u);
  for (const char* key :
       {"instance", "process", "pid", "address", "sessions", "max_sessions",
        "busy_threads", "max_threads", "weight", "state"}) {
    EXPECT_TRUE(agates[0].contains(key)) << key;
  }
  auto sm04 = run("sm04");
  ASSERT_GE(sm04.size(), 1u);
  for (const char* key :
       {"client", "user", "terminal", "tcode", "type", "last_step"}) {
    EXPECT_TRUE(sm04[0].contains(key)) << key;
  }
  auto sessions = run("sessions");
  EXPECT_GE(sessions.size(), 1u);
  EXPECT_TRUE(run("sm12").is_array());
  // A broken configuration is named.
  FILE* f = popen(
      Cat(ITS_BIN_DIR, "/itsadm --config /nonexistent agates 2>&1").c_str(),
      "r");
  char buf[512] = {0};
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  EXPECT_NE(pclose(f), 0);
  EXPECT_NE(std::string(buf).find("/nonexistent/cluster.toml"),
            std::string::npos)
      << buf;
}

TEST_F(SessionFlow, AdminPageHealthAndMetrics) {
  Browser b(cluster_->url());
  ASSERT_EQ(b.Get(StartUrl("ess", "LOAD00077")).status, 200);
  b.Get(Step("ess", "~okcode=/00&RP50G-PERNR=7777"));
  auto admin = HttpGet(cluster_->url(), "/scripts/wgate/admin/!?refresh=5");
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->status, 200);
  for (const char* part :
       {"SM04 User List", "SM05 HTTP Security Sessions", "SM12 Lock Entries",
        "ITS sessions", "LOAD00077", "1007777", "content=\"5\""}) {
    EXPECT_NE(admin->body.find(part), std::string::npos) << part;
  }
  auto id = ParseGusid(b.session());
  ASSERT_TRUE(id.ok());
  EXPECT_NE(admin->body.find(id->PublicId()), std::string::npos);
  EXPECT_EQ(admin->body.find(id->random),
            std::string::npos);  // never the session secret
  EXPECT_EQ(HttpGet(cluster_->url(), "/healthz")->status, 200);
  auto metrics = HttpGet(cluster_->url(), "/metrics");
  EXPECT_NE(metrics->body.find("# TYPE its_wgate_requests_total counter"),
            std::string::npos);
}

}  // namespace
}  // namespace its::testing
