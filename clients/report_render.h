#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace its::load {

// Renderers of itsload's JSON report (the --report file): pure functions of
// it, so a stored report can be rendered again. What a report lacks (an
// older one: no parameters, thresholds, stages, by_journey, p95, arrivals,
// target ...) is left out of what is rendered, never an error.

// A self-contained HTML page (inline SVG and CSS; no scripts, no external
// URLs): the run's parameters and thresholds (passed green, failed red), the
// summary figures, line charts over time with labelled axes (throughput,
// latency, active journeys with the stage target, arrivals), requests per
// AGate process (idle ones with 0), tables per journey, per step and of
// errors by kind. Every string from the report is HTML-escaped.
std::string RenderHtml(const nlohmann::json& report);

// The timeline as CSV (RFC 4180: CRLF line ends; numbers with '.'), for
// --csv: the header
//   t_s,requests,errors,rps,p50_ms,p90_ms,p99_ms,active,arrivals,target
// and a line per timeline entry; a value the entry lacks is an empty field.
// rps is requests over the time since the previous entry.
std::string RenderCsv(const nlohmann::json& report);

// The end-of-run console summary: the line "N requests, N errors, X
// requests/s, latency p50 ... ms; journeys: ...; itsload CPU N%", tables
// per journey and per step, errors by kind, the transport-error line
// ("N requests got no response; users backed off M times, X s in all") when
// some request got none, and a line per threshold ("✓ p99<50ms (12.3 ms)",
// "✗ errors<1% (3.2 %)").
std::string RenderText(const nlohmann::json& report);

// Axis ticks from `lo` to `hi`: every multiple of a round step from the one
// at or below `lo` to the one at or above `hi`. The step is the smallest of
// 1, 2 or 5 times a power of ten that gives at most about `target`
// intervals, and at least `min_step`. Exposed for tests.
std::vector<double> NiceTicks(double lo, double hi, int target,
                              double min_step = 0);

}  // namespace its::load
