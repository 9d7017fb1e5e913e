// Request tracing (docs/architecture.md §7.1) against real processes: a new
// session's trace has steps 1-5 with the chosen process and the session ID,
// a later request's steps 1, 4, 5; a client's traceparent is kept, a
// malformed one replaced; the access log, the footer link and itsadm trace
// name the trace.
#include <fstream>
#include <regex>
#include <sstream>

#include "common/gusid.h"
#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

using nlohmann::json;

class Tracing : public SharedClusterTest {
 protected:
  static json TraceOf(const std::string& id) {
    auto r = HttpGet(cluster_->url(), Cat("/trace/", id, ".json"));
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return json();
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body, nullptr, false);
  }
  // The spans of `trace` at `step`.
  static std::vector<json> AtStep(const json& trace, int step) {
    std::vector<json> out;
    for (const json& s : trace["spans"])
      if (s["step"] == step) out.push_back(s);
    return out;
  }
  static std::string AccessLogs() {
    std::string all;
    for (const char* inst : {"IT1", "IT2"}) {
      std::ifstream in(
          Cat(cluster_->config_dir(), "/logs/", inst, "/access.log"));
      std::stringstream ss;
      ss << in.rdbuf();
      all += ss.str();
    }
    return all;
  }
};

TEST_F(Tracing, NewSessionShowsFiveStepsThenALaterRequestOneFourFive) {
  Browser b(cluster_->url());
  HttpResult r = b.Get(StartUrl("webgui", "DEMO", "&~transaction=FB03"));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.Header("x-its-steps"), "1,2,3,4,5");
  auto id = r.Header("x-its-trace");
  ASSERT_TRUE(id);
  ASSERT_TRUE(std::regex_match(*id, std::regex("[0-9a-f]{32}"))) << *id;
  // The page's footer links to its trace.
  EXPECT_NE(r.body.find(Cat("href=\"/trace/", *id, "\"")), std::string::npos);
  AgateId served = ServedBy(r);
  auto gusid = ParseGusid(b.session());
  ASSERT_TRUE(gusid.ok());

  json t = TraceOf(*id);
  ASSERT_FALSE(t.is_discarded());
  EXPECT_EQ(t["trace_id"], *id);
  EXPECT_EQ(t["steps"], json({1, 2, 3, 4, 5}));
  EXPECT_TRUE(t["missing"].empty()) << t["missing"].dump();
  auto root = AtStep(t, 0), one = AtStep(t, 1), two = AtStep(t, 2),
       three = AtStep(t, 3), four = AtStep(t, 4), five = AtStep(t, 5);
  ASSERT_EQ(root.size(), 1u);
  ASSERT_EQ(one.size(), 1u);
  ASSERT_GE(two.size(), 1u);
  ASSERT_EQ(three.size(), two.size());
  ASSERT_EQ(four.size(), 1u);
  ASSERT_EQ(five.size(), 1u);
  EXPECT_EQ(root[0]["attrs"]["status"], "200");
  // Step 1: the instance weights considered.
  EXPECT_NE(one[0]["decided"].get<std::string>().find("IT1 free"),
            std::string::npos);
  EXPECT_NE(one[0]["decided"].get<std::string>().find("IT2 free"),
            std::string::npos);
  // Step 3 (the last Assign): the Mapping Manager of the served instance
  // chose the process that answered, by the highest PID, among candidates
  // with their w.
  const json& chose = three.back();
  EXPECT_EQ(chose["process"], Cat("mapping_manager ", served.instance));
  EXPECT_EQ(chose["attrs"]["process"], Cat(served.process));
  EXPECT_EQ(chose["attrs"]["pid"], Cat(served.pid));
  EXPECT_EQ(chose["attrs"]["reason"], "highest PID");
  EXPECT_NE(chose["attrs"]["why"].get<std::string>().find(" w 1.00"),
            std::string::npos);
  EXPECT_EQ(chose["parent_id"], two.back()["span_id"]);  // a child of step 2
  // Step 4: that process issued the session ID (its public part only).
  EXPECT_EQ(four[0]["process"],
            Cat("agate ", served.instance, "/", served.process));
  EXPECT_EQ(four[0]["pid"], served.pid);
  EXPECT_EQ(four[0]["attrs"]["session"], gusid->PublicId());
  EXPECT_EQ(four[0]["decided"].get<std::string>().find(gusid->random),
            std::string::npos);
  EXPECT_EQ(four[0]["parent_id"], root[0]["span_id"]);
  // Step 5: the R/3 logon, a child of the agate's span.
  EXPECT_EQ(five[0]["process"], "r3_stub");
  EXPECT_EQ(five[0]["attrs"]["action"], "logon");
  EXPECT_EQ(five[0]["parent_id"], four[0]["span_id"]);

  // A later request of the session: steps 1, 4, 5, no Mapping Manager.
  HttpResult later =
      b.Post(Step("webgui", ""), "~okcode=%2F00&RF05L-BELNR=4711");
  ASSERT_EQ(later.status, 200) << later.body;
  auto later_id = later.Header("x-its-trace");
  ASSERT_TRUE(later_id);
  EXPECT_NE(*later_id, *id);
  json lt = TraceOf(*later_id);
  EXPECT_EQ(lt["steps"], json({1, 4, 5}));
  auto route = AtStep(lt, 1);
  ASSERT_EQ(route.size(), 1u);
  EXPECT_EQ(route[0]["attrs"]["pid"], Cat(served.pid));
  auto step4 = AtStep(lt, 4);
  ASSERT_EQ(step4.size(), 1u);
  EXPECT_EQ(step4[0]["pid"], served.pid);
  EXPECT_EQ(step4[0]["attrs"]["outcome"], "PAGE");
  auto step5 = AtStep(lt, 5);
  ASSERT_EQ(step5.size(), 1u);
  EXPECT_EQ(step5[0]["attrs"]["action"], "step");

  // The page draws the same: five numbered arrows of the new session.
  auto page = HttpGet(cluster_->url(), Cat("/trace/", *id));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->status, 200);
  for (int step = 1; step <= 5; ++step) {
    EXPECT_NE(page->body.find(Cat("class=\"step\" data-step=\"", step, "\"")),
              std::string::npos)
        << step;
  }
  // Both requests' access-log lines end with their trace.
  EXPECT_TRUE(WaitFor([&] {
    std::string logs = AccessLogs();
    return logs.find(Cat(" trace=", *id, "\n")) != std::string::npos &&
           logs.find(Cat(" trace=", *later_id, "\n")) != std::string::npos;
  }));

  // itsadm trace prints it; --json one object per span.
  ProgramRun text = RunProgram(
      "itsadm", Cat("--config ", cluster_->config_dir(), " trace ", *id));
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("steps 1,2,3,4,5"), std::string::npos)
      << text.output;
  EXPECT_NE(text.output.find(Cat("mapping_manager ", served.instance)),
            std::string::npos);
  ProgramRun js = RunProgram("itsadm", Cat("--config ", cluster_->config_dir(),
                                           " trace ", *later_id, " --json"));
  ASSERT_EQ(js.exit_code, 0) << js.output;
  json rows = json::parse(js.output, nullptr, false);
  ASSERT_TRUE(rows.is_array()) << js.output;
  EXPECT_EQ(rows.size(), 4u);  // the request, steps 1, 4, 5
}

