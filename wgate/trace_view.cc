#include "wgate/trace_view.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/pages.h"
#include "common/params.h"
#include "common/strings.h"

namespace its::wgate {
namespace {

using nlohmann::json;

std::string Ms(int64_t us) { return fmt::format("{:.3f} ms", us / 1000.0); }

std::string Attr(const json& span, const char* key) {
  const json& attrs = span["attrs"];
  auto it = attrs.find(key);
  return it == attrs.end() ? "" : it->get<std::string>();
}

// At most `n` characters for a label in the diagram (the table has it all).
std::string Shorten(const std::string& s, size_t n) {
  return s.size() <= n ? s : Cat(s.substr(0, n - 1), "…");
}

struct Arrow {
  std::string from, to;  // lifeline names
  int step;
  std::string label, title, process;
};

}  // namespace

json TraceJson(TraceId trace, std::vector<proto::TraceSpan> spans,
               const std::vector<std::string>& missing) {
  std::stable_sort(spans.begin(), spans.end(),
                   [](const proto::TraceSpan& a, const proto::TraceSpan& b) {
                     if (a.step() != b.step()) return a.step() < b.step();
                     return a.start_us() < b.start_us();
                   });
  json out;
  out["trace_id"] = TraceHex(trace);
  json steps = json::array(), list = json::array();
  for (const proto::TraceSpan& s : spans) {
    if (s.step() > 0 && (steps.empty() || steps.back() != s.step()))
      steps.push_back(s.step());
    json attrs = json::object();
    for (const auto& [k, v] : s.attrs()) attrs[k] = v;
    list.push_back({{"span_id", SpanHex(s.span_id())},
                    {"parent_id", SpanHex(s.parent_id())},
                    {"process", s.process()},
                    {"pid", s.pid()},
                    {"step", s.step()},
                    {"start_us", s.start_us()},
                    {"end_us", s.end_us()},
                    {"duration_ms", s.end_us() >= s.start_us() && s.end_us()
                                        ? (s.end_us() - s.start_us()) / 1000.0
                                        : 0.0},
                    {"decided", s.decided()},
                    {"attrs", std::move(attrs)}});
  }
  out["steps"] = std::move(steps);
  out["spans"] = std::move(list);
  out["missing"] = missing;
  return out;
}

std::string TraceHtml(const json& trace) {
  const std::string id = trace["trace_id"].get<std::string>();
  // Lifelines, left to right.
  std::vector<std::string> lanes = {"browser", "wgate"};
  std::vector<std::string> labels = {"browser", "wgate"};
  auto lane = [&](const std::string& name, const std::string& label) {
    if (std::find(lanes.begin(), lanes.end(), name) == lanes.end()) {
      lanes.push_back(name);
      labels.push_back(label);
    }
  };
  const json& spans = trace["spans"];
  for (const json& s : spans) {
    int step = s["step"];
    std::string process = s["process"];
    if (step == 2) {
      std::string inst = Attr(s, "instance");
      lane(Cat("mapping_manager ", inst), Cat("Mapping Manager ", inst));
    } else if (step == 3) {
      lane(process, Cat("Mapping Manager ", Attr(s, "instance")));
    }
  }
  for (const json& s : spans) {
    if (s["step"] == 4) {
      lane(s["process"], Cat(s["process"].get<std::string>(), " (pid ",
                             s["pid"].get<int>(), ")"));
    }
  }
  for (const json& s : spans)
    if (s["step"] == 5) lane("r3_stub", "r3_stub (R/3)");

  std::vector<Arrow> arrows;
  const json* root = nullptr;
  for (const json& s : spans) {
    int step = s["step"];
    std::string process = s["process"], decided = s["decided"];
    std::string took =
        Ms(static_cast<int64_t>(s["duration_ms"].get<double>() * 1000));
    switch (step) {
      case 0:
        root = &s;
        arrows.push_back({"browser", "wgate", 0, decided, decided, process});
        break;
      case 1:
        arrows.push_back({"wgate", "wgate", 1, decided, decided, process});
        break;
      case 2:
        arrows.push_back({"wgate", Cat("mapping_manager ", Attr(s, "instance")),
                          2, Cat(decided, " (", took, ")"), decided, process});
        break;
      case 3:
        arrows.push_back({process, "wgate", 3,
                          Cat(Attr(s, "chosen"), ": ", Attr(s, "reason")),
                          decided, process});
        break;
      case 4:
        arrows.push_back({"wgate", process, 4, Cat(decided, " (", took, ")"),
                          decided, process});
        break;
      case 5: {
        // From the agate whose span is its parent.
        std::string from;
        for (const json& p : spans)
          if (p["step"] == 4 && p["span_id"] == s["parent_id"])
            from = p["process"];
        if (from.empty()) {
          for (const std::string& l : lanes)
            if (l.rfind("agate ", 0) == 0) from = l;
        }
        if (from.empty()) {
          lane("agate ?", "agate (did not answer)");
          from = "agate ?";
        }
        arrows.push_back({from, "r3_stub", 5, Cat(decided, " (", took, ")"),
                          decided, process});
        break;
      }
      default:
        break;
    }
  }
  if (root != nullptr) {
    std::string status = Attr(*root, "status");
    arrows.push_back({"wgate", "browser", 0,
                      Cat("HTTP ", status, " after ",
                          Ms(static_cast<int64_t>(
                              (*root)["duration_ms"].get<double>() * 1000))),
                      "the answer", "wgate"});
  }

  constexpr int kLane = 240, kLeft = 130, kTop = 70, kRow = 56;
  const int width = kLeft * 2 + kLane * static_cast<int>(lanes.size() - 1);
  const int height = kTop + kRow * static_cast<int>(arrows.size()) + 30;
  auto x_of = [&](const std::string& name) {
    size_t i = std::find(lanes.begin(), lanes.end(), name) - lanes.begin();
    return kLeft + kLane * static_cast<int>(i);
  };
  std::string svg = Cat(
      "<svg id=\"its-trace-diagram\" xmlns=\"http://www.w3.org/2000/svg\" "
      "width=\"",
      width, "\" height=\"", height, "\" viewBox=\"0 0 ", width, " ", height,
      "\" font-family=\"sans-serif\" font-size=\"12\">"
      "<defs><marker id=\"arrow\" markerWidth=\"10\" markerHeight=\"8\" "
      "refX=\"9\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" "
      "fill=\"#333\"/></marker></defs>");
  for (size_t i = 0; i < lanes.size(); ++i) {
    int x = x_of(lanes[i]);
    Append(&svg, "<g class=\"lifeline\" data-lane=\"", HtmlEscape(lanes[i]),
           "\"><rect x=\"", x - 110,
           "\" y=\"10\" width=\"220\" height=\"30\" "
           "rx=\"4\" fill=\"#eef3fb\" stroke=\"#6b8cc7\"/><text x=\"",
           x, "\" y=\"30\" text-anchor=\"middle\">", HtmlEscape(labels[i]),
           "</text><line x1=\"", x, "\" y1=\"40\" x2=\"", x, "\" y2=\"",
           height - 10, "\" stroke=\"#999\" stroke-dasharray=\"4 4\"/></g>");
  }
  int y = kTop;
  for (const Arrow& a : arrows) {
    y += kRow;
    int x1 = x_of(a.from), x2 = x_of(a.to);
    std::string num = a.step > 0 ? Cat(a.step, " ") : "";
    std::string label = HtmlEscape(Shorten(Cat(num, a.label), 70));
    Append(&svg, "<g class=\"step\" data-step=\"", a.step, "\" data-process=\"",
           HtmlEscape(a.process), "\"><title>", HtmlEscape(Cat(num, a.title)),
           "</title>");
    if (x1 == x2) {  // a decision of one process: a loop
      Append(&svg, "<path d=\"M", x1, ",", y - 14,
             " h40 v18 h-38\" fill=\"none\" "
             "stroke=\"#333\" marker-end=\"url(#arrow)\"/><text x=\"",
             x1 + 46, "\" y=\"", y - 2, "\">", label, "</text>");
    } else {
      int mid = (x1 + x2) / 2;
      Append(&svg, "<line x1=\"", x1, "\" y1=\"", y, "\" x2=\"", x2, "\" y2=\"",
             y, "\" stroke=\"#333\" marker-end=\"url(#arrow)\"/>", "<text x=\"",
             mid, "\" y=\"", y - 6, "\" text-anchor=\"middle\">", label,
             "</text>");
    }
    svg += "</g>";
  }
  svg += "</svg>";

  std::string body =
      Cat("<h1>Trace <code id=\"its-trace-id\">", id, "</code></h1><p>Steps ");
  std::string steps;
  for (const json& s : trace["steps"])
    Append(&steps, steps.empty() ? "" : ",", s.get<int>());
  Append(&body, "<span id=\"its-trace-steps\">", steps.empty() ? "-" : steps,
         "</span> of session establishment (docs: architecture §1.1). "
         "<a href=\"/trace/",
         id,
         ".json\">JSON</a> &middot; <a href=\"/trace/\">recent "
         "traces</a></p>");
  if (!trace["missing"].empty()) {
    body +=
        "<div id=\"its-trace-missing\" style=\"color:#b00\">Missing parts:<ul>";
    for (const json& m : trace["missing"])
      Append(&body, "<li>", HtmlEscape(m.get<std::string>()), "</li>");
    body += "</ul></div>";
  }
  body += svg;
  body +=
      "<table id=\"its-trace-table\"><tr><th>Step</th><th>Process</th>"
      "<th>PID</th><th>Decided</th><th>Duration</th></tr>";
  for (const json& s : spans) {
    int step = s["step"];
    Append(&body, "<tr data-step=\"", step, "\"><td>",
           step == 0 ? std::string("request") : Cat(step), "</td><td>",
           HtmlEscape(s["process"].get<std::string>()), "</td><td>",
           s["pid"].get<int>(), "</td><td>",
           HtmlEscape(s["decided"].get<std::string>()), "</td><td>",
           Ms(static_cast<int64_t>(s["duration_ms"].get<double>() * 1000)),
           "</td></tr>");
  }
  body += "</table>";
  std::string page;
  PageStart(&page, Cat("Trace ", id),
            "<style>table{border-collapse:collapse;margin-top:12px}"
            "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;"
            "text-align:left;vertical-align:top}</style>");
  page += body;
  PageEnd(&page);
  return page;
}

std::string TraceListHtml(const json& rows) {
  std::string body =
      "<h1>Recent traces</h1><p>The newest requests this wgate traced; "
      "older ones are gone once their spans are overwritten.</p>"
      "<table id=\"its-trace-list\"><tr><th>Trace</th><th>Request</th>"
      "<th>Status</th></tr>";
  for (const json& r : rows) {
    std::string id = r["trace_id"];
    Append(&body, "<tr><td><a href=\"/trace/", id, "\"><code>", id,
           "</code></a></td><td>", HtmlEscape(r["request"].get<std::string>()),
           "</td><td>", r["status"].get<int>(), "</td></tr>");
  }
  body += "</table>";
  return HtmlPage("Recent traces", body,
                  "<style>td,th{padding:2px 8px;text-align:left}</style>");
}

}  // namespace its::wgate
