// SISP and the DSM Terminator over HTTP (docs/sisp-and-dsm.md), and the
// naive-routing lab.
#include <signal.h>

#include <fstream>
#include <regex>

#include "common/gusid.h"
#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

// The SessInfo object a content page hands to the portal.
struct Info {
  std::string gusid, sess_url, last_cmd, redirect;
};
Info SessInfoOf(const std::string& page) {
  Info i;
  auto field = [&](const char* name) {
    std::smatch m;
    std::regex re(std::string("\"") + name + "\":\"([^\"]*)\"");
    if (!std::regex_search(page, m, re)) return std::string();
    return ReplaceAll(std::string(m[1]), "\\u0026", "&");  // JSON escapes '&'
  };
  i.gusid = field("GUSID");
  i.sess_url = field("sessUrl");
  i.last_cmd = field("lastSessCmd");
  i.redirect = field("redirectURL");
  return i;
}

int Count(const nlohmann::json& rows, const std::string& key,
          const std::string& value) {
  int n = 0;
  for (const auto& r : rows) n += r[key] == value;
  return n;
}

class Sisp : public SharedClusterTest {};

TEST_F(Sisp, ContentPagesCarrySessInfoButNotTheSessionSecret) {
  Browser b(cluster_->url());
  HttpResult r = b.Get(StartUrl("ess", "DEMO", "&sapwp_active=1"));
  ASSERT_EQ(r.status, 200);
  Info i = SessInfoOf(r.body);
  EXPECT_EQ(i.last_cmd, "USR_OPEN");
  EXPECT_NE(r.body.find("\"protocolVersion\":\"1.0\""), std::string::npos);
  EXPECT_NE(r.body.find("SAPWP_receiveSessInfo"), std::string::npos);
  auto id = ParseGusid(b.session());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(i.gusid, id->PublicId());
  EXPECT_EQ(r.body.find(id->random),
            std::string::npos);  // the cookie's secret is not in the page
  EXPECT_NE(i.sess_url.find("~termtoken="), std::string::npos);
  // Every later page carries it too; plain sessions carry none.
  EXPECT_EQ(SessInfoOf(b.Get(Step("ess", "~okcode=/00")).body).last_cmd,
            "USR_OPEN");
  Browser plain(cluster_->url());
  EXPECT_EQ(plain.Get(StartUrl("ess", "DEMO2")).body.find("sisp-sessinfo"),
            std::string::npos);
  b.Get(Step("ess", "~okcode=/nex"));
  plain.Get(Step("ess", "~okcode=/nex"));
}

TEST_F(Sisp, UsrAbortWithTheTokenEndsSessionAndLocksAtOnce) {
  Browser b(cluster_->url());
  HttpResult r = b.Get(StartUrl("ess", "LOAD00100", "&sapwp_active=1"));
  b.Get(Step("ess", "~okcode=/00&RP50G-PERNR=8100"));
  Info i = SessInfoOf(r.body);
  ASSERT_EQ(Count(Admin(*cluster_, "sm12"), "argument", "1008100"), 1);

  // A wrong token ends nothing.
  std::string forged =
      std::regex_replace(i.sess_url, std::regex("~termtoken=[0-9a-f]+"),
                         "~termtoken=00000000000000000000000000000000");
  auto bad = HttpGet(cluster_->url(), forged + "&~SAPSessionCmd=USR_ABORT");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(Count(Admin(*cluster_, "sm04"), "user", "LOAD00100"), 1);
  // The token alone cannot run a dialog step.
  auto step = HttpGet(cluster_->url(), i.sess_url + "&~okcode=/00");
  EXPECT_EQ(step->status, 400);

  auto ok = HttpGet(cluster_->url(),
                    i.sess_url + "&~SAPSessionCmd=USR_ABORT");  // no cookie
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(Count(Admin(*cluster_, "sm04"), "user", "LOAD00100"), 0);
  EXPECT_EQ(Count(Admin(*cluster_, "sm12"), "argument", "1008100"), 0);
  HttpResult after = b.Get(Step("ess", "~okcode=/00"));
  EXPECT_EQ(after.status, 400);
  EXPECT_NE(after.body.find("browser window closed"), std::string::npos);
  EXPECT_EQ(SessInfoOf(after.body).last_cmd, "SRV_ERROR");
}

