// AGateProcess, part 1 of 3: construction, the lookup and dispatch of a
// wgate request (Handle), R/3's events, and the admin listing and load
// report. Logon and restart: logon.cc; dialog steps and session ends:
// session_steps.cc.
#include "agate/agate_process.h"

#include "common/its_protocol.h"
#include "common/load_weight.h"
#include "common/log.h"
#include "common/pages.h"
#include "common/strings.h"
#include "common/trace_wire.h"

namespace its::agate {
namespace {

using State = SessionContext::State;

// The public part of a session ID as a request names it: the GUSID without
// its random part (a public ID stays as it is).
std::string_view PublicPart(std::string_view id) {
  size_t colon = id.rfind(':');
  size_t first = id.find('.', colon == std::string_view::npos ? 0 : colon);
  if (first != std::string_view::npos) {
    size_t second = id.find('.', first + 1);
    if (second != std::string_view::npos) id = id.substr(0, second);
  }
  return id;
}

}  // namespace

AGateProcess::SpanRef AGateProcess::BeginSpan(proto::AGateRequest& req) {
  const TraceId trace = TraceOf(req);
  if (!trace.valid()) return {};
  const uint64_t id = NewSpanId();
  Span& s = spans_.Record(trace, id, req.parent_span(), 4, req.kind());
  s.start_us = TraceNowMicros();
  if (req.kind() != proto::AGateRequest::START)
    SetSpanText(&s.text, PublicPart(req.session()), 120);
  req.set_parent_span(id);  // the request's R/3 call is a child of this span
  return {spans_.last(), id};
}

void AGateProcess::EndSpan(SpanRef ref, const proto::AGateResponse& resp) {
  Span* s = spans_.Still(ref.index, ref.id);
  if (s == nullptr) return;  // overwritten while the request ran
  s->end_us = TraceNowMicros();
  s->num[0] = resp.outcome();
  if (!resp.session_public().empty()) s->text = resp.session_public();
}

proto::TraceReply AGateProcess::Trace(const proto::TraceQuery& query) const {
  proto::TraceReply reply;
  const std::string name =
      Cat("agate ", options_.instance, "/", options_.process);
  for (const Span* s :
       spans_.Find(TraceId{query.trace_hi(), query.trace_lo()})) {
    proto::TraceSpan* out = AddSpan(&reply, *s, name, pid_);
    const auto outcome = static_cast<proto::Outcome>(s->num[0]);
    const std::string outcome_name =
        s->end_us == 0 ? "no answer yet" : proto::Outcome_Name(outcome);
    auto& attrs = *out->mutable_attrs();
    attrs["instance"] = options_.instance;
    attrs["process"] = Cat(options_.process);
    attrs["pid"] = Cat(pid_);
    attrs["outcome"] = outcome_name;
    if (!s->text.empty()) attrs["session"] = s->text;
    switch (s->kind) {
      case proto::AGateRequest::START:
        attrs["request"] = "start";
        out->set_decided(
            s->text.empty()
                ? Cat("no session: ", outcome_name)
                : Cat("session context created, session ID issued: ", s->text,
                      " (", outcome_name, ")"));
        break;
      case proto::AGateRequest::TERMINATE:
        attrs["request"] = "terminate";
        out->set_decided(Cat("termination of ", s->text, ": ", outcome_name));
        break;
      default:
        attrs["request"] = "step";
        out->set_decided(
            outcome == proto::PAGE
                ? Cat("session ", s->text, " found: dialog step (PAGE)")
                : Cat("session ", s->text, ": ", outcome_name));
    }
  }
  return reply;
}

AGateProcess::AGateProcess(const AGateOptions& options, const Clock& clock,
                           Defer defer, const ServiceCatalog& services,
                           R3Link& r3)
    : options_(options),
      clock_(clock),
      defer_(std::move(defer)),
      services_(services),
      r3_(r3),
      ids_(options.instance, options.host, options.process),
      table_(clock, options.incarnation, options.max_sessions, options.random),
      threads_(clock, options.work_threads),
      access_(clock, options.instance, options.process) {
  if (std::string error; !options_.access_log.empty() &&
                         !access_.Open(options_.access_log, &error)) {
    spdlog::error("cannot open {}: {}", options_.access_log, error);
  }
}

void AGateProcess::R3Ended(const proto::R3Down& down) {
  // Sessions R/3 ended on its own arrive pushed on the dialog stream.
  {
    for (const auto& ended : down.ended()) {
      if (pooled_.erase(ended.session())) continue;  // a pooled connection
      auto it = by_r3_session_.find(ended.session());
      if (it == by_r3_session_.end()) {
        if (ended_unknown_.emplace(ended.session(), ended.reason()).second) {
          ended_unknown_order_.push_back(ended.session());
          if (ended_unknown_order_.size() > kEndedUnknownKept) {
            ended_unknown_.erase(ended_unknown_order_.front());
            ended_unknown_order_.pop_front();
          }
        }
        continue;
      }
      auto s = table_.all().find(it->second);
      by_r3_session_.erase(it);
      if (s == table_.all().end() || s->second.state != State::kActive)
        continue;
      s->second.r3_session = 0;  // already gone at R/3
      // Only R/3's timeouts keep the logon data for ~serviceRestart: after an
      // SM05 end or a displacement the user logs on again.
      if (!ended.timeout()) s->second.keep_logon_for = 0;
      EndSession(s->second, State::kEnded, ended.reason());
    }
  }
}

void AGateProcess::R3ConnectionLost() {
  pooled_.clear();  // R/3 ends the pooled sessions of a broken stream too
  pool_closes_.clear();
  int ended = 0;
  for (auto& [slot, s] : table_.all()) {
    if (s.state != State::kActive) continue;
    by_r3_session_.erase(s.r3_session);
    s.r3_session = 0;  // R/3 ends the sessions of a broken stream itself
    EndSession(s, State::kR3Lost, "connection to R/3 broken");
    ++ended;
  }
  if (ended > 0) {
    spdlog::warn("connection to R/3 broken: {} session(s) ended", ended);
  }
}

void AGateProcess::LateR3Answer(const proto::R3Response& resp) {
  if (resp.code() != proto::R3Response::OK || resp.session() == 0) return;
  // A logoff's answer (no screen): the session is ended already. A slow
  // link delivers logoffs late too (StreamR3Link's delay).
  if (!resp.has_screen()) return;
  if (by_r3_session_.count(resp.session()) || pooled_.count(resp.session()))
    return;  // a session we hold, or keep in the pool
  proto::R3Request off;
  off.mutable_logoff()->set_session(resp.session());
  off.mutable_logoff()->set_reason("logon answered after its deadline");
  r3_.Call(std::move(off), [](proto::R3Response&) {});
}

const std::string& AGateProcess::AgateName() const { return agate_name_; }

const std::string& AGateProcess::ClockNow() {
  SimMicros now = clock_.Now();
  if (now / kSimSecond != clock_second_) {
    clock_second_ = now / kSimSecond;
    clock_text_ = ClockText(now, clock_.time_scale());
  }
  return clock_text_;
}

proto::AGateResponse AGateProcess::Response(proto::Outcome outcome,
                                            std::string body) const {
  proto::AGateResponse r;
  r.set_outcome(outcome);
  if (metrics_) metrics_->Answered(outcome);
  r.set_body(std::move(body));
  r.set_process(options_.process);
  r.set_pid(pid_);
  return r;
}

proto::AGateResponse AGateProcess::Message(
    proto::Outcome outcome, const std::string& title, const std::string& text,
    bool clear_cookie, const std::string& extra_html) const {
  proto::AGateResponse r =
      Response(outcome, MessagePage(title, text, "", "", extra_html));
  r.set_clear_session(clear_cookie);
  return r;
}

void AGateProcess::Handle(proto::AGateRequest& req, Reply reply) {
  ++requests_;
  if (metrics_) metrics_->Request();
  if (req.kind() == proto::AGateRequest::START) {
    ++starts_;
    Start(req, reply);
    return;
  }
  // A dialog step names its session by the full GUSID (cookie or URL); a SISP
  // termination by the public ID plus the termination-only token.
  const bool terminate = req.kind() == proto::AGateRequest::TERMINATE;
  auto id = ParseGusid(req.session());
  if (!id.ok() && terminate) id = ParsePublicId(req.session());
  if (!id.ok() || !ids_.Owns(*id)) {
    if (id.ok()) {
      // Another process's session (a balancer without affinity, routing
      // "naive"): this process can end nothing. Only the receiver can tell.
      access_.Write(
          'm', req.client_ip(),
          Cat(id->PublicId(), terminate ? " session command" : " request",
              " misrouted: owner ", id->instance, "/", id->process,
              ", received by ", options_.instance, "/", options_.process,
              " (pid ", pid_, "); nothing ended"),
          TraceOf(req));
    }
    reply(Message(proto::SESSION_NOT_FOUND, "Session not found",
                  "The session does not exist - please log in again", true));
    return;
  }
  // This process issued its IDs with its own host part: another host in an
  // ID of this instance and process is a forgery, not a session of ours.
  if (id->host != ids_.host()) {
    access_.Write(
        'a', req.client_ip(),
        Cat(id->PublicId(), " names host ", id->host, ", not ", ids_.host()),
        TraceOf(req));
    reply(Message(proto::SESSION_NOT_FOUND, "Session not found",
                  "The session does not exist - please log in again", true));
    return;
  }
  SessionTable::Lookup why;
  SessionContext* s = id->random.empty()
                          ? table_.FindByToken(*id, req.term_token(), &why)
                          : table_.Find(*id, &why);
  if (s != nullptr) s->claimed = true;  // its browser has it
  if (s == nullptr) {
    if (why == SessionTable::Lookup::kOtherIncarnation) {
      access_.Write(
          'a', req.client_ip(),
          Cat(id->PublicId(), " belonged to an earlier run of this process"),
          TraceOf(req));
      reply(Message(proto::SESSION_LOST, "Session lost",
                    "The AGate process that held this session ended - please "
                    "log in again",
                    true));
    } else {
      // 'a' (unknown ID) and 'w' (wrong random part or token) look the same to
      // the client.
      bool wrong = why == SessionTable::Lookup::kWrongRandom;
      access_.Write(
          wrong ? 'w' : 'a', req.client_ip(),
          Cat(id->PublicId(), wrong ? " invalid random key or termination token"
                                    : " unknown session ID"),
          TraceOf(req));
      reply(Message(proto::SESSION_NOT_FOUND, "Session not found",
                    "The session does not exist - please log in again", true));
    }
    return;
  }
  // A session serves the service it was started for (its cookie's path says
  // so); a request through another service's URL is no request of it.
  if (!req.service().empty() && req.service() != s->service()) {
    access_.Write('w', req.client_ip(),
                  Cat(id->PublicId(), " belongs to service ", s->service(),
                      ", not ", req.service()),
                  TraceOf(req));
    reply(Message(proto::SESSION_NOT_FOUND, "Session not found",
                  "The session does not exist - please log in again", false));
    return;
  }
  if (s->state != State::kActive) {
    if (terminate) {  // already over: nothing to end, never a restart
      reply(Message(proto::ALREADY_ENDED, "Session ended",
                    "The session had already ended", true));
      return;
    }
    Tombstone(*s, req, reply);
    return;
  }
  if (terminate) {  // ends the session at once, even while a step is with R/3
    Step(*s, req, reply);
    return;
  }
  if (s->busy) {  // one dialog step at a time per session, in arrival order
    auto shared = std::make_shared<proto::AGateRequest>(std::move(req));
    uint32_t slot = s->slot;
    s->waiting.push_back([this, shared, reply, slot] {
      auto it = table_.all().find(slot);
      if (it == table_.all().end()) {
        reply(Message(proto::SESSION_NOT_FOUND, "Session not found",
                      "The session does not exist - please log in again",
                      true));
        return;
      }
      SessionContext& ctx = it->second;
      if (ctx.state != State::kActive) {
        // Queued behind the request that saw the end: its end page (never a
        // restart of its own).
        reply(EndPage(ctx));
      } else {
        Step(ctx, *shared, reply);
      }
    });
    return;
  }
  Step(*s, req, reply);
}
proto::SessionsReply AGateProcess::ListSessions() const {
  proto::SessionsReply reply;
  SimMicros now = clock_.Now();
  for (const auto& [slot, s] : table_.all()) {
    proto::SessionRow* row = reply.add_rows();
    row->set_session(ids_.Public(slot));
    row->set_service(std::string(s.service()));
    row->set_client(std::string(s.client()));
    row->set_user(std::string(s.user()));
    row->set_tcode(std::string(s.tcode()));
    row->set_state(StateName(s.state));
    row->set_idle_s(static_cast<double>(now - s.last_access) / kSimSecond);
    if (s.state == State::kActive) {
      row->set_expires_in_s(
          static_cast<double>(s.last_access + s.timeout - now) / kSimSecond);
    } else {
      // When the record goes: the end page (and, after a timeout with
      // ~userTimeout, the logon data kept for ~serviceRestart) until then.
      row->set_expires_in_s(
          static_cast<double>(std::max<SimMicros>(s.expiry.deadline - now, 0)) /
          kSimSecond);
    }
    row->set_r3_session(s.r3_session);
  }
  return reply;
}

proto::LoadReport AGateProcess::Load() {
  proto::LoadReport r;
  r.set_process(options_.process);
  r.set_pid(pid_);
  r.set_sessions(table_.active());
  r.set_busy_threads(threads_.busy());
  r.set_turnaround_s(threads_.TakeTurnaround());
  r.set_requests(requests_);
  r.set_starts(starts_);
  if (metrics_) {
    metrics_->Load(
        r.sessions(), r.busy_threads(),
        LoadWeight({r.sessions(), options_.max_sessions, r.busy_threads(),
                    options_.work_threads, r.turnaround_s()}),
        threads_.queued(), threads_.waited());
  }
  return r;
}

}  // namespace its::agate
