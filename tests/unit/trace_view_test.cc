#include "wgate/trace_view.h"

#include <gtest/gtest.h>

#include "wgate/router.h"

namespace its::wgate {
namespace {

proto::TraceSpan MakeSpan(int step, uint64_t id, uint64_t parent,
                          const std::string& process, int64_t start,
                          const std::string& decided) {
  proto::TraceSpan s;
  s.set_step(step);
  s.set_span_id(id);
  s.set_parent_id(parent);
  s.set_process(process);
  s.set_pid(100 + step);
  s.set_start_us(start);
  s.set_end_us(start + 1500);
  s.set_decided(decided);
  return s;
}

std::vector<proto::TraceSpan> NewSession() {
  // Out of order, as the processes answer.
  std::vector<proto::TraceSpan> v;
  v.push_back(MakeSpan(5, 6, 5, "r3_stub", 1030, "R/3 logon of DEMO"));
  v.push_back(MakeSpan(3, 4, 3, "mapping_manager IT1", 1010,
                       "process 1 (pid 42): highest PID"));
  (*v.back().mutable_attrs())["instance"] = "IT1";
  (*v.back().mutable_attrs())["chosen"] = "process 1 (pid 42)";
  (*v.back().mutable_attrs())["reason"] = "highest PID";
  v.push_back(MakeSpan(0, 1, 0, "wgate", 1000, "GET /scripts/wgate/webgui/!"));
  (*v.back().mutable_attrs())["status"] = "200";
  v.push_back(MakeSpan(4, 5, 1, "agate IT1/1", 1020,
                       "session <script>alert(1)</script> issued"));
  v.push_back(MakeSpan(2, 3, 1, "wgate", 1005, "Assign at IT1"));
  (*v.back().mutable_attrs())["instance"] = "IT1";
  v.push_back(MakeSpan(1, 2, 1, "wgate", 1001, "instance IT1 drawn"));
  return v;
}

TEST(TraceView, JsonOrdersSpansByStepAndListsTheSteps) {
  TraceId t{0xabc, 0xdef};
  nlohmann::json j = TraceJson(t, NewSession(), {"r3_stub did not answer"});
  EXPECT_EQ(j["trace_id"], "0000000000000abc0000000000000def");
  EXPECT_EQ(j["steps"], nlohmann::json({1, 2, 3, 4, 5}));
  ASSERT_EQ(j["spans"].size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(j["spans"][i]["step"], i);
  EXPECT_EQ(j["spans"][3]["parent_id"], "0000000000000003");
  EXPECT_DOUBLE_EQ(j["spans"][0]["duration_ms"].get<double>(), 1.5);
  EXPECT_EQ(j["missing"][0], "r3_stub did not answer");
}

TEST(TraceView, PageDrawsOneArrowPerStepAndEscapesWhatProcessesSaid) {
  nlohmann::json j = TraceJson(TraceId{1, 2}, NewSession(), {"gone <b>"});
  std::string html = TraceHtml(j);
  for (int step = 0; step <= 5; ++step) {
    EXPECT_NE(
        html.find("class=\"step\" data-step=\"" + std::to_string(step) + "\""),
        std::string::npos)
        << step;
  }
  EXPECT_NE(html.find(">Mapping Manager IT1<"), std::string::npos);
  EXPECT_NE(html.find(">agate IT1/1 (pid 104)<"), std::string::npos);
  EXPECT_NE(html.find(">r3_stub (R/3)<"), std::string::npos);
  EXPECT_NE(html.find("3 process 1 (pid 42): highest PID"), std::string::npos);
  EXPECT_NE(html.find("HTTP 200"), std::string::npos);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert"), std::string::npos);
  EXPECT_NE(html.find("gone &lt;b&gt;"), std::string::npos);  // missing
  // A later request: no Mapping Manager lifeline.
  std::vector<proto::TraceSpan> later;
  for (auto& s : NewSession())
    if (s.step() != 2 && s.step() != 3) later.push_back(s);
  nlohmann::json l = TraceJson(TraceId{1, 3}, later, {});
  EXPECT_EQ(l["steps"], nlohmann::json({1, 4, 5}));
  EXPECT_EQ(TraceHtml(l).find("Mapping Manager"), std::string::npos);
}

TEST(TraceView, RouterKnowsTheTracePaths) {
  EXPECT_EQ(RoutePath("/trace/").kind, Endpoint::kTraceList);
  EXPECT_EQ(RoutePath("/trace").kind, Endpoint::kTraceList);
  Endpoint e = RoutePath("/trace/0123456789abcdef0123456789abcdef");
  EXPECT_EQ(e.kind, Endpoint::kTrace);
  EXPECT_EQ(e.trace, "0123456789abcdef0123456789abcdef");
  e = RoutePath("/trace/0123456789abcdef0123456789abcdef.json");
  EXPECT_EQ(e.kind, Endpoint::kTraceJson);
  EXPECT_EQ(e.trace, "0123456789abcdef0123456789abcdef");
  // Anything else under /trace/ reaches the handler, which checks the ID
  // (400); only the first 64 characters are kept.
  EXPECT_EQ(RoutePath("/trace/" + std::string(5000, 'a')).trace.size(), 64u);
}

}  // namespace
}  // namespace its::wgate
