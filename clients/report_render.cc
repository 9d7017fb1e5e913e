#include "clients/report_render.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

#include "common/params.h"
#include "common/strings.h"

namespace its::load {
namespace {

using nlohmann::json;

// ---- Reading the report: a missing or mistyped key is "not there". ----

const json& At(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::optional<double> OptNum(const json& j, const char* key) {
  const json& v = At(j, key);
  if (v.is_number()) return v.get<double>();
  return std::nullopt;
}

double Num(const json& j, const char* key) {
  return OptNum(j, key).value_or(0);
}

int64_t Int(const json& j, const char* key) {
  const json& v = At(j, key);
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number()) return std::llround(v.get<double>());
  return 0;
}

std::string Str(const json& j, const char* key) {
  const json& v = At(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

// The entries of an object member, or none.
std::vector<std::pair<std::string, const json*>> Items(const json& j,
                                                       const char* key) {
  std::vector<std::pair<std::string, const json*>> out;
  const json& o = At(j, key);
  if (!o.is_object()) return out;
  for (auto it = o.begin(); it != o.end(); ++it)
    out.emplace_back(it.key(), &*it);
  return out;
}

// ---- Numbers as people read them. ----

// Latency in ms: about three significant digits.
std::string Ms(double v) {
  if (std::abs(v) >= 100) return fmt::format("{:.0f}", v);
  if (std::abs(v) >= 10) return fmt::format("{:.1f}", v);
  return fmt::format("{:.2f}", v);
}

std::string OptMs(const json& latency, const char* key) {
  auto v = OptNum(latency, key);
  return v ? Ms(*v) : "-";
}

// Any other figure: whole numbers as such, else four significant digits.
std::string Number(double v) {
  if (std::abs(v) >= 1e4 || v == std::floor(v)) return fmt::format("{:.0f}", v);
  return fmt::format("{:.4g}", v);
}

// A JSON value as a parameter's text.
std::string ValueText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return v.dump();
  if (v.is_number()) return Number(v.get<double>());
  return v.dump();
}

std::string Percent(double part, double whole) {
  return whole > 0 ? fmt::format("{:.1f} %", 100.0 * part / whole) : "-";
}

// ---- The timeline. ----

struct Timeline {
  std::vector<const json*> entries;
  std::vector<double> t;   // end of each entry, s from the start
  std::vector<double> dt;  // its length, s
};

Timeline ReadTimeline(const json& report) {
  Timeline tl;
  const json& a = At(report, "timeline");
  if (!a.is_array()) return tl;
  double prev = 0;
  for (const json& e : a) {
    if (!e.is_object()) continue;
    double t = OptNum(e, "t").value_or(prev + 1);
    tl.entries.push_back(&e);
    tl.t.push_back(t);
    tl.dt.push_back(t - prev > 0 ? t - prev : 1.0);
    prev = t;
  }
  return tl;
}

// Errors by kind, most frequent first (ties by name).
std::vector<std::pair<std::string, int64_t>> ErrorsByKind(const json& report) {
  std::vector<std::pair<std::string, int64_t>> kinds;
  for (const auto& [kind, n] : Items(report, "errors_by_kind"))
    kinds.emplace_back(kind, n->is_number() ? n->get<int64_t>() : 0);
  std::stable_sort(
      kinds.begin(), kinds.end(),
      [](const auto& a, const auto& b) { return a.second > b.second; });
  return kinds;
}

// AGate processes "instance/process/pid" in instance, process, pid order.
std::vector<std::pair<std::string, int64_t>> AgatesInOrder(const json& report) {
  std::vector<std::pair<std::string, int64_t>> agates;
  for (const auto& [key, n] : Items(report, "agates"))
    agates.emplace_back(key, n->is_number() ? n->get<int64_t>() : 0);
  auto sort_key = [](const std::string& k) {
    auto parts = Split(k, '/');
    int64_t process = -1, pid = -1;
    if (parts.size() == 3 && ParseInt(parts[1], &process) &&
        ParseInt(parts[2], &pid)) {
      return std::tuple(std::string(parts[0]), process, pid, std::string());
    }
    return std::tuple(std::string(), int64_t{-1}, int64_t{-1}, k);
  };
  std::sort(agates.begin(), agates.end(), [&](const auto& a, const auto& b) {
    return sort_key(a.first) < sort_key(b.first);
  });
  return agates;
}

// ---- SVG charts. ----

constexpr int kMaxPoints = 600;  // more timeline entries are merged

std::string TickLabel(double v, double step) {
  int decimals =
      step >= 1 ? 0 : static_cast<int>(-std::floor(std::log10(step) + 1e-9));
  return fmt::format("{:.{}f}", v, decimals);
}

struct Series {
  std::string name;
  const char* color;
  std::vector<std::optional<double>> values;  // one per timeline entry
  bool dashed = false;
  bool peak = false;  // merged entries keep the largest value, else the mean
};

bool HasValues(const Series& s) {
  return std::any_of(s.values.begin(), s.values.end(),
                     [](const auto& v) { return v.has_value(); });
}

// A line chart over time: x axis the seconds, y axis from 0 in `unit`, both
// with round ticks, grid lines and labels; a legend above.
std::string LineChart(std::string_view title, std::string_view unit,
                      const std::vector<double>& t,
                      std::vector<Series> series) {
  series.erase(std::remove_if(series.begin(), series.end(),
                              [](const Series& s) { return !HasValues(s); }),
               series.end());
  if (series.empty() || t.empty()) return "";
  const int w = 720, h = 250, left = 62, right = 18, top = 28, bottom = 42;
  const double pw = w - left - right, ph = h - top - bottom;

  // Long runs: merge consecutive entries so the page stays small.
  size_t n = t.size();
  size_t k = (n + kMaxPoints - 1) / kMaxPoints;
  std::vector<double> x;
  for (size_t i = 0; i < n; i += k) x.push_back(t[std::min(n, i + k) - 1]);
  std::vector<std::vector<std::optional<double>>> ys;
  double ymax = 0;
  for (const Series& s : series) {
    std::vector<std::optional<double>> y;
    for (size_t i = 0; i < n; i += k) {
      double sum = 0, peak = 0;
      int count = 0;
      for (size_t j = i; j < std::min(n, i + k); ++j) {
        if (!s.values[j]) continue;
        sum += *s.values[j];
        peak = count == 0 ? *s.values[j] : std::max(peak, *s.values[j]);
        ++count;
      }
      if (count == 0) {
        y.emplace_back();
      } else {
        y.emplace_back(s.peak ? peak : sum / count);
        ymax = std::max(ymax, *y.back());
      }
    }
    ys.push_back(std::move(y));
  }
  double tmax = std::max(t.back(), 1.0);
  std::vector<double> yticks = NiceTicks(0, ymax > 0 ? ymax : 1, 5);
  double ytop = yticks.back();
  std::vector<double> xticks = NiceTicks(0, tmax, 10, 1);
  double xstep = xticks.size() > 1 ? xticks[1] - xticks[0] : 1;
  double ystep = yticks.size() > 1 ? yticks[1] - yticks[0] : 1;
  auto px = [&](double v) { return left + v / tmax * pw; };
  auto py = [&](double v) { return top + ph - v / ytop * ph; };

  std::string svg = Cat("<h2>", HtmlEscape(title), "</h2>\n<svg viewBox=\"0 0 ",
                        w, " ", h, "\" width=\"", w, "\" role=\"img\">");
  for (double v : yticks) {
    std::string y = fmt::format("{:.1f}", py(v));
    Append(&svg, "<line class=\"g\" x1=\"", left, "\" x2=\"", w - right,
           "\" y1=\"", y, "\" y2=\"", y, "\"/><text x=\"", left - 6, "\" y=\"",
           fmt::format("{:.1f}", py(v) + 4), "\" text-anchor=\"end\">",
           TickLabel(v, ystep), "</text>");
  }
  for (double v : xticks) {
    if (v > tmax + 1e-9) break;
    std::string xs = fmt::format("{:.1f}", px(v));
    Append(&svg, "<line class=\"g\" x1=\"", xs, "\" x2=\"", xs, "\" y1=\"", top,
           "\" y2=\"", top + ph, "\"/><text x=\"", xs, "\" y=\"", top + ph + 15,
           "\" text-anchor=\"middle\">", TickLabel(v, xstep), "</text>");
  }
  Append(&svg, "<path class=\"ax\" d=\"M", left, " ", top, "V", top + ph, "H",
         w - right, "\"/>");
  Append(&svg, "<text x=\"", left + pw / 2, "\" y=\"", h - 6,
         "\" text-anchor=\"middle\">time (s)</text>");
  Append(&svg, "<text transform=\"translate(14,", top + ph / 2,
         ") rotate(-90)\" text-anchor=\"middle\">", HtmlEscape(unit),
         "</text>");
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    std::string d, dots;
    size_t run = 0;  // points in the current unbroken stretch
    for (size_t j = 0; j < x.size(); ++j) {
      if (!ys[i][j]) {
        run = 0;
        continue;
      }
      std::string pt = fmt::format("{:.1f} {:.1f}", px(x[j]), py(*ys[i][j]));
      Append(&d, run == 0 ? "M" : "L", pt);
      bool alone = (j + 1 == x.size() || !ys[i][j + 1]) && run == 0;
      if (alone) {
        Append(&dots, "<circle cx=\"", fmt::format("{:.1f}", px(x[j])),
               "\" cy=\"", fmt::format("{:.1f}", py(*ys[i][j])),
               "\" r=\"2\" fill=\"", s.color, "\"/>");
      }
      ++run;
    }
    Append(&svg, "<path fill=\"none\" stroke=\"", s.color,
           "\" stroke-width=\"1.6\"",
           s.dashed ? " stroke-dasharray=\"5 3\"" : "", " d=\"", d, "\"/>",
           dots);
  }
  double lx = left;
  for (const Series& s : series) {
    Append(&svg, "<line x1=\"", lx, "\" x2=\"", lx + 18,
           "\" y1=\"12\" y2=\"12\" stroke=\"", s.color, "\" stroke-width=\"2\"",
           s.dashed ? " stroke-dasharray=\"5 3\"" : "", "/><text x=\"", lx + 22,
           "\" y=\"16\">", HtmlEscape(s.name), "</text>");
    lx += 34 + 6.5 * static_cast<double>(s.name.size());
  }
  svg += "</svg>\n";
  if (k > 1) {
    Append(&svg, "<p class=\"note\">Each point spans ", k,
           " s: the mean of rates, the largest latency.</p>\n");
  }
  return svg;
}

// Requests per AGate process as horizontal bars; idle processes say so.
std::string AgateChart(const json& report) {
  auto agates = AgatesInOrder(report);
  std::string out = "<h2>Requests per AGate process</h2>\n";
  if (agates.empty()) return out + "<p>No AGate process answered.</p>\n";
  int64_t most = 0, total = 0;
  size_t idle = 0, longest = 0;
  for (const auto& [key, n] : agates) {
    most = std::max(most, n);
    total += n;
    idle += n == 0;
    longest = std::max(longest, key.size());
  }
  Append(&out, "<p>", agates.size(), " processes, ", idle,
         " idle (no request).</p>\n");
  const int row = 22, top = 6, bottom = 36, right = 150;
  const int left =
      static_cast<int>(std::clamp<size_t>(longest * 7 + 14, 100, 260));
  const int w = 720, h = top + row * static_cast<int>(agates.size()) + bottom;
  const double pw = w - left - right;
  std::vector<double> ticks =
      NiceTicks(0, most > 0 ? static_cast<double>(most) : 1, 5);
  double xmax = ticks.back();
  double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  auto px = [&](double v) { return left + v / xmax * pw; };
  Append(&out, "<svg viewBox=\"0 0 ", w, " ", h, "\" width=\"", w,
         "\" role=\"img\">");
  int axis_y = top + row * static_cast<int>(agates.size());
  for (double v : ticks) {
    std::string x = fmt::format("{:.1f}", px(v));
    Append(&out, "<line class=\"g\" x1=\"", x, "\" x2=\"", x, "\" y1=\"", top,
           "\" y2=\"", axis_y, "\"/><text x=\"", x, "\" y=\"", axis_y + 14,
           "\" text-anchor=\"middle\">", TickLabel(v, step), "</text>");
  }
  Append(&out, "<path class=\"ax\" d=\"M", left, " ", top, "V", axis_y, "H",
         left + pw, "\"/><text x=\"", left + pw / 2, "\" y=\"", h - 4,
         "\" text-anchor=\"middle\">requests</text>");
  int y = top;
  for (const auto& [key, n] : agates) {
    double len = px(static_cast<double>(n)) - left;
    Append(&out, "<text x=\"", left - 6, "\" y=\"", y + 15,
           "\" text-anchor=\"end\">", HtmlEscape(key), "</text>");
    if (n > 0) {
      Append(&out, "<rect x=\"", left, "\" y=\"", y + 3, "\" width=\"",
             fmt::format("{:.1f}", len), "\" height=\"16\" fill=\"#1f6fb4\"/>",
             "<text x=\"", fmt::format("{:.1f}", left + len + 5), "\" y=\"",
             y + 15, "\">", n, " (",
             Percent(static_cast<double>(n), static_cast<double>(total)),
             ")</text>");
    } else {
      Append(&out, "<text class=\"idle\" x=\"", left + 5, "\" y=\"", y + 15,
             "\">0 (idle)</text>");
    }
    y += row;
  }
  return out + "</svg>\n";
}

// ---- HTML pieces. ----

// Latency keys of the report and their titles.
constexpr std::pair<const char*, const char*> kPercentiles[] = {
    {"p50", "p50"}, {"p90", "p90"},    {"p95", "p95"},
    {"p99", "p99"}, {"p999", "p99.9"}, {"max", "max"}};

constexpr char kStyle[] =
    "body{font:14px/1.4 sans-serif;margin:16px 24px;color:#222;"
    "max-width:980px}"
    "h1{font-size:22px}h2{font-size:17px;margin:22px 0 6px}"
    "table{border-collapse:collapse;margin:4px 0}"
    "td,th{border:1px solid #ccc;padding:2px 8px;white-space:nowrap}"
    "th{background:#f2f2f2}td+td{text-align:right}"
    "table.kv td{text-align:left;white-space:normal}"
    ".figs{display:flex;flex-wrap:wrap;gap:8px}"
    ".figs div{border:1px solid #ccc;padding:4px 10px;min-width:86px}"
    ".figs b{display:block;font-size:18px}"
    ".pass{color:#1e7b34}.fail{color:#b3261e;font-weight:bold}"
    ".bad{background:#fbe9e7;border:1px solid #b3261e;padding:6px 10px}"
    ".good{background:#e8f5e9;border:1px solid #1e7b34;padding:6px 10px}"
    "ul.th{list-style:none;padding-left:0}"
    "svg{max-width:100%;height:auto;display:block}"
    "svg text{font:11px sans-serif;fill:#333}"
    "svg text.idle{fill:#b3261e;font-weight:bold}"
    ".g{stroke:#e4e4e4}.ax{stroke:#666;fill:none}"
    ".note{color:#666;font-size:12px}";

// Seconds as "90 s", whole minutes from 2 on as "5 m".
std::string Seconds(double s) {
  if (s >= 120 && std::fmod(s, 60) == 0) return fmt::format("{:.0f} m", s / 60);
  return Number(s) + " s";
}

std::string ParametersTable(const json& report) {
  const json& p = At(report, "parameters");
  std::string model = Str(report, "model");
  bool open = model == "open";
  std::vector<std::pair<std::string, std::string>> rows;
  if (!model.empty())
    rows.emplace_back("model", open                ? "open (arrivals at a rate)"
                               : model == "closed" ? "closed (virtual users)"
                                                   : model);
  if (!p.is_object()) {  // an older report: a few figures at the top
    if (!open && OptNum(report, "users"))
      rows.emplace_back("users", ValueText(At(report, "users")));
    if (open && OptNum(report, "rate"))
      rows.emplace_back("arrival rate",
                        Number(Num(report, "rate")) + " journeys/s");
  } else {
    std::vector<std::string> shown;  // keys with a row of their own
    auto row = [&](const char* key, std::string label, auto text) {
      shown.push_back(key);
      if (p.contains(key))
        rows.emplace_back(std::move(label), text(At(p, key)));
    };
    auto skip = [&](const char* key) { shown.push_back(key); };
    auto plain = [](const json& v) { return ValueText(v); };
    auto secs = [](const json& v) {
      return v.is_number() ? Seconds(v.get<double>()) : ValueText(v);
    };
    row("url", "wgate URL", plain);
    if (open) {
      skip("users");
      row("rate", "arrival rate",
          [](const json& v) { return ValueText(v) + " journeys/s"; });
    } else {
      skip("rate");
      row("users", "virtual users", plain);
    }
    row("duration_s", "duration", secs);
    if (open && Num(p, "ramp_up_s") == 0) {
      skip("ramp_up_s");
    } else {
      row("ramp_up_s", "ramp-up", secs);
    }
    const json& stages = At(p, "stages");
    if (!stages.is_array() || stages.empty()) {
      skip("stages");
    } else {
      row("stages", "stages", [&](const json& v) {
        std::string out;
        for (const json& s : v) {
          if (!out.empty()) out += ", ";
          Append(&out, Seconds(Num(s, "duration_s")), " to ",
                 Number(Num(s, "target")), open ? " journeys/s" : " users");
        }
        return out;
      });
    }
    row("think_ms", "think time", [](const json& v) -> std::string {
      return v.is_number() ? Number(v.get<double>()) + " ms (every step)"
                           : "as in the scenario";
    });
    row("graceful_stop_s", "graceful stop", secs);
    if (open) {
      row("max_active", "max active journeys", plain);
    } else {
      skip("max_active");
    }
    row("seed", "seed", plain);
    row("workers", "workers", plain);
    for (auto it = p.begin(); it != p.end(); ++it) {
      if (std::find(shown.begin(), shown.end(), it.key()) == shown.end())
        rows.emplace_back(it.key(), ValueText(*it));
    }
  }
  std::string out = "<table class=\"kv\">";
  for (const auto& [k, v] : rows)
    Append(&out, "<tr><th>", HtmlEscape(k), "</th><td>", HtmlEscape(v),
           "</td></tr>");
  return out + "</table>\n";
}

// A threshold's result: "p99<50ms: 12.3 ms", or that nothing was measured.
std::string ThresholdValue(const json& t) {
  if (At(t, "no_data").is_boolean() && At(t, "no_data").get<bool>())
    return "nothing measured";
  auto v = OptNum(t, "value");
  if (!v) return "";
  std::string unit = Str(t, "unit");
  std::string num = unit == "ms" ? Ms(*v) : Number(*v);
  return unit.empty() ? num : Cat(num, " ", unit);
}

std::string ThresholdsHtml(const json& report) {
  std::string out;
  std::string aborted = Str(report, "aborted");
  if (!aborted.empty())
    Append(&out, "<p class=\"bad\">Run aborted: ", HtmlEscape(aborted),
           "</p>\n");
  const json& ths = At(report, "thresholds");
  if (!ths.is_array() || ths.empty()) return out;
  int failed = 0;
  for (const json& t : ths)
    failed += !At(t, "ok").is_boolean() || !At(t, "ok").get<bool>();
  bool ok = At(report, "thresholds_ok").is_boolean()
                ? At(report, "thresholds_ok").get<bool>()
                : failed == 0;
  Append(&out, "<h2>Thresholds</h2>\n<p class=\"", ok ? "good" : "bad", "\">",
         ok ? "All thresholds passed."
            : Cat(failed, " of ", ths.size(), " thresholds failed."),
         "</p>\n<ul class=\"th\">");
  for (const json& t : ths) {
    bool pass = At(t, "ok").is_boolean() && At(t, "ok").get<bool>();
    std::string value = ThresholdValue(t);
    Append(&out, "<li class=\"", pass ? "pass" : "fail", "\">",
           pass ? "&#10003; " : "&#10007; ", HtmlEscape(Str(t, "threshold")),
           value.empty() ? "" : ": ", HtmlEscape(value),
           At(t, "abort").is_boolean() && At(t, "abort").get<bool>()
               ? " (aborts the run on failure)"
               : "",
           "</li>");
  }
  return out + "</ul>\n";
}

std::string Figure(std::string_view value, std::string_view label,
                   bool bad = false) {
  return Cat("<div", bad ? " class=\"fail\"" : "", "><b>", value, "</b>", label,
             "</div>");
}

std::string SummaryFigures(const json& report) {
  const json& l = At(report, "latency_ms");
  const json& j = At(report, "journeys");
  double requests = Num(report, "requests"), errors = Num(report, "errors");
  std::string out = "<h2>Summary</h2>\n<div class=\"figs\">";
  out += Figure(Number(requests), "requests");
  out += Figure(Cat(Number(errors), " (", Percent(errors, requests), ")"),
                "errors", errors > 0);
  out += Figure(fmt::format("{:.1f}", Num(report, "throughput_rps")),
                "requests/s");
  for (auto [key, label] : kPercentiles) {
    if (auto v = OptNum(l, key)) out += Figure(Ms(*v), Cat(label, " ms"));
  }
  static constexpr std::pair<const char*, const char*> kJourneys[] = {
      {"started", "journeys started"},
      {"completed", "completed"},
      {"failed", "failed"},
      {"interrupted", "interrupted"},
      {"dropped", "dropped"},
      {"logged_off_at_end", "logged off at end"},
      {"logged_off_after_failure", "logged off after failure"}};
  for (auto [key, label] : kJourneys) {
    if (!OptNum(j, key)) continue;
    bool bad =
        std::string_view(key) == "failed" || std::string_view(key) == "dropped";
    out += Figure(Number(Num(j, key)), label, bad && Num(j, key) > 0);
  }
  if (Num(report, "transport_errors") > 0) {
    out += Figure(Number(Num(report, "transport_errors")),
                  "requests got no response", true);
    out +=
        Figure(Cat(Number(Num(report, "backoffs")), " / ",
                   fmt::format("{:.1f}", Num(report, "backoff_wait_s")), " s"),
               "back-offs / waited");
  }
  if (auto cpu = OptNum(report, "itsload_cpu_percent"))
    out += Figure(fmt::format("{:.0f} %", *cpu), "itsload CPU");
  if (auto us = OptNum(report, "itsload_cpu_us_per_request"))
    out += Figure(fmt::format("{:.1f}", *us), "itsload CPU µs/request");
  return out + "</div>\n";
}

std::string LatencyHeader() {
  std::string out;
  for (auto [key, label] : kPercentiles)
    Append(&out, "<th>", label, " ms</th>");
  return out;
}

std::string LatencyCells(const json& latency) {
  std::string out;
  for (auto [key, label] : kPercentiles)
    Append(&out, "<td>", OptMs(latency, key), "</td>");
  return out;
}

std::string JourneyTable(const json& report) {
  auto journeys = Items(report, "by_journey");
  if (journeys.empty()) return "";
  std::string out = Cat(
      "<h2>Journeys</h2>\n<table><tr><th>journey</th><th>started</th>"
      "<th>completed</th><th>failed</th><th>interrupted</th><th>requests</th>"
      "<th>errors</th>",
      LatencyHeader(), "</tr>");
  for (const auto& [name, j] : journeys) {
    Append(&out, "<tr><td>", HtmlEscape(name), "</td>");
    for (const char* key : {"started", "completed", "failed", "interrupted",
                            "requests", "errors"}) {
      auto v = OptNum(*j, key);
      Append(&out, "<td>", v ? Number(*v) : "-", "</td>");
    }
    Append(&out, LatencyCells(At(*j, "latency_ms")), "</tr>");
  }
  return out + "</table>\n";
}

// Steps as "journey/step": the report's own list, else from by_journey.
std::vector<std::pair<std::string, const json*>> Steps(const json& report) {
  auto steps = Items(report, "steps");
  if (!steps.empty()) return steps;
  for (const auto& [journey, j] : Items(report, "by_journey")) {
    for (const auto& [step, s] : Items(*j, "steps"))
      steps.emplace_back(Cat(journey, "/", step), s);
  }
  return steps;
}

std::string StepTable(const json& report) {
  auto steps = Steps(report);
  if (steps.empty()) return "";
  std::string out =
      Cat("<h2>Steps</h2>\n<table><tr><th>journey/step</th><th>requests</th>"
          "<th>errors</th><th>errors %</th>",
          LatencyHeader(), "</tr>");
  for (const auto& [name, s] : steps) {
    Append(&out, "<tr><td>", HtmlEscape(name), "</td><td>",
           Number(Num(*s, "requests")), "</td><td>", Number(Num(*s, "errors")),
           "</td><td>", Percent(Num(*s, "errors"), Num(*s, "requests")),
           "</td>", LatencyCells(At(*s, "latency_ms")), "</tr>");
  }
  return out + "</table>\n";
}

std::string ErrorTable(const json& report) {
  auto kinds = ErrorsByKind(report);
  if (kinds.empty()) return "";
  int64_t total = 0;
  for (const auto& [kind, n] : kinds) total += n;
  std::string out =
      "<h2>Errors by kind</h2>\n<table><tr><th>kind</th><th>count</th>"
      "<th>share</th></tr>";
  for (const auto& [kind, n] : kinds) {
    Append(&out, "<tr><td>", HtmlEscape(kind), "</td><td>", n, "</td><td>",
           Percent(static_cast<double>(n), static_cast<double>(total)),
           "</td></tr>");
  }
  return out + "</table>\n";
}

std::string Charts(const json& report) {
  Timeline tl = ReadTimeline(report);
  if (tl.entries.empty()) return "<p>No timeline in this report.</p>\n";
  size_t n = tl.entries.size();
  // A value of every entry; `per_second` divides by the entry's length;
  // latency only where the entry had requests.
  auto column = [&](const char* key, bool per_second, bool latency) {
    std::vector<std::optional<double>> v(n);
    for (size_t i = 0; i < n; ++i) {
      const json& e = *tl.entries[i];
      auto x = OptNum(e, key);
      if (!x) continue;
      if (latency && OptNum(e, "requests") && Num(e, "requests") == 0) continue;
      v[i] = per_second ? *x / tl.dt[i] : *x;
    }
    return v;
  };
  bool open = Str(report, "model") == "open";
  std::string out;
  out += LineChart("Throughput", "requests/s", tl.t,
                   {{"requests/s", "#1f6fb4", column("requests", true, false)},
                    {"errors/s", "#c0392b", column("errors", true, false)}});
  out += LineChart(
      "Latency", "ms", tl.t,
      {{"p50", "#27ae60", column("p50_ms", false, true), false, true},
       {"p90", "#8e44ad", column("p90_ms", false, true), false, true},
       {"p99", "#e67e22", column("p99_ms", false, true), false, true}});
  std::vector<Series> active = {{open ? "active journeys" : "active users",
                                 "#1f6fb4", column("active", false, false)}};
  std::vector<Series> arrivals = {
      {"journeys started/s", "#16a085", column("arrivals", true, false)}};
  // The stage target: users in the closed model, an arrival rate in the open.
  Series target{open ? "target rate" : "target users", "#777",
                column("target", false, false), true};
  (open ? arrivals : active).push_back(std::move(target));
  out += LineChart(open ? "Active journeys" : "Active users",
                   open ? "journeys" : "users", tl.t, std::move(active));
  out += LineChart("Arrivals", "journeys/s", tl.t, std::move(arrivals));
  return out;
}

// ---- Text. ----

// Columns of text: the first left-aligned, the others right-aligned.
std::string TextTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()), 0);
    for (size_t i = 0; i < r.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line = "  ";
    for (size_t i = 0; i < r.size(); ++i) {
      if (i == 0) {
        Append(&line, fmt::format("{:<{}}", r[i], width[i]));
      } else {
        Append(&line, "  ", fmt::format("{:>{}}", r[i], width[i]));
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    Append(&out, line, "\n");
  }
  return out;
}

void AppendLatencyColumns(std::vector<std::string>* row, const json& latency) {
  for (auto [key, label] : kPercentiles) row->push_back(OptMs(latency, key));
}

std::vector<std::string> LatencyTitles() {
  std::vector<std::string> out;
  for (auto [key, label] : kPercentiles) out.emplace_back(label);
  return out;
}

}  // namespace

