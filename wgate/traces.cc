// Request tracing in the wgate (docs/architecture.md §7.1): the trace of
// every brokered request (a client's traceparent kept, else a new trace),
// the wgate's own spans (the request, steps 1 and 2), X-ITS-Trace, and the
// trace pages, gathered on demand from every process by GetTrace.
#include <algorithm>
#include <chrono>
#include <memory>

#include "common/log.h"
#include "common/pages.h"
#include "common/strings.h"
#include "common/trace_wire.h"
#include "wgate/outcome.h"
#include "wgate/trace_view.h"
#include "wgate/wgate.h"

namespace its::wgate {
namespace {

// What a wgate span records (Span::kind); the numbers are turned into words
// in OwnSpans, when someone reads the trace.
enum WgateSpan {
  kRequest = 1,  // step 0: num[0] status, num[1] start (!), num[2] POST;
                 // text the service
  kChoose,       // step 1, new session: text the weights and the choice
  kOwner,        // step 1, a session's request: num[0] process, num[1] pid,
                 // num[2] misrouted; text the instance
  kNoOwner,      // step 1: num[0] the refusal (proto Outcome)
  kAssign,       // step 2: num[0] instance index, num[1] gRPC status code;
                 // text the answer
};

// How long the trace page waits for the other processes' spans.
constexpr int kGatherDeadlineMs = 1000;
constexpr size_t kRecentTraces = 50;

}  // namespace

WGate::TraceRef WGate::BeginTrace(const http::Request& req,
                                  const std::string& service, bool start,
                                  Respond* respond) {
  TraceRef t;
  uint64_t parent = 0;
  if (auto header = req.Header("traceparent")) {
    // A malformed or hostile header is ignored: a trace of our own.
    if (auto c = ParseTraceparent(*header)) {
      t.trace = c->trace;
      parent = c->parent;
    }
  }
  if (!t.trace.valid()) t.trace = NewTraceId();
  t.root = NewSpanId();
  Span& s = spans_.Record(t.trace, t.root, parent, 0, kRequest);
  s.start_us = TraceNowMicros();
  s.text = service;  // at most 14 characters: no allocation
  s.num[1] = start;
  s.num[2] = req.method == "POST";
  const size_t index = spans_.last();
  *respond = [this, t, index, start, begun = std::chrono::steady_clock::now(),
              respond = std::move(*respond)](http::Response r) mutable {
    const int64_t end = TraceNowMicros();
    (start ? metrics_.start_seconds : metrics_.step_seconds)
        .Observe(std::chrono::duration<double>(
                     std::chrono::steady_clock::now() - begun)
                     .count());
    if (Span* root = spans_.Still(index, t.root)) {
      root->end_us = end;
      root->num[0] = r.status;
    }
    r.AddHeader("X-ITS-Trace", TraceHex(t.trace));
    respond(std::move(r));
  };
  return t;
}

void WGate::RecordChoice(const proto::AGateRequest& req,
                         const StartPlan& plan) {
  const TraceId trace = TraceOf(req);
  if (!trace.valid()) return;
  Span& s = spans_.Record(trace, NewSpanId(), req.parent_span(), 1, kChoose);
  s.start_us = s.end_us = TraceNowMicros();
  // A new session: rare enough for words now.
  if (plan.routed) {
    s.text = Cat("~agate_routing: instance ",
                 directory_.instance(plan.order[0]).config->name,
                 plan.process ? Cat(", process ", *plan.process) : "");
    return;
  }
  double total = 0;
  for (size_t i = 0; i < directory_.instances().size(); ++i)
    total += directory_.FreeCapacity(i);
  std::string weights;
  for (size_t i = 0; i < directory_.instances().size(); ++i) {
    double free = directory_.FreeCapacity(i);
    Append(&weights, weights.empty() ? "" : ", ",
           directory_.instance(i).config->name, " free ", free,
           fmt::format(" ({:.0f} %)", total > 0 ? 100 * free / total : 0.0));
  }
  if (plan.order.empty()) {
    s.text = Cat("no instance can take a session (", weights, ")");
  } else {
    s.text = Cat("instance ", directory_.instance(plan.order[0]).config->name,
                 " drawn by free capacity: ", weights);
  }
}

void WGate::RecordRoute(const proto::AGateRequest& req,
                        const RouteDecision& d) {
  const TraceId trace = TraceOf(req);
  if (!trace.valid()) return;
  // A dialog step: numbers only, words when the trace is read.
  Span& s = spans_.Record(trace, NewSpanId(), req.parent_span(), 1,
                          d.target ? kOwner : kNoOwner);
  s.start_us = s.end_us = TraceNowMicros();
  if (d.target) {
    s.num[0] = d.target->process();
    s.num[1] = d.target->pid();
    s.num[2] = d.misrouted;
    s.text = d.target->instance();
  } else {
    s.num[0] = d.refusal;
  }
}

WGate::SpanRef WGate::BeginAssign(const proto::AGateRequest& req,
                                  size_t instance) {
  const TraceId trace = TraceOf(req);
  if (!trace.valid()) return {};
  SpanRef ref{0, NewSpanId()};
  Span& s = spans_.Record(trace, ref.id, req.parent_span(), 2, kAssign);
  s.start_us = TraceNowMicros();
  s.num[0] = static_cast<int64_t>(instance);
  ref.index = spans_.last();
  return ref;
}

void WGate::EndAssign(SpanRef ref, const grpc::Status& status,
                      const proto::AssignResult& reply) {
  Span* s = spans_.Still(ref.index, ref.id);
  if (s == nullptr) return;
  s->end_us = TraceNowMicros();
  s->num[1] = status.error_code();
  s->text = status.ok() ? Cat("process ", reply.process().process(), " (pid ",
                              reply.process().pid(), ")")
                        : status.error_message();
}

proto::TraceReply WGate::OwnSpans(TraceId trace) const {
  proto::TraceReply reply;
  for (const Span* s : spans_.Find(trace)) {
    proto::TraceSpan* out = AddSpan(&reply, *s, "wgate", pid_);
    auto& attrs = *out->mutable_attrs();
    switch (s->kind) {
      case kRequest:
        out->set_decided(Cat(s->num[2] ? "POST" : "GET", " /scripts/wgate/",
                             s->text, s->num[1] ? "/!" : "/"));
        attrs["service"] = s->text;
        attrs["status"] = s->end_us ? Cat(s->num[0]) : "no answer yet";
        break;
      case kChoose:
        out->set_decided(s->text);
        break;
      case kOwner:
        out->set_decided(Cat(
            "session routed by its ID to ", s->text, "/", s->num[0], " (pid ",
            s->num[1], ")", s->num[2] ? " - not its owner (routing naive)" : "",
            "; no Mapping Manager asked"));
        attrs["instance"] = s->text;
        attrs["process"] = Cat(s->num[0]);
        attrs["pid"] = Cat(s->num[1]);
        break;
      case kNoOwner:
        out->set_decided(
            Cat("no process to route to: ",
                proto::Outcome_Name(static_cast<proto::Outcome>(s->num[0]))));
        break;
      case kAssign: {
        const std::string& name =
            directory_.instance(static_cast<size_t>(s->num[0])).config->name;
        attrs["instance"] = name;
        out->set_decided(
            s->end_us == 0   ? Cat("Assign at ", name, ": no answer yet")
            : s->num[1] == 0 ? Cat("Assign at ", name, ": ", s->text)
                             : Cat("Assign at ", name, " failed: ", s->text));
        break;
      }
      default:
        break;
    }
  }
  return reply;
}

void WGate::ServeTraceList(Respond respond) {
  nlohmann::json rows = nlohmann::json::array();
  for (TraceId t : spans_.Recent(kRecentTraces)) {
    for (const Span* s : spans_.Find(t)) {
      if (s->kind != kRequest) continue;
      rows.push_back(
          {{"trace_id", TraceHex(t)},
           {"request", Cat(s->num[2] ? "POST" : "GET", " /scripts/wgate/",
                           s->text, s->num[1] ? "/!" : "/")},
           {"status", static_cast<int>(s->num[0])},
           {"start_us", s->start_us}});
      break;
    }
  }
  http::Response r;
  r.body = TraceListHtml(rows);
  r.AddHeader("Cache-Control", "no-store");
  Reply(respond, std::move(r));
}

void WGate::ServeTrace(const std::string& id, bool json, Respond respond) {
  std::optional<TraceId> trace = ParseTraceHex(id);
  if (!trace) {
    ++metrics_.bad_request;
    Reply(respond, Page(400, "Bad trace ID",
                        "A trace ID is 32 lower-case hex digits (the "
                        "X-ITS-Trace header of a response)",
                        ""));
    return;
  }
  proto::TraceReply own = OwnSpans(*trace);
  if (own.spans().empty()) {
    ++metrics_.not_found;
    Reply(respond, Page(404, "Trace not found",
                        Cat("This wgate has no trace ", id,
                            ": it was not made here, or it is too old (only "
                            "the newest spans are kept)"),
                        ""));
    return;
  }
  // Gather the other processes' spans: every Mapping Manager, every AGate
  // process in a directory, the R/3 stub — at once, each with a short
  // deadline; what does not answer is shown as missing.
  struct Gather {
    std::vector<proto::TraceSpan> spans;
    std::vector<std::string> missing;
    int pending = 0;
    Respond respond;
  };
  auto g = std::make_shared<Gather>();
  for (auto& s : *own.mutable_spans()) g->spans.push_back(std::move(s));
  g->respond = std::move(respond);
  auto finish = [this, g, trace = *trace, json] {
    if (--g->pending > 0) return;
    nlohmann::json t = TraceJson(trace, std::move(g->spans), g->missing);
    http::Response r;
    if (json) {
      r.content_type = "application/json";
      r.body = t.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      r.body = TraceHtml(t);
    }
    r.AddHeader("Cache-Control", "no-store");
    Reply(g->respond, std::move(r));
  };
  proto::TraceQuery query;
  query.set_trace_hi(trace->hi);
  query.set_trace_lo(trace->lo);
  auto collect = [g, finish](std::string who) {
    return [g, finish, who = std::move(who)](const grpc::Status& status,
                                             proto::TraceReply& reply) {
      if (status.ok()) {
        for (auto& s : *reply.mutable_spans()) g->spans.push_back(std::move(s));
      } else {
        g->missing.push_back(
            Cat(who, " did not answer: ", status.error_message()));
      }
      finish();
    };
  };
  std::vector<std::pair<std::string, std::string>> agates;  // name, address
  for (const auto& inst : directory_.instances()) {
    for (const auto& p : inst.directory.processes()) {
      if (p.state() == proto::ProcessInfo::DOWN || p.address().empty())
        continue;
      agates.emplace_back(Cat("agate ", p.instance(), "/", p.process()),
                          p.address());
    }
  }
  g->pending = static_cast<int>(managers_.size() + agates.size()) + 1;
  for (size_t i = 0; i < managers_.size(); ++i) {
    proto::MappingManager::Stub* m = managers_[i].get();
    grpc_.Unary<proto::TraceReply>(
        kGatherDeadlineMs,
        [m, query](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
          return m->AsyncGetTrace(ctx, query, cq);
        },
        collect(Cat("Mapping Manager ", directory_.instance(i).config->name)));
  }
  for (const auto& [name, address] : agates) {
    auto& stub = admin_stubs_[address];
    if (!stub) stub = proto::AGate::NewStub(MakeChannel(address));
    grpc_.Unary<proto::TraceReply>(
        kGatherDeadlineMs,
        [stub = stub, query](grpc::ClientContext* ctx,
                             grpc::CompletionQueue* cq) {
          return stub->AsyncGetTrace(ctx, query, cq);
        },
        collect(name));
  }
  proto::R3::Stub* r3 = r3_.get();
  grpc_.Unary<proto::TraceReply>(
      kGatherDeadlineMs,
      [r3, query](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        return r3->AsyncGetTrace(ctx, query, cq);
      },
      collect("r3_stub"));
}

}  // namespace its::wgate
