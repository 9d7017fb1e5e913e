#include "clients/report_render.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "clients/wgate_processes.h"
#include "common/strings.h"

namespace its::load {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pointwise;

// A report as itsload writes it: a closed-model run of 60 s with two
// journeys, a stage plan, two thresholds (one failed) and an idle AGate.
nlohmann::json Report() {
  nlohmann::json r = nlohmann::json::parse(R"json({
    "scenario": "mixed", "model": "closed",
    "parameters": {"url": "http://127.0.0.1:8080", "users": 20, "rate": 0,
                   "duration_s": 60, "ramp_up_s": 0, "think_ms": null,
                   "graceful_stop_s": 10, "seed": 1, "max_active": 20000,
                   "stages": [{"duration_s": 30, "target": 20},
                              {"duration_s": 30, "target": 0}],
                   "workers": 1},
    "started_at": "2026-12-03T14:00:00Z",
    "duration_s": 60.2,
    "requests": 1234, "errors": 5, "transport_errors": 2, "backoffs": 3,
    "backoff_wait_s": 0.25,
    "throughput_rps": 20.5,
    "latency_ms": {"min": 0.4, "p50": 1.234, "p90": 4.5, "p95": 6.25,
                   "p99": 12.3, "p999": 40.1, "max": 151.7, "mean": 2.1},
    "journeys": {"started": 100, "completed": 90, "failed": 5,
                 "interrupted": 5, "dropped": 0, "logged_off_at_end": 5},
    "by_journey": {
      "display-logoff": {"started": 80, "completed": 75, "failed": 2,
        "interrupted": 3, "requests": 1000, "errors": 2,
        "latency_ms": {"min": 0.4, "p50": 1.1, "p90": 4.0, "p95": 6.0,
                       "p99": 11.0, "p999": 30.0, "max": 100.0, "mean": 2.0},
        "steps": {
          "logon": {"requests": 400, "errors": 1,
                    "latency_ms": {"p50": 2.5, "p90": 5, "p95": 7, "p99": 12,
                                   "p999": 20, "max": 25, "mean": 3}},
          "logoff": {"requests": 600, "errors": 1,
                     "latency_ms": {"p50": 0.9, "p90": 2, "p95": 3, "p99": 9,
                                    "p999": 30, "max": 100, "mean": 1}}}},
      "ess-pa30": {"started": 20, "completed": 15, "failed": 3,
        "interrupted": 2, "requests": 234, "errors": 3,
        "latency_ms": {"min": 0.5, "p50": 1.5, "p90": 5.0, "p95": 7.0,
                       "p99": 14.0, "p999": 151.7, "max": 151.7, "mean": 2.5},
        "steps": {"edit": {"requests": 234, "errors": 3,
                           "latency_ms": {"p50": 1.5, "p90": 5, "p95": 7,
                                          "p99": 14, "p999": 151.7,
                                          "max": 151.7, "mean": 2.5}}}}},
    "steps": {
      "display-logoff/logon": {"requests": 400, "errors": 1,
        "latency_ms": {"p50": 2.5, "p90": 5, "p95": 7, "p99": 12, "p999": 20,
                       "max": 25, "mean": 3}},
      "display-logoff/logoff": {"requests": 600, "errors": 1,
        "latency_ms": {"p50": 0.9, "p90": 2, "p95": 3, "p99": 9, "p999": 30,
                       "max": 100, "mean": 1}},
      "ess-pa30/edit": {"requests": 234, "errors": 3,
        "latency_ms": {"p50": 1.5, "p90": 5, "p95": 7, "p99": 14,
                       "p999": 151.7, "max": 151.7, "mean": 2.5}}},
    "agates": {"A/1/1240": 0, "A/0/1234": 1000, "B/0/2000": 234},
    "errors_by_kind": {"HTTP 503: no free capacity": 1,
                       "locked by another user": 4},
    "thresholds": [
      {"threshold": "p99<50ms", "ok": true, "value": 12.3, "unit": "ms",
       "abort": false},
      {"threshold": "errors<1%", "ok": false, "value": 3.2, "unit": "%",
       "abort": true}],
    "thresholds_ok": false, "aborted": "",
    "itsload_cpu_percent": 12.0, "itsload_cpu_us_per_request": 30.5
  })json");
  // One entry per second; second 30 had no request at all.
  for (int t = 1; t <= 60; ++t) {
    int requests = t == 30 ? 0 : 20 + t % 3;
    nlohmann::json e = {{"t", t},
                        {"requests", requests},
                        {"errors", t == 10 ? 1 : 0},
                        {"active", std::min(20, t)},
                        {"arrivals", t <= 20 ? 1 : 0},
                        {"target", t <= 30 ? 20 : 0}};
    e["p50_ms"] = requests == 0 ? 0.0 : 1.0 + 0.01 * t;
    e["p90_ms"] = requests == 0 ? 0.0 : 4.5;
    e["p99_ms"] = requests == 0 ? 0.0 : 12.25;
    r["timeline"].push_back(e);
  }
  return r;
}

