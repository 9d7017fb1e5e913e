#pragma once

// Tracing on the wire (docs/architecture.md §7.1): the trace fields of the
// dialog messages, and a recorded Span as the GetTrace answer carries it.

#include <string>

#include "common/trace.h"
#include "proto/its.pb.h"

namespace its {

// trace_hi, trace_lo of an AGateRequest or R3Request (invalid: none).
template <typename Message>
TraceId TraceOf(const Message& m) {
  return TraceId{m.trace_hi(), m.trace_lo()};
}
template <typename Message>
void SetTrace(Message* m, TraceId trace, uint64_t parent_span) {
  m->set_trace_hi(trace.hi);
  m->set_trace_lo(trace.lo);
  m->set_parent_span(parent_span);
}

// Adds `span` to `reply` with what is common to every process; the caller
// fills `decided` and `attrs`.
inline proto::TraceSpan* AddSpan(proto::TraceReply* reply, const Span& span,
                                 const std::string& process, int pid) {
  proto::TraceSpan* out = reply->add_spans();
  out->set_span_id(span.id);
  out->set_parent_id(span.parent);
  out->set_process(process);
  out->set_pid(pid);
  out->set_step(span.step);
  out->set_start_us(span.start_us);
  out->set_end_us(span.end_us);
  return out;
}

}  // namespace its