std::vector<double> NiceTicks(double lo, double hi, int target,
                              double min_step) {
  if (!(hi > lo)) hi = lo + 1;
  if (target < 1) target = 1;
  double rough = (hi - lo) / target;
  double mag = std::pow(10, std::floor(std::log10(rough)));
  double norm = rough / mag;
  const double e = 1e-9;  // 2.0000000001 is 2
  double step = (norm <= 1 + e   ? 1
                 : norm <= 2 + e ? 2
                 : norm <= 5 + e ? 5
                                 : 10) *
                mag;
  if (step < min_step) step = min_step;
  auto first = static_cast<int64_t>(std::floor(lo / step + 1e-9));
  auto last = static_cast<int64_t>(std::ceil(hi / step - 1e-9));
  std::vector<double> ticks;
  for (int64_t i = first; i <= last; ++i)
    ticks.push_back(static_cast<double>(i) * step);
  return ticks;
}

std::string RenderHtml(const json& report) {
  std::string scenario = Str(report, "scenario");
  std::string title = Cat("itsload: ", scenario.empty() ? "report" : scenario);
  std::string out =
      Cat("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<title>",
          HtmlEscape(title), "</title><style>", kStyle,
          "</style></head><body>\n<h1>", HtmlEscape(title), "</h1>\n");
  std::string started = Str(report, "started_at");
  Append(&out, "<p>",
         started.empty() ? "" : Cat("Started ", HtmlEscape(started), "; "),
         "measured for ", Number(Num(report, "duration_s")), " s.</p>\n");
  out += ParametersTable(report);
  out += ThresholdsHtml(report);
  out += SummaryFigures(report);
  out += Charts(report);
  out += AgateChart(report);
  out += JourneyTable(report);
  out += StepTable(report);
  out += ErrorTable(report);
  return out + "</body></html>\n";
}