TEST(RenderHtmlTest, ChartsHaveLabelledAxesAndLegends) {
  std::string page = RenderHtml(Report());
  EXPECT_THAT(page, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(page, HasSubstr("<title>itsload: mixed</title>"));
  for (const char* chart :
       {"Throughput", "Latency", "Active users", "Arrivals"}) {
    EXPECT_THAT(page, HasSubstr(Cat("<h2>", chart, "</h2>")));
  }
  EXPECT_THAT(page, HasSubstr(">time (s)</text>"));
  // y axis titles, rotated beside the axis.
  for (const char* unit : {"requests/s", "ms", "users", "journeys/s"}) {
    EXPECT_THAT(page, HasSubstr(Cat("rotate(-90)\" text-anchor=\"middle\">",
                                    unit, "</text>")));
  }
  // x ticks every 10 s up to 60; y ticks round numbers.
  for (const char* tick :
       {">0</text>", ">10</text>", ">30</text>", ">60</text>"}) {
    EXPECT_THAT(page, HasSubstr(Cat("text-anchor=\"middle\"", tick)));
  }
  EXPECT_THAT(page, HasSubstr("text-anchor=\"end\">5</text>"));  // latency
  EXPECT_THAT(page, HasSubstr("class=\"g\""));                   // grid lines
  for (const char* legend :
       {">requests/s</text>", ">errors/s</text>", ">p50</text>", ">p90</text>",
        ">p99</text>", ">active users</text>", ">target users</text>",
        ">journeys started/s</text>"}) {
    EXPECT_THAT(page, HasSubstr(legend));
  }
  // The second without requests breaks the latency lines: two stretches.
  EXPECT_THAT(page, Not(HasSubstr("NaN")));
  EXPECT_THAT(page, Not(HasSubstr("<script")));
  EXPECT_THAT(page, Not(HasSubstr("src=")));
  EXPECT_THAT(page, Not(HasSubstr("href=")));
}

TEST(RenderHtmlTest, ParametersThresholdsAndSummaryAtTheTop) {
  std::string page = RenderHtml(Report());
  EXPECT_THAT(page, HasSubstr("<th>wgate URL</th><td>http://127.0.0.1:8080"));
  EXPECT_THAT(page, HasSubstr("<th>virtual users</th><td>20</td>"));
  EXPECT_THAT(page, HasSubstr("30 s to 20 users, 30 s to 0 users"));
  EXPECT_THAT(page, HasSubstr("as in the scenario"));
  EXPECT_THAT(page, Not(HasSubstr("max active"))) << "open model only";
  EXPECT_THAT(page, HasSubstr("<li class=\"pass\">&#10003; p99&lt;50ms: 12.3 "
                              "ms</li>"));
  EXPECT_THAT(page, HasSubstr("<li class=\"fail\">&#10007; errors&lt;1%: 3.2 "
                              "% (aborts the run on failure)</li>"));
  EXPECT_THAT(page, HasSubstr("1 of 2 thresholds failed."));
  EXPECT_LT(page.find("thresholds failed"), page.find("<svg"));
  EXPECT_THAT(page, HasSubstr("<b>1234</b>requests"));
  EXPECT_THAT(page, HasSubstr("<b>12.3</b>p99 ms"));
  EXPECT_THAT(page, HasSubstr("requests got no response"));
}

TEST(RenderHtmlTest, EveryAgateProcessIncludingIdleOnes) {
  std::string page = RenderHtml(Report());
  size_t chart = page.find("<h2>Requests per AGate process</h2>");
  ASSERT_NE(chart, std::string::npos);
  EXPECT_THAT(page, HasSubstr("3 processes, 1 idle"));
  size_t a0 = page.find(">A/0/1234</text>", chart);
  size_t a1 = page.find(">A/1/1240</text>", chart);
  size_t b0 = page.find(">B/0/2000</text>", chart);
  ASSERT_NE(a0, std::string::npos);
  ASSERT_NE(a1, std::string::npos);
  ASSERT_NE(b0, std::string::npos);
  EXPECT_LT(a0, a1);
  EXPECT_LT(a1, b0);
  EXPECT_THAT(page.substr(a1, 200), HasSubstr(">0 (idle)</text>"));
  EXPECT_THAT(page.substr(a0, 300), HasSubstr(">1000 (81.0 %)</text>"));
  EXPECT_THAT(page.substr(chart), HasSubstr(">requests</text>"));  // x axis
}

TEST(RenderHtmlTest, TablesPerJourneyStepAndErrorKind) {
  std::string page = RenderHtml(Report());
  EXPECT_THAT(page, HasSubstr("<tr><td>display-logoff</td><td>80</td><td>75"
                              "</td><td>2</td><td>3</td><td>1000</td><td>2"
                              "</td><td>1.10</td>"));
  EXPECT_THAT(page, HasSubstr("<th>p99.9 ms</th>"));
  EXPECT_THAT(page, HasSubstr("<td>display-logoff/logon</td><td>400</td>"));
  EXPECT_THAT(page, HasSubstr("<td>ess-pa30/edit</td>"));
  size_t locked = page.find("<td>locked by another user</td><td>4</td>");
  size_t no_capacity = page.find("<td>HTTP 503: no free capacity</td>");
  ASSERT_NE(locked, std::string::npos);
  ASSERT_NE(no_capacity, std::string::npos);
  EXPECT_LT(locked, no_capacity) << "most frequent first";
}

TEST(RenderHtmlTest, EscapesEveryStringOfTheReport) {
  nlohmann::json r = Report();
  r["scenario"] = "<script>alert(1)</script>";
  r["by_journey"]["<img src=x onerror=alert(2)>"] = r["by_journey"]["ess-pa30"];
  r["errors_by_kind"]["\"quoted\" & <b>bold</b>"] = 7;
  r["agates"]["<i>/0/1"] = 3;
  r["thresholds"][0]["threshold"] = "<svg onload=alert(3)>";
  r["parameters"]["url"] = "http://x/\"><script>";
  std::string page = RenderHtml(r);
  EXPECT_THAT(page, Not(HasSubstr("<script")));
  EXPECT_THAT(page, Not(HasSubstr("<img")));
  EXPECT_THAT(page, Not(HasSubstr("<b>bold")));
  EXPECT_THAT(page, Not(HasSubstr("<i>")));
  EXPECT_THAT(page, Not(HasSubstr("<svg onload")));
  EXPECT_THAT(page, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(page, HasSubstr("&lt;img src=x onerror=alert(2)&gt;"));
  EXPECT_THAT(page, HasSubstr("&amp; &lt;b&gt;bold&lt;/b&gt;"));
}

TEST(RenderHtmlTest, OlderAndEmptyReportsRender) {
  // A report from before parameters, thresholds, stages and by_journey.
  nlohmann::json old = nlohmann::json::parse(R"json({
    "scenario": "display", "model": "closed", "users": 5, "rate": 0,
    "duration_s": 3, "requests": 30, "errors": 0, "transport_errors": 0,
    "backoffs": 0, "backoff_wait_s": 0, "throughput_rps": 10,
    "latency_ms": {"p50": 1, "p90": 2, "p99": 3, "p999": 4, "max": 5,
                   "mean": 1.5},
    "journeys": {"started": 5, "completed": 5, "failed": 0, "dropped": 0},
    "steps": {"logon": {"requests": 10, "errors": 0,
                        "latency_ms": {"p50": 1, "p99": 3, "max": 5}}},
    "agates": {"IT1/0/42": 30}, "errors_by_kind": {},
    "itsload_cpu_percent": 1,
    "timeline": [{"t": 1, "requests": 10, "errors": 0, "p50_ms": 1,
                  "p99_ms": 3, "active": 5},
                 {"t": 2, "requests": 10, "errors": 0, "p50_ms": 1,
                  "p99_ms": 3, "active": 5},
                 {"t": 3, "requests": 10, "errors": 0, "p50_ms": 1,
                  "p99_ms": 3, "active": 5}]
  })json");
  std::string page = RenderHtml(old);
  EXPECT_THAT(page, HasSubstr("<th>users</th><td>5</td>"));
  EXPECT_THAT(page, HasSubstr("<td>logon</td><td>10</td>"));
  EXPECT_THAT(page, HasSubstr(">IT1/0/42</text>"));
  EXPECT_THAT(page, Not(HasSubstr("<h2>Thresholds</h2>")));
  EXPECT_THAT(page, Not(HasSubstr("<h2>Arrivals</h2>"))) << "no arrivals";
  EXPECT_THAT(page, Not(HasSubstr(">p90</text>"))) << "no p90 in the timeline";
  EXPECT_THAT(page, HasSubstr("<td>-</td>")) << "no p95";
  EXPECT_THAT(RenderText(old), HasSubstr("30 requests, 0 errors"));

  for (const nlohmann::json& odd :
       {nlohmann::json::object(), nlohmann::json(), nlohmann::json::array(),
        nlohmann::json{{"timeline", "x"}, {"agates", 3}, {"steps", {1, 2}}}}) {
    EXPECT_THAT(RenderHtml(odd), HasSubstr("</html>"));
    EXPECT_EQ(RenderCsv(odd),
              "t_s,requests,errors,rps,p50_ms,p90_ms,p99_ms,active,arrivals,"
              "target\r\n");
    EXPECT_THAT(RenderText(odd), HasSubstr("0 requests, 0 errors"));
  }
}

TEST(RenderHtmlTest, LongRunsAreMergedIntoFewerPoints) {
  nlohmann::json r = Report();
  r["timeline"] = nlohmann::json::array();
  for (int t = 1; t <= 7200; ++t) {
    r["timeline"].push_back({{"t", t},
                             {"requests", 100},
                             {"errors", 0},
                             {"p50_ms", 1.5},
                             {"p90_ms", 2.5},
                             {"p99_ms", t == 4000 ? 900.0 : 5.0},
                             {"active", 20},
                             {"arrivals", 2},
                             {"target", 20}});
  }
  std::string page = RenderHtml(r);
  EXPECT_LT(page.size(), 300u * 1000) << "the page stays small";
  EXPECT_THAT(page, HasSubstr("Each point spans 12 s"));
  EXPECT_THAT(page, HasSubstr("text-anchor=\"end\">1000</text>"))
      << "the latency peak is kept, so the y axis reaches 1000 ms";
  EXPECT_THAT(page, HasSubstr("text-anchor=\"middle\">7000</text>"));
}

// Splits CSV text into rows of fields (no quoted fields expected).
std::vector<std::vector<std::string>> ParseCsv(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  size_t pos = 0;
  while (pos < csv.size()) {
    size_t end = csv.find("\r\n", pos);
    EXPECT_NE(end, std::string::npos) << "every line ends in CRLF";
    if (end == std::string::npos) break;
    std::vector<std::string> fields;
    std::string line = csv.substr(pos, end - pos);
    for (std::string_view f : Split(line, ',')) fields.emplace_back(f);
    rows.push_back(std::move(fields));
    pos = end + 2;
  }
  return rows;
}

TEST(RenderCsvTest, OneLinePerSecondThatParsesBack) {
  nlohmann::json r = Report();
  std::string csv = RenderCsv(r);
  auto rows = ParseCsv(csv);
  ASSERT_EQ(rows.size(), 61u);
  EXPECT_THAT(rows[0],
              ElementsAre("t_s", "requests", "errors", "rps", "p50_ms",
                          "p90_ms", "p99_ms", "active", "arrivals", "target"));
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    const auto& e = r["timeline"][i - 1];
    ASSERT_EQ(row.size(), 10u) << i;
    std::vector<double> v;
    for (const std::string& f : row) {
      char* end = nullptr;
      v.push_back(std::strtod(f.c_str(), &end));
      EXPECT_EQ(*end, '\0') << "a number: '" << f << "' in line " << i;
    }
    EXPECT_EQ(v[0], static_cast<double>(i));
    EXPECT_EQ(v[1], e["requests"].get<double>());
    EXPECT_EQ(v[2], e["errors"].get<double>());
    EXPECT_EQ(v[3], e["requests"].get<double>()) << "1 s per entry";
    EXPECT_DOUBLE_EQ(v[4], e["p50_ms"].get<double>());
    EXPECT_DOUBLE_EQ(v[6], e["p99_ms"].get<double>());
    EXPECT_EQ(v[7], e["active"].get<double>());
    EXPECT_EQ(v[9], e["target"].get<double>());
  }
  EXPECT_EQ(rows[12][4], "1.12");  // '.' decimals, shortest form
}