TEST_F(Sisp, TerminatorEndsEveryListedSessionInBothFormats) {
  std::vector<std::unique_ptr<Browser>> users;
  std::vector<Info> infos;
  for (int i = 0; i < 4; ++i) {
    users.push_back(std::make_unique<Browser>(cluster_->url()));
    HttpResult r = users.back()->Get(
        StartUrl("ess", Cat("LOAD0020", i), "&sapwp_active=1"));
    users.back()->Get(Step("ess", Cat("~okcode=/00&RP50G-PERNR=820", i)));
    infos.push_back(SessInfoOf(r.body));
  }
  // TermString: escaped list of escaped URLs (with their commands), as a GET.
  std::string list =
      UrlEncode(infos[0].sess_url + "&~SAPSessionCmd=USR_ABORT") + "&" +
      UrlEncode(infos[1].sess_url + "&~SAPSessionCmd=USR_LOGOFF") + "&" +
      UrlEncode("http://evil.example/steal?x=1");
  auto t =
      HttpGet(cluster_->url(), "/dsm/terminator?TermString=" + UrlEncode(list));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->status, 200);
  auto counts = nlohmann::json::parse(t->body);
  EXPECT_EQ(counts["terminated"], 2);
  EXPECT_EQ(counts["rejected"], 1);
  // Command + SerKeyString, POSTed like navigator.sendBeacon does.
  HttpClient c(cluster_->url());
  std::string keys =
      UrlEncode(infos[2].sess_url) + "&" + UrlEncode(infos[3].sess_url);
  auto beacon = c.Send("POST", "/dsm/terminator",
                       {{"Content-Type", "text/plain;charset=UTF-8"}},
                       "Command=ABORT&SerKeyString=" + UrlEncode(keys));
  ASSERT_TRUE(beacon.ok());
  EXPECT_EQ(nlohmann::json::parse(beacon->body)["terminated"], 2);
  auto sm04 = Admin(*cluster_, "sm04");
  auto sm12 = Admin(*cluster_, "sm12");
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Count(sm04, "user", Cat("LOAD0020", i)), 0) << i;
    EXPECT_EQ(Count(sm12, "argument", Cat("100820", i)), 0) << i;
  }
  // Sending it again ends nothing more.
  auto again =
      HttpGet(cluster_->url(), "/dsm/terminator?TermString=" + UrlEncode(list));
  EXPECT_EQ(nlohmann::json::parse(again->body)["terminated"], 0);
}

// A termination whose owner hangs: not confirmed in time, so "missed" — and
// "unanswered", since it waits in the process's stream and ends the session
// once the process runs again.
TEST(SispHung, ATerminationToAHungProcessIsUnansweredAndStillEndsTheSession) {
  auto c = StartCluster([](toml::table& t) {
    t["wgate"].as_table()->insert_or_assign("step_timeout_s", 2.0);
    if (!t.contains("agate")) t.insert("agate", toml::table{});
    t["agate"].as_table()->insert_or_assign("r3_timeout_s", 1.0);
  });
  ASSERT_NE(c, nullptr);
  Browser b(c->url());
  HttpResult r = b.Get(StartUrl("ess", "LOAD00300", "&sapwp_active=1"));
  ASSERT_EQ(r.status, 200);
  Info info = SessInfoOf(r.body);
  AgateId owner = ServedBy(r);
  ASSERT_GT(owner.pid, 0);
  ASSERT_EQ(kill(owner.pid, SIGSTOP), 0);
  std::string list = UrlEncode(info.sess_url + "&~SAPSessionCmd=USR_ABORT");
  auto t =
      HttpGet(c->url(), "/dsm/terminator?TermString=" + UrlEncode(list), 10000);
  kill(owner.pid, SIGCONT);
  ASSERT_TRUE(t.ok());
  auto counts = nlohmann::json::parse(t->body);
  EXPECT_EQ(counts["terminated"], 0) << t->body;
  EXPECT_EQ(counts["missed"], 1) << t->body;
  EXPECT_EQ(counts["unanswered"], 1) << t->body;
  EXPECT_TRUE(WaitFor(
      [&] { return Count(Admin(*c, "sm04"), "user", "LOAD00300") == 0; }, 5000))
      << Admin(*c, "sm04").dump();
  // Ended now: a second termination misses it, answered.
  auto again =
      HttpGet(c->url(), "/dsm/terminator?TermString=" + UrlEncode(list));
  ASSERT_TRUE(again.ok());
  auto more = nlohmann::json::parse(again->body);
  EXPECT_EQ(more["missed"], 1) << again->body;
  EXPECT_EQ(more["unanswered"], 0) << again->body;
}

