#pragma once

// What the trace pages show (docs/architecture.md §7.1), pure: the spans
// the wgate gathered from every process, as JSON (/trace/<id>.json, itsadm
// trace) and as a page with an SVG sequence diagram (/trace/<id>).

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/trace.h"
#include "proto/its.pb.h"

namespace its::wgate {

// {"trace_id", "steps" (the ITS steps present, ascending), "spans" (step 0,
// the request, first; then by step and start), "missing" (processes that
// did not answer, in words)}. Each span: span_id, parent_id, process, pid,
// step, start_us, end_us, duration_ms, decided, attrs.
nlohmann::json TraceJson(TraceId trace, std::vector<proto::TraceSpan> spans,
                         const std::vector<std::string>& missing);

// The page: lifelines browser, wgate, Mapping Manager, agate (PID), r3_stub;
// one arrow per span, numbered by its ITS step, labelled with what was
// decided; the same as a table below.
std::string TraceHtml(const nlohmann::json& trace);

// /trace/: the newest traces, newest first, each a link. `rows` are
// {"trace_id", "request", "status", "start_us"} objects.
std::string TraceListHtml(const nlohmann::json& rows);

}  // namespace its::wgate