TEST(RenderCsvTest, MissingValuesAreEmptyFieldsAndRpsUsesTheInterval) {
  nlohmann::json r = {
      {"timeline",
       {{{"t", 2}, {"requests", 10}, {"errors", 0}},
        {{"t", 2.5}, {"requests", 5}, {"errors", 1}, {"p50_ms", 0.5}}}}};
  EXPECT_EQ(RenderCsv(r),
            "t_s,requests,errors,rps,p50_ms,p90_ms,p99_ms,active,arrivals,"
            "target\r\n"
            "2,10,0,5,,,,,,\r\n"
            "2.5,5,1,10,0.5,,,,,\r\n");
}

TEST(RenderTextTest, SummaryLineTablesErrorsAndThresholds) {
  std::string text = RenderText(Report());
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "1234 requests, 5 errors, 20.5 requests/s, latency p50 1.23 ms "
            "p90 4.50 ms p95 6.25 ms p99 12.3 ms p99.9 40.1 ms max 152 ms; "
            "journeys: 100 started, 90 completed, 5 failed, 5 interrupted; "
            "itsload CPU 12% (30.5 µs per request)");
  EXPECT_THAT(text, HasSubstr("per journey (latency in ms):\n"
                              "  journey         started  completed  failed  "
                              "interrupted  requests  errors   p50   p90   "
                              "p95   p99  p99.9  max\n"
                              "  display-logoff       80         75       2  "
                              "          3      1000       2  1.10  4.00  "
                              "6.00  11.0   30.0  100\n"));
  EXPECT_THAT(text, HasSubstr("  display-logoff/logon        400       1  "));
  EXPECT_THAT(text, HasSubstr("errors by kind:\n"
                              "  4  locked by another user\n"
                              "  1  HTTP 503: no free capacity\n"));
  EXPECT_THAT(text, HasSubstr("2 requests got no response; users backed off 3 "
                              "times, 0.2 s in all\n"));
  EXPECT_THAT(text, HasSubstr("  ✓ p99<50ms (12.3 ms)\n"));
  EXPECT_THAT(text, HasSubstr("  ✗ errors<1% (3.2 %)\n"));
}