// Stops the Mapping Manager of `instance` (its pid in `*mm`, for SIGCONT)
// and restarts the wgate: the new wgate has no directory of that instance.
void HangManagerAndRestartWgate(launcher::Cluster& c,
                                const std::string& instance, pid_t* mm) {
  *mm = c.Find("mapping_manager " + instance)->pid;
  ASSERT_EQ(kill(*mm, SIGSTOP), 0);
  auto wgate = c.Find("wgate");
  ASSERT_EQ(kill(wgate->pid, SIGKILL), 0);
  ASSERT_TRUE(c.WaitRunning("wgate", wgate->pid, 5000));
  ASSERT_TRUE(WaitFor([&] { return HttpGet(c.url(), "/healthz").ok(); }));
}

// A termination the wgate cannot send anywhere yet — restarted, while the
// owner's Mapping Manager hangs, so that instance's directory has not
// arrived — is kept and sent once it arrives. The browser beacons once:
// dropped, it left the session, its R/3 session and its lock until
// ~timeout (found by a fault soak).
TEST(SispHung, ATerminationBeforeTheOwnersDirectoryArrivesIsKept) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  Browser b(c->url());
  HttpResult r = b.Get(StartUrl("ess", "LOAD00310", "&sapwp_active=1"));
  ASSERT_EQ(r.status, 200);
  Info info = SessInfoOf(r.body);
  b.Get(Step("ess", "~okcode=/00&RP50G-PERNR=8310"));
  ASSERT_EQ(Count(Admin(*c, "sm12"), "argument", "1008310"), 1)
      << Admin(*c, "sm12").dump();
  pid_t mm = -1;
  ASSERT_NO_FATAL_FAILURE(
      HangManagerAndRestartWgate(*c, ServedBy(r).instance, &mm));
  HttpClient client(c->url());
  auto beacon = client.Send(
      "POST", "/dsm/terminator", {{"Content-Type", "text/plain;charset=UTF-8"}},
      "Command=ABORT&SerKeyString=" + UrlEncode(UrlEncode(info.sess_url)));
  ASSERT_TRUE(beacon.ok());
  auto counts = nlohmann::json::parse(beacon->body);
  EXPECT_EQ(counts["terminated"], 0) << beacon->body;
  EXPECT_EQ(counts["unanswered"], 1) << beacon->body;
  EXPECT_EQ(Count(Admin(*c, "sm04"), "user", "LOAD00310"), 1)
      << "ended before its owner could be reached?";
  ASSERT_EQ(kill(mm, SIGCONT), 0);
  EXPECT_TRUE(WaitFor(
      [&] { return Count(Admin(*c, "sm04"), "user", "LOAD00310") == 0; }, 5000))
      << "the kept termination never reached the owner";
  EXPECT_EQ(Count(Admin(*c, "sm12"), "argument", "1008310"), 0);
  EXPECT_GE(WgateCounter(c->url(), "its_wgate_terminations_held_total"), 1u);
}

// The same for the old session a new start ends (a browser starts a
// service again with its old cookie): its owner unreachable, the new start
// does not wait for it, and the old session ends once it can be reached.
TEST(SispHung, ANewStartEndsTheOldSessionOnceItsOwnerCanBeReached) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  Browser b(c->url());
  HttpResult r = b.Get(StartUrl("webgui", "LOAD00320"));
  ASSERT_EQ(r.status, 200);
  const std::string instance = ServedBy(r).instance;
  pid_t mm = -1;
  ASSERT_NO_FATAL_FAILURE(HangManagerAndRestartWgate(*c, instance, &mm));
  // The other instance's directory may not be in the new wgate yet
  // ("No free capacity" until it is).
  HttpResult again;
  EXPECT_TRUE(WaitFor(
      [&] {
        again = b.Get(StartUrl("webgui", "LOAD00321"));
        return again.status == 200;
      },
      3000))
      << again.status << " " << again.body;
  EXPECT_NE(ServedBy(again).instance, instance);
  EXPECT_EQ(Count(Admin(*c, "sm04"), "user", "LOAD00320"), 1);
  ASSERT_EQ(kill(mm, SIGCONT), 0);
  EXPECT_TRUE(WaitFor(
      [&] { return Count(Admin(*c, "sm04"), "user", "LOAD00320") == 0; }, 5000))
      << "the old session outlived the new start";
  EXPECT_EQ(Count(Admin(*c, "sm04"), "user", "LOAD00321"), 1);
}