std::string RenderCsv(const json& report) {
  std::string out =
      "t_s,requests,errors,rps,p50_ms,p90_ms,p99_ms,active,arrivals,target\r\n";
  auto field = [](const json& v) -> std::string {
    if (v.is_number_integer()) return v.dump();
    if (v.is_number()) return fmt::format("{}", v.get<double>());
    return "";
  };
  Timeline tl = ReadTimeline(report);
  for (size_t i = 0; i < tl.entries.size(); ++i) {
    const json& e = *tl.entries[i];
    auto requests = OptNum(e, "requests");
    Append(&out, fmt::format("{}", tl.t[i]), ",", field(At(e, "requests")), ",",
           field(At(e, "errors")), ",",
           requests ? fmt::format("{}", *requests / tl.dt[i]) : "");
    for (const char* key :
         {"p50_ms", "p90_ms", "p99_ms", "active", "arrivals", "target"})
      Append(&out, ",", field(At(e, key)));
    out += "\r\n";
  }
  return out;
}

std::string RenderText(const json& report) {
  const json& l = At(report, "latency_ms");
  const json& j = At(report, "journeys");
  std::string out = fmt::format(
      "{} requests, {} errors, {:.1f} requests/s, latency p50 {} ms p90 {} ms ",
      Int(report, "requests"), Int(report, "errors"),
      Num(report, "throughput_rps"), OptMs(l, "p50"), OptMs(l, "p90"));
  if (OptNum(l, "p95")) Append(&out, "p95 ", OptMs(l, "p95"), " ms ");
  Append(&out, "p99 ", OptMs(l, "p99"), " ms p99.9 ", OptMs(l, "p999"),
         " ms max ", OptMs(l, "max"), " ms; journeys: ", Int(j, "started"),
         " started, ", Int(j, "completed"), " completed, ", Int(j, "failed"),
         " failed");
  if (OptNum(j, "interrupted"))
    Append(&out, ", ", Int(j, "interrupted"), " interrupted");
  if (Int(j, "dropped") > 0) Append(&out, ", ", Int(j, "dropped"), " dropped");
  // Sessions a run leaves in SM04 until ~timeout: said, not hidden.
  const int64_t left =
      Int(j, "logoff_at_end_failed") + Int(j, "logoff_after_failure_failed");
  if (left > 0) Append(&out, ", ", left, " sessions not logged off");
  Append(&out, "; itsload CPU ",
         fmt::format("{:.0f}%", Num(report, "itsload_cpu_percent")));
  if (auto us = OptNum(report, "itsload_cpu_us_per_request"))
    Append(&out, fmt::format(" ({:.1f} µs per request)", *us));
  out += "\n";

  auto journeys = Items(report, "by_journey");
  if (!journeys.empty()) {
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"journey", "started", "completed", "failed", "interrupted",
                    "requests", "errors"});
    for (auto& t : LatencyTitles()) rows.back().push_back(t);
    for (const auto& [name, js] : journeys) {
      std::vector<std::string> row{name};
      for (const char* key : {"started", "completed", "failed", "interrupted",
                              "requests", "errors"}) {
        auto v = OptNum(*js, key);
        row.push_back(v ? Number(*v) : "-");
      }
      AppendLatencyColumns(&row, At(*js, "latency_ms"));
      rows.push_back(std::move(row));
    }
    Append(&out, "\nper journey (latency in ms):\n", TextTable(rows));
  }
  auto steps = Steps(report);
  if (!steps.empty()) {
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"journey/step", "requests", "errors"});
    for (auto& t : LatencyTitles()) rows.back().push_back(t);
    for (const auto& [name, s] : steps) {
      std::vector<std::string> row{name, Number(Num(*s, "requests")),
                                   Number(Num(*s, "errors"))};
      AppendLatencyColumns(&row, At(*s, "latency_ms"));
      rows.push_back(std::move(row));
    }
    Append(&out, "\nper step (latency in ms):\n", TextTable(rows));
  }
  auto kinds = ErrorsByKind(report);
  if (!kinds.empty()) {
    size_t width = 0;
    for (const auto& [kind, n] : kinds) width = std::max(width, Cat(n).size());
    out += "\nerrors by kind:\n";
    for (const auto& [kind, n] : kinds)
      Append(&out, fmt::format("  {:>{}}  {}\n", n, width, kind));
  }
  if (Int(report, "transport_errors") > 0) {
    Append(&out, "\n",
           fmt::format("{} requests got no response; users backed off {} "
                       "times, {:.1f} s in all\n",
                       Int(report, "transport_errors"), Int(report, "backoffs"),
                       Num(report, "backoff_wait_s")));
  }
  const json& ths = At(report, "thresholds");
  if (ths.is_array() && !ths.empty()) {
    out += "\nthresholds:\n";
    for (const json& t : ths) {
      bool pass = At(t, "ok").is_boolean() && At(t, "ok").get<bool>();
      std::string value = ThresholdValue(t);
      Append(&out, "  ", pass ? "✓ " : "✗ ", Str(t, "threshold"),
             value.empty() ? "" : Cat(" (", value, ")"), "\n");
    }
  }
  std::string aborted = Str(report, "aborted");
  if (!aborted.empty()) Append(&out, "run aborted: ", aborted, "\n");
  return out;
}

}  // namespace its::load