TEST(RenderTextTest, NoTransportLineWithoutTransportErrors) {
  nlohmann::json r = Report();
  r["transport_errors"] = 0;
  r["aborted"] = "threshold errors<1% failed at t=12s";
  std::string text = RenderText(r);
  EXPECT_THAT(text, Not(HasSubstr("got no response")));
  EXPECT_THAT(text,
              HasSubstr("run aborted: threshold errors<1% failed at t=12s\n"));
}

TEST(NiceTicksTest, RoundSteps) {
  EXPECT_THAT(NiceTicks(0, 60, 10, 1), ElementsAre(0, 10, 20, 30, 40, 50, 60));
  EXPECT_THAT(NiceTicks(0, 7.3, 5), ElementsAre(0, 2, 4, 6, 8));
  EXPECT_THAT(NiceTicks(0, 3, 10, 1), ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(NiceTicks(0, 0, 5),
              Pointwise(DoubleNear(1e-12), {0.0, 0.2, 0.4, 0.6, 0.8, 1.0}))
      << "an empty range becomes 0 to 1";
  EXPECT_THAT(NiceTicks(0, 0.37, 4),
              Pointwise(DoubleNear(1e-12), {0.0, 0.1, 0.2, 0.3, 0.4}));
  EXPECT_THAT(NiceTicks(0, 1234, 5), ElementsAre(0, 500, 1000, 1500));
}

TEST(ParseAgateProcessesTest, LabelsInAnyOrder) {
  auto processes = ParseAgateProcesses(
      "# HELP its_wgate_requests_total HTTP requests received\n"
      "its_wgate_requests_total 17\n"
      "# HELP its_agate_sessions Sessions per AGate process\n"
      "# TYPE its_agate_sessions gauge\n"
      "its_agate_sessions{instance=\"IT1\",process=\"0\",pid=\"4242\"} 3\n"
      "its_agate_sessions{pid=\"4250\",instance=\"IT1\",process=\"1\"} 0\n"
      "its_agate_sessions{ process = \"0\" , pid=\"5000\", "
      "instance=\"I\\\"T\\\\2\", } 1\r\n"
      "its_agate_sessions_total{instance=\"X\",process=\"9\",pid=\"9\"} 1\n"
      "its_agate_weight{instance=\"IT1\",process=\"0\",pid=\"4242\"} 0.5\n"
      "its_agate_weight{process=\"2\",instance=\"IT3\",pid=\"6000\"} 0\n");
  ASSERT_TRUE(processes.ok()) << processes.status();
  EXPECT_THAT(*processes, ElementsAre("IT1/0/4242", "IT1/1/4250",
                                      "I\"T\\2/0/5000", "IT3/2/6000"));
}

TEST(ParseAgateProcessesTest, NothingToListIsNoError) {
  auto processes = ParseAgateProcesses("its_wgate_requests_total 1\n");
  ASSERT_TRUE(processes.ok());
  EXPECT_TRUE(processes->empty());
}

TEST(ParseAgateProcessesTest, UnreadableOrOldSamplesAreErrors) {
  auto no_pid = ParseAgateProcesses(
      "# a wgate from before the pid label\n"
      "its_agate_sessions{instance=\"IT1\",process=\"0\"} 3\n");
  ASSERT_FALSE(no_pid.ok());
  EXPECT_THAT(std::string(no_pid.status().message()),
              HasSubstr("metrics line 2"));
  EXPECT_THAT(std::string(no_pid.status().message()), HasSubstr("pid"));
  for (const char* bad : {
           "its_agate_sessions 3\n",
           "its_agate_sessions{instance=\"IT1\",process=\"0\",pid=\"1\" 3\n",
           "its_agate_sessions{instance=\"IT1,process=\"0\",pid=\"1\"} 3\n",
           "its_agate_sessions{instance=IT1,process=\"0\",pid=\"1\"} 3\n",
           "its_agate_weight{instance=\"IT1\",process=\"x\",pid=\"1\"} 3\n",
       }) {
    EXPECT_FALSE(ParseAgateProcesses(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace its::load