TEST_F(Sisp, HostileTerminatorInputIsCountedAndHarmless) {
  Browser keep(cluster_->url());
  ASSERT_EQ(keep.Get(StartUrl("webgui", "DEMO2", "&sapwp_active=1")).status,
            200);
  auto bad = HttpGet(cluster_->url(), "/dsm/terminator?TermString=%zz");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(HttpGet(cluster_->url(), "/dsm/terminator")->status, 400);
  EXPECT_EQ(HttpGet(cluster_->url(), "/dsm/terminator?Command=ABORT")->status,
            400);
  // Unknown sessions, wrong tokens, foreign hosts, broken escaping: nothing
  // ends.
  std::string list =
      UrlEncode(
          "/scripts/wgate/ess/"
          "?~sessid=IT1-A%3Ah%3A0000.01ffffff&~termtoken=x") +
      "&" + UrlEncode("/scripts/wgate/ess/?~sessid=garbage&~termtoken=x") +
      "&%zz&" +
      UrlEncode(
          "https://10.0.0.1/scripts/wgate/ess/"
          "?~sessid=IT1-A%3Ah%3A0000.01000001&~termtoken=x");
  auto r =
      HttpGet(cluster_->url(), "/dsm/terminator?TermString=" + UrlEncode(list));
  auto counts = nlohmann::json::parse(r->body);
  EXPECT_EQ(counts["terminated"], 0);
  EXPECT_EQ(counts["missed"], 1);
  EXPECT_EQ(counts["rejected"], 3);
  // 10,000 URLs in one request: answered (capped or too large), nothing breaks.
  std::string many;
  for (int i = 0; i < 10000; ++i) {
    many += UrlEncode(Cat("/scripts/wgate/ess/?~sessid=IT1-A%3Ah%3A0000.0100",
                          1000 + i, "&~termtoken=t")) +
            "&";
  }
  HttpClient c(cluster_->url(), 20000);
  auto big = c.Send("POST", "/dsm/terminator",
                    {{"Content-Type", "application/x-www-form-urlencoded"}},
                    "TermString=" + UrlEncode(many));
  ASSERT_TRUE(big.ok()) << big.status().message();
  EXPECT_TRUE(big->status == 200 || big->status == 413) << big->status;
  EXPECT_EQ(keep.Get(Step("webgui", "~okcode=/00")).status, 200);
}

TEST_F(Sisp, LogoffReportsSrvCloseWithTheExitUrl) {
  Browser b(cluster_->url());
  ASSERT_EQ(
      b.Get(StartUrl("webgui", "DEMO", "&sapwp_active=1&~exitURL=/bye.html"))
          .status,
      200);
  HttpResult off = b.Get(Step("webgui", "~okcode=/nex"));
  EXPECT_EQ(off.status, 200);
  Info i = SessInfoOf(off.body);
  EXPECT_EQ(i.last_cmd, "SRV_CLOSE");
  EXPECT_EQ(i.redirect, "/bye.html");
  // Without SISP the browser is redirected; a foreign ~exitURL never is.
  Browser p(cluster_->url());
  p.Get(StartUrl("webgui", "DEMO", "&~exitURL=/bye.html"));
  HttpResult plain = p.Get(Step("webgui", "~okcode=/nex"));
  EXPECT_EQ(plain.status, 302);
  EXPECT_EQ(plain.Header("location"), "/bye.html");
  Browser e(cluster_->url());
  e.Get(StartUrl("webgui", "DEMO", "&~exitURL=http://evil.example/"));
  HttpResult evil = e.Get(Step("webgui", "~okcode=/nex"));
  EXPECT_EQ(evil.status, 200);
  EXPECT_FALSE(evil.Header("location").has_value());
}