// A logoff is a request like any other: its access-log line names the
// client and the trace, and the trace shows R/3 logging the user off.
TEST_F(Tracing, ALogoffIsTracedAndLoggedWithItsClient) {
  Browser b(cluster_->url());
  ASSERT_EQ(b.Get(StartUrl("webgui", "DEMO2")).status, 200);
  HttpResult off = b.Get(Step("webgui", "~okcode=/nex"));
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(off.Header("x-its-steps"), "1,4,5");
  auto id = off.Header("x-its-trace");
  ASSERT_TRUE(id);
  std::string line;
  EXPECT_TRUE(WaitFor([&] {
    std::stringstream logs(AccessLogs());
    for (std::string l; std::getline(logs, l);) {
      if (l.find(Cat(" trace=", *id)) != std::string::npos) line = l;
    }
    return !line.empty();
  }));
  EXPECT_EQ(line.substr(0, 2), "l ") << line;
  EXPECT_NE(line.find(" 127.0.0.1 "), std::string::npos) << line;
  EXPECT_NE(line.find("session ended: /nex"), std::string::npos) << line;
  json trace = TraceOf(*id);
  auto step5 = AtStep(trace, 5);
  ASSERT_EQ(step5.size(), 1u) << trace.dump();
  EXPECT_EQ(step5[0]["attrs"]["action"], "logoff") << trace.dump();
}

