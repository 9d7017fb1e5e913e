#include "clients/load_report.h"

#include <algorithm>
#include <cmath>

#include "common/params.h"
#include "common/strings.h"

namespace its::load {
namespace {

double Ms(int64_t us) { return static_cast<double>(us) / 1000.0; }

nlohmann::json LatencyJson(const Histogram& h) {
  return {{"p50", Ms(h.Percentile(50))}, {"p90", Ms(h.Percentile(90))},
          {"p99", Ms(h.Percentile(99))}, {"p999", Ms(h.Percentile(99.9))},
          {"max", Ms(h.max())},          {"mean", h.mean() / 1000.0}};
}

}  // namespace

void LoadStats::Start(Clock::time_point start, double duration_s) {
  start_ = start;
  end_ =
      start + std::chrono::microseconds(static_cast<int64_t>(duration_s * 1e6));
  timeline_.resize(static_cast<size_t>(std::ceil(duration_s)));
}

void LoadStats::Request(const std::string& step, int status,
                        const std::string& error, const std::string& agate,
                        Clock::time_point intended, Clock::time_point now) {
  if (now > end_) return;  // only what completes inside the measured window
  int64_t us =
      std::chrono::duration_cast<std::chrono::microseconds>(now - intended)
          .count();
  // `error` with a status: the page failed a check (clients/page_check.h).
  bool ok = status >= 200 && status < 400 && error.empty();
  size_t second = static_cast<size_t>(
      std::chrono::duration_cast<std::chrono::seconds>(now - start_).count());
  ++requests_;
  latency_.Record(us);
  StepStats& s = steps_[step];
  ++s.requests;
  s.latency.Record(us);
  if (second < timeline_.size()) {
    ++timeline_[second].requests;
    timeline_[second].latency.Record(us);
  }
  if (!ok) {
    ++errors_;
    ++s.errors;
    if (second < timeline_.size()) ++timeline_[second].errors;
    ++error_kinds_[status == 0     ? error
                   : error.empty() ? Cat("HTTP ", status)
                   : status >= 400 ? Cat("HTTP ", status, ": ", error)
                                   : error];
  }
  if (status == 0) ++transport_errors_;
  if (!agate.empty()) ++agates_[agate];
}

void LoadStats::BackedOff(double wait_ms) {
  ++backoffs_;
  backoff_wait_s_ += wait_ms / 1000;
}

std::string LoadStats::EndOfSecond(int64_t n, int active) {
  Second& s =
      timeline_[std::min(timeline_.size() - 1, static_cast<size_t>(n - 1))];
  s.active = active;
  return fmt::format(
      "t={:>3}s rps={:>7} errors={:<5} active={:<6} p50={:.2f}ms "
      "p99={:.2f}ms\n",
      n, s.requests, s.errors, active, Ms(s.latency.Percentile(50)),
      Ms(s.latency.Percentile(99)));
}

void LoadStats::Finished(double wall_s, double cpu_s) {
  wall_s_ = wall_s;
  cpu_s_ = cpu_s;
}

nlohmann::json LoadStats::Report(const std::string& scenario, bool open_model,
                                 int users, double rate,
                                 double duration_s) const {
  nlohmann::json steps = nlohmann::json::object();
  for (const auto& [name, s] : steps_) {
    steps[name] = {{"requests", s.requests},
                   {"errors", s.errors},
                   {"latency_ms", LatencyJson(s.latency)}};
  }
  nlohmann::json timeline = nlohmann::json::array();
  for (size_t i = 0; i < timeline_.size(); ++i) {
    const Second& s = timeline_[i];
    timeline.push_back({{"t", i + 1},
                        {"requests", s.requests},
                        {"errors", s.errors},
                        {"p50_ms", Ms(s.latency.Percentile(50))},
                        {"p99_ms", Ms(s.latency.Percentile(99))},
                        {"active", s.active}});
  }
  return {
      {"scenario", scenario},
      {"model", open_model ? "open" : "closed"},
      {"users", users},
      {"rate", rate},
      {"duration_s", duration_s},
      {"requests", requests_},
      {"errors", errors_},
      {"transport_errors", transport_errors_},
      {"backoffs", backoffs_},
      {"backoff_wait_s", backoff_wait_s_},
      {"throughput_rps", static_cast<double>(requests_) / duration_s},
      {"latency_ms", LatencyJson(latency_)},
      {"journeys",
       {{"started", started_},
        {"completed", completed_},
        {"failed", failed_},
        {"dropped", dropped_}}},
      {"steps", steps},
      {"agates", agates_},
      {"errors_by_kind", error_kinds_},
      {"itsload_cpu_percent", wall_s_ > 0 ? 100.0 * cpu_s_ / wall_s_ : 0.0},
      {"timeline", timeline},
  };
}

std::string HtmlReport(const nlohmann::json& r) {
  auto esc = [](const std::string& s) { return HtmlEscape(s); };
  // A line chart of one or two series over the timeline.
  auto chart =
      [&](const std::string& title,
          const std::vector<std::pair<std::string, std::string>>& series,
          const std::string& unit) {
        const int w = 640, h = 220, pad = 40;
        double maxv = 0;
        size_t n = r["timeline"].size();
        for (const auto& p : r["timeline"])
          for (const auto& [key, color] : series)
            maxv = std::max(maxv, p[key].get<double>());
        if (maxv <= 0) maxv = 1;
        std::string svg =
            Cat("<h2>", esc(title), "</h2><svg width=\"", w, "\" height=\"", h,
                "\" style=\"background:#fff;border:1px solid #ccc\">");
        svg += Cat("<text x=\"4\" y=\"14\" font-size=\"11\">",
                   fmt::format("{:.4g}", maxv), " ", esc(unit), "</text>");
        for (const auto& [key, color] : series) {
          std::string pts;
          size_t i = 0;
          for (const auto& p : r["timeline"]) {
            double x = pad + (n > 1 ? static_cast<double>(i) * (w - 2 * pad) /
                                          static_cast<double>(n - 1)
                                    : 0);
            double y =
                h - pad + 10 - p[key].get<double>() / maxv * (h - pad - 10);
            pts += fmt::format("{:.1f},{:.1f} ", x, y);
            ++i;
          }
          svg += Cat("<polyline fill=\"none\" stroke=\"", color,
                     "\" stroke-width=\"2\" points=\"", pts, "\"/>");
        }
        int lx = pad;
        for (const auto& [key, color] : series) {
          svg += Cat("<text x=\"", lx, "\" y=\"", h - 8,
                     "\" font-size=\"12\" fill=\"", color, "\">", esc(key),
                     "</text>");
          lx += 120;
        }
        svg += "</svg>";
        return svg;
      };
  std::string body = Cat(
      "<h1>itsload: ", esc(r["scenario"].get<std::string>()), "</h1><p>",
      esc(r["model"].get<std::string>()), " model, ",
      r["duration_s"].get<double>(), " s: ", r["requests"].get<uint64_t>(),
      " requests, ", r["errors"].get<uint64_t>(), " errors, ",
      fmt::format("{:.1f}", r["throughput_rps"].get<double>()),
      " requests/s, p50 ", r["latency_ms"]["p50"].get<double>(), " ms, p99 ",
      r["latency_ms"]["p99"].get<double>(), " ms, itsload CPU ",
      fmt::format("{:.0f}", r["itsload_cpu_percent"].get<double>()), " %</p>");
  body += chart("Throughput", {{"requests", "#1f6fb4"}, {"errors", "#c0392b"}},
                "requests/s");
  body +=
      chart("Latency", {{"p50_ms", "#27ae60"}, {"p99_ms", "#e67e22"}}, "ms");
  body += "<h2>Requests per AGate process</h2><svg width=\"640\" height=\"" +
          std::to_string(24 * std::max<size_t>(1, r["agates"].size()) + 10) +
          "\" style=\"background:#fff;border:1px solid #ccc\">";
  uint64_t most = 1;
  for (const auto& [k, v] : r["agates"].items())
    most = std::max<uint64_t>(most, v.get<uint64_t>());
  int y = 6;
  for (const auto& [k, v] : r["agates"].items()) {
    double len = 420.0 * static_cast<double>(v.get<uint64_t>()) /
                 static_cast<double>(most);
    body += Cat("<text x=\"4\" y=\"", y + 14, "\" font-size=\"12\">", esc(k),
                "</text><rect x=\"150\" y=\"", y, "\" width=\"",
                fmt::format("{:.1f}", len),
                "\" height=\"18\" fill=\"#1f6fb4\"/><text x=\"",
                fmt::format("{:.0f}", 156 + len), "\" y=\"", y + 14,
                "\" font-size=\"12\">", v.get<uint64_t>(), "</text>");
    y += 24;
  }
  body +=
      "</svg><h2>Steps</h2><table><tr><th>Step</th><th>Requests</"
      "th><th>Errors</th><th>p50 ms</th>"
      "<th>p99 ms</th><th>max ms</th></tr>";
  for (const auto& [k, v] : r["steps"].items()) {
    body += Cat("<tr><td>", esc(k), "</td><td>", v["requests"].get<uint64_t>(),
                "</td><td>", v["errors"].get<uint64_t>(), "</td><td>",
                v["latency_ms"]["p50"].get<double>(), "</td><td>",
                v["latency_ms"]["p99"].get<double>(), "</td><td>",
                v["latency_ms"]["max"].get<double>(), "</td></tr>");
  }
  body += "</table>";
  return Cat(
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>itsload "
      "report</title><style>"
      "body{font-family:Arial,sans-serif;margin:16px}td,th{border:1px solid "
      "#bbb;padding:2px 6px}"
      "table{border-collapse:collapse}</style></head><body>",
      body, "</body></html>\n");
}

}  // namespace its::load