TEST_F(Sisp, PortalRefusesForeignLaunchUrls) {
  auto ok = HttpGet(cluster_->url(),
                    "/portal/?launch=" + UrlEncode("/scripts/wgate/ess/!"));
  EXPECT_EQ(ok->status, 200);
  EXPECT_NE(ok->body.find("DSM Monitor"), std::string::npos);
  for (const char* bad : {"http://evil.example/", "//evil.example/x",
                          "/etc/passwd", "javascript:alert(1)"}) {
    auto r = HttpGet(cluster_->url(), Cat("/portal/?launch=", UrlEncode(bad)));
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(r->body.find("evil.example"), std::string::npos);
  }
}

// A counter of the wgate's /metrics, or -1.
long Metric(const launcher::Cluster& c, const std::string& name) {
  auto r = HttpGet(c.url(), "/metrics");
  if (!r.ok()) return -1;
  std::smatch m;
  std::regex line("\n" + name + " ([0-9]+)\n");
  return std::regex_search(r->body, m, line) ? std::stol(m[1]) : -1;
}

// The access-log lines of every instance with entry type `type`.
int AccessLogLines(const launcher::Cluster& c, char type) {
  int n = 0;
  for (const char* instance : {"IT1", "IT2"}) {
    std::ifstream in(Cat(c.config_dir(), "/logs/", instance, "/access.log"));
    for (std::string line; std::getline(in, line);)
      n += line.rfind(Cat(type, " "), 0) == 0;
  }
  return n;
}

// The multi-server misrouting lab (docs/training-labs.md): with routing "naive"
// the termination goes to any process; most land on one that does not own the
// session, and the session and its lock stay until ~timeout. The wgate
// counts each command it sent past the owner, and the process that got it
// writes an access-log line of type 'm'.
void Lab(const std::string& routing, int* ended, int* total) {
  auto c = StartCluster(
      [&](toml::table& t) { t.insert_or_assign("routing", routing); });
  ASSERT_NE(c, nullptr);
  std::vector<std::unique_ptr<Browser>> users;
  std::vector<Info> infos;
  *total = 12;
  for (int i = 0; i < *total; ++i) {
    users.push_back(std::make_unique<Browser>(c->url()));
    HttpResult r = users.back()->Get(
        StartUrl("ess", Cat("LOAD003", 10 + i), "&sapwp_active=1"));
    ASSERT_EQ(r.status, 200);
    users.back()->Get(Step("ess", Cat("~okcode=/00&RP50G-PERNR=93", 10 + i)));
    infos.push_back(SessInfoOf(r.body));
  }
  for (const Info& i : infos) {
    auto r = HttpGet(c->url(), i.sess_url + "&~SAPSessionCmd=USR_ABORT");
    EXPECT_TRUE(r.ok());
  }
  auto sm04 = Admin(*c, "sm04");
  auto sm12 = Admin(*c, "sm12");
  *ended = 0;
  for (int i = 0; i < *total; ++i) {
    bool gone = Count(sm04, "user", Cat("LOAD003", 10 + i)) == 0;
    bool unlocked = Count(sm12, "argument", Cat("10093", 10 + i)) == 0;
    EXPECT_EQ(gone, unlocked) << "a session and its lock end together";
    *ended += gone;
  }
  const int missed = *total - *ended;
  EXPECT_EQ(Metric(*c, "its_wgate_misrouted_commands_total"), missed);
  // The agates flush their access log every 250 ms.
  EXPECT_TRUE(WaitFor([&] { return AccessLogLines(*c, 'm') == missed; }, 3000))
      << AccessLogLines(*c, 'm') << " 'm' lines, " << missed << " missed";
}

TEST(RoutingLab, StickyRoutingEndsEverySession) {
  int ended = 0, total = 0;
  Lab("sticky", &ended, &total);
  EXPECT_EQ(ended, total);
}

TEST(RoutingLab, NaiveRoutingMissesTheOwner) {
  int ended = 0, total = 0;
  Lab("naive", &ended, &total);
  // 4 processes: each termination reaches the owner with p = 1/4; all 12
  // would happen with p = 6e-8. Missed sessions still hold their locks.
  EXPECT_LT(ended, total);
}

}  // namespace
}  // namespace its::testing