TEST_F(Tracing, AClientsTraceparentIsKeptAMalformedOneReplaced) {
  const std::string mine = "0af7651916cd43dd8448eb211c80319c";
  HttpClient http(cluster_->url());
  auto r =
      http.Send("GET", StartUrl("webgui", "DEMO2", "&~transaction=FB03"),
                {{"traceparent", Cat("00-", mine, "-b7ad6b7169203331-01")}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->Header("x-its-trace"), mine);
  json t = TraceOf(mine);
  auto root = AtStep(t, 0);
  ASSERT_EQ(root.size(), 1u);
  EXPECT_EQ(root[0]["parent_id"], "b7ad6b7169203331");  // the client's span
  EXPECT_EQ(t["steps"], json({1, 2, 3, 4, 5}));

  for (const std::string& bad : std::vector<std::string>{
           Cat("00-", ToUpper(mine), "-b7ad6b7169203331-01"),
           std::string(
               "00-00000000000000000000000000000000-b7ad6b7169203331-01"),
           Cat("01-", mine, "-b7ad6b7169203331-01"),
           Cat("00-", mine, "-b7ad6b7169203331-01-00"), "<script>"}) {
    auto bad_r =
        http.Send("GET", "/scripts/wgate/webgui/!", {{"traceparent", bad}});
    ASSERT_TRUE(bad_r.ok());
    EXPECT_EQ(bad_r->status, 200) << bad;  // the logon page, traced anew
    auto id = bad_r->Header("x-its-trace");
    ASSERT_TRUE(id) << bad;
    EXPECT_TRUE(std::regex_match(*id, std::regex("[0-9a-f]{32}"))) << *id;
    EXPECT_NE(*id, mine) << bad;
  }
}

TEST_F(Tracing, HostileSessionIdsAndOkcodesStayShortAndPrintable) {
  Browser b(cluster_->url());
  ASSERT_EQ(b.Get(StartUrl("webgui", "DEMO", "&~transaction=FB03")).status,
            200);
  // A long function code with control characters. (Bytes that are not
  // UTF-8 cannot reach the agate at all: proto3 strings.)
  HttpResult r = b.Post(Step("webgui", ""),
                        Cat("~okcode=%2F", std::string(4000, 'x'), "%01%1B"));
  auto id = r.Header("x-its-trace");
  ASSERT_TRUE(id);
  json t = TraceOf(*id);
  ASSERT_FALSE(t.is_discarded());
  EXPECT_TRUE(t["missing"].empty()) << t["missing"].dump();
  auto five = AtStep(t, 5);
  ASSERT_EQ(five.size(), 1u) << r.status << " " << t.dump();
  EXPECT_LT(five[0]["decided"].get<std::string>().size(), 100u);
  // A forged session ID with such bytes: the agate's span shows it printable.
  b.set_cookie(Cat("IT1-A%3Avm%3A0001.01000001%01%1B", std::string(300, 'a')));
  r = b.Post(Step("webgui", ""), "~okcode=%2F00");
  EXPECT_EQ(r.status, 400);
  id = r.Header("x-its-trace");
  ASSERT_TRUE(id);
  t = TraceOf(*id);
  ASSERT_FALSE(t.is_discarded());
  EXPECT_TRUE(t["missing"].empty()) << t["missing"].dump();
  for (const json& s : AtStep(t, 4)) {
    std::string session = s["attrs"]["session"];
    EXPECT_LE(session.size(), 120u);
    for (char c : session) EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << session;
  }
}

TEST_F(Tracing, UnknownAndMalformedTraceIdsGetClearErrors) {
  auto unknown =
      HttpGet(cluster_->url(), "/trace/0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404);
  EXPECT_NE(unknown->body.find("Trace not found"), std::string::npos);
  for (const char* bad : {"/trace/xyz", "/trace/../../etc/passwd",
                          "/trace/0123456789ABCDEF0123456789ABCDEF.json"}) {
    auto r = HttpGet(cluster_->url(), bad);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << bad;
  }
  ProgramRun run = RunProgram(
      "itsadm", Cat("--config ", cluster_->config_dir(), " trace nonsense"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  run = RunProgram("itsadm", Cat("--config ", cluster_->config_dir(),
                                 " trace 0123456789abcdef0123456789abcdef"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  // The list of recent traces links to them.
  auto list = HttpGet(cluster_->url(), "/trace/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->status, 200);
  EXPECT_NE(list->body.find("Recent traces"), std::string::npos);
}

}  // namespace
}  // namespace its::testing
