// AGateProcess, part 3 of 3: the dialog steps of an active session (one at
// a time, in arrival order), session commands and logoff, ending a session
// (R/3 logoff, tombstone, queued requests) and the ~timeout tick.
#include "agate/agate_process.h"
#include "agate/render.h"
#include "agate/sisp.h"
#include "common/its_protocol.h"
#include "common/params.h"
#include "common/strings.h"
#include "common/trace_wire.h"

namespace its::agate {
namespace {

using State = SessionContext::State;

constexpr char kTimedOut[] = "Session timed out - please log in again";
constexpr char kR3Lost[] =
    "The connection to the R/3 system was broken and R/3 ended the session - "
    "please log in again";
constexpr char kR3Slow[] =
    "Timeout during communication with the R/3 system - your session is kept, "
    "please try again";
constexpr std::string_view kReplacedReason =
    "the browser started the service anew";

// The session_ends_total{reason} of an end (agate/agate_metrics.h).
EndReason ReasonOf(State why, std::string_view reason) {
  switch (why) {
    case State::kTimedOut:
      return EndReason::kTimeout;
    case State::kEnded:
      return EndReason::kR3Ended;
    case State::kR3Lost:
      return EndReason::kR3Lost;
    default:
      break;
  }
  if (reason == kReplacedReason) return EndReason::kReplaced;
  if (reason == SessionCommandName(proto::NEX)) return EndReason::kNex;
  if (why == State::kAborted ||
      reason == SessionCommandName(proto::USR_LOGOFF)) {
    return EndReason::kTerminated;
  }
  return EndReason::kLogoff;
}

}  // namespace

proto::AGateResponse AGateProcess::EndPage(const SessionContext& s) const {
  switch (s.state) {
    case State::kR3Lost:
      return Message(proto::SESSION_ENDED, "Session ended", kR3Lost, true,
                     SispScriptFor(s, ids_, "SRV_ERROR"));
    case State::kLoggedOff:
      return Message(proto::SESSION_ENDED, "Logged off",
                     "You have logged off - please log in again", true,
                     SispScriptFor(s, ids_, "SRV_ERROR"));
    case State::kAborted:
      return Message(proto::SESSION_ENDED, "Session ended",
                     "The session was ended when its browser window closed - "
                     "please log in again",
                     true, SispScriptFor(s, ids_, "SRV_ERROR"));
    case State::kTimedOut:
    case State::kEnded:
    case State::kActive:
      break;
  }
  return Message(proto::SESSION_ENDED, "Session timed out", kTimedOut, true,
                 SispScriptFor(s, ids_, "SRV_ERROR"));
}

SessionContext* AGateProcess::FindByPublicId(
    const std::string& session_public) {
  auto id = ParsePublicId(session_public);
  if (!id.ok()) return nullptr;
  auto it = table_.all().find(id->slot);
  if (it == table_.all().end() || ids_.Public(id->slot) != session_public)
    return nullptr;
  return &it->second;
}

void AGateProcess::EndLost(SessionContext& s, std::string_view how) {
  spdlog::warn("new session {} {}: logging it off", ids_.Public(s.slot), how);
  EndSession(s, State::kLoggedOff,
             "nobody received the new session (its wgate is gone)");
}

void AGateProcess::EndUnclaimed(const std::string& session_public,
                                Unclaimed why) {
  SessionContext* s = FindByPublicId(session_public);
  if (!s || s->state != State::kActive) return;
  switch (why) {
    case Unclaimed::kNoStream:
      EndLost(*s, "has no stream back to the wgate that asked for it (gone)");
      return;
    case Unclaimed::kNotDelivered:
      spdlog::info(
          "new session {} did not reach its browser (gone, or the answer "
          "came too late): logging it off",
          session_public);
      EndSession(*s, State::kLoggedOff,
                 "the browser did not receive the new session");
      return;
    case Unclaimed::kStreamClosed:
      if (s->claimed) return;
      if (options_.unclaimed_grace <= 0) {
        EndLost(*s, "was lost with the wgate that asked for it");
        return;
      }
      spdlog::info(
          "new session {} was not confirmed before its wgate's stream closed: "
          "ended in {:.1f} s unless its browser comes",
          session_public,
          static_cast<double>(options_.unclaimed_grace) / kSimSecond /
              clock_.time_scale());
      orphans_.push_back(
          Orphan{s->slot, s->random, clock_.Now() + options_.unclaimed_grace});
      return;
  }
}

void AGateProcess::Claim(const std::string& session_public) {
  if (SessionContext* s = FindByPublicId(session_public)) s->claimed = true;
}

bool AGateProcess::EndOrphans() {
  const SimMicros now = clock_.Now();
  for (size_t n = 0; !orphans_.empty() && orphans_.front().deadline <= now;
       ++n) {
    if (n == SessionTable::kExpiryBudget) return false;  // next turn
    const Orphan orphan = orphans_.front();
    orphans_.pop_front();
    auto it = table_.all().find(orphan.slot);
    // Gone, or its slot reused after the 24-bit counter wrapped.
    if (it == table_.all().end() || it->second.random != orphan.random ||
        it->second.state != State::kActive || it->second.claimed) {
      continue;
    }
    EndLost(it->second,
            "was lost with the wgate that asked for it (no request came with "
            "it)");
  }
  return true;
}

bool AGateProcess::EndSession(SessionContext& s, State why,
                              const std::string& reason,
                              std::string_view client_ip, TraceId trace,
                              uint64_t parent_span) {
  const bool r3_called = s.r3_session != 0;
  // Logoff, abort and expiry return the R/3 connection to the pool, if there
  // is one; R/3 ending it and a lost R/3 leave nothing to keep.
  const bool pooled = s.r3_session != 0 && options_.r3_pool_keep > 0 &&
                      (why == State::kLoggedOff || why == State::kAborted ||
                       why == State::kTimedOut);
  if (s.r3_session != 0) {
    by_r3_session_.erase(s.r3_session);
    if (pooled) {
      KeepInPool(s.r3_session, trace, parent_span);
    } else {
      proto::R3Request off;
      off.mutable_logoff()->set_session(s.r3_session);
      off.mutable_logoff()->set_reason(reason);
      if (trace.valid()) SetTrace(&off, trace, parent_span);
      r3_.Call(std::move(off), [](proto::R3Response&) {});
    }
  }
  // ~userTimeout keeps the logon data after a timeout (the agate's
  // ~timeout, or R/3's idle limits: R3Ended keeps keep_logon_for only for
  // those), for ~serviceRestart to log on again without the user. Any other
  // end forgets the password at once (a restart after an R/3 end or a lost
  // connection shows the logon page; see Tombstone).
  bool keep = why == State::kTimedOut || why == State::kEnded;
  s.logon_kept = keep && s.keep_logon_for > 0;
  if (!s.logon_kept) s.text.set(SessionContext::kPassword, "");
  // The tombstone tells the next request why; with ~userTimeout it also keeps
  // the logon data for a restart.
  table_.End(s, why, s.logon_kept ? s.keep_logon_for : kSimHour);
  if (metrics_) metrics_->Ended(ReasonOf(why, reason));
  char type = why == State::kTimedOut                         ? 'o'
              : why == State::kAborted                        ? 't'
              : why == State::kEnded || why == State::kR3Lost ? 'e'
                                                              : 'l';
  access_.Write(type, client_ip,
                Cat(ids_.Public(s.slot), " session ended: ", reason,
                    pooled ? "; R/3 connection kept in the pool" : ""),
                trace);
  // Requests queued behind a step in flight: each gets the end page now.
  for (auto& next : s.waiting) defer_(std::move(next));
  s.waiting.clear();
  s.waiting.shrink_to_fit();
  return r3_called;
}

void AGateProcess::Step(SessionContext& s, proto::AGateRequest& req,
                        const Reply& reply) {
  Params params;
  for (auto& p : *req.mutable_params())
    params.Set(p.name(), std::move(*p.mutable_value()));
  table_.Touch(s);

  const proto::SessionCommand command = req.command();
  if (req.kind() == proto::AGateRequest::TERMINATE ||
      command == proto::USR_ABORT || command == proto::USR_LOGOFF ||
      command == proto::UNKNOWN_COMMAND) {
    if (!EndsSession(command)) {
      reply(Message(proto::BAD_COMMAND, "Bad session command",
                    "Unknown session command", false));
      return;
    }
    // USR_LOGOFF is a logoff, USR_ABORT a closed window: neither keeps the
    // logon data (only timeouts do, for ~serviceRestart).
    std::string reason = req.replaced()
                             ? std::string(kReplacedReason)
                             : std::string(SessionCommandName(command));
    const bool r3_called =
        EndSession(s, IsLogoff(command) ? State::kLoggedOff : State::kAborted,
                   reason, req.client_ip(), TraceOf(req), req.parent_span());
    proto::AGateResponse r = Message(proto::TERMINATED, "Session terminated",
                                     "The session was terminated", true,
                                     SispScriptFor(s, ids_, "SRV_CLOSE"));
    r.set_r3_called(r3_called);
    reply(std::move(r));
    RunNextWaiting(s);
    return;
  }
  if (EndsSession(command)) {  // ~command=logoff, /nex in a dialog step
    std::string exit_url = s.Param("~exiturl");
    // Relative targets, or configured hosts: no open redirect, no header
    // splitting.
    if (!IsSafeRedirect(exit_url, options_.exit_url_hosts)) exit_url.clear();
    const bool r3_called = EndSession(
        s, State::kLoggedOff, std::string(SessionCommandName(command)),
        req.client_ip(), TraceOf(req), req.parent_span());
    // A SISP session reports SRV_CLOSE (the portal follows redirectURL);
    // a plain one is redirected to ~exitURL.
    proto::AGateResponse r =
        Message(proto::LOGGED_OFF, "Logged off",
                "You have logged off. Your session has ended.", true,
                SispScriptFor(s, ids_, "SRV_CLOSE", exit_url));
    r.set_r3_called(r3_called);
    if (!exit_url.empty() && !s.sisp) {
      r.set_location(exit_url);  // the wgate answers 302
    }
    reply(std::move(r));
    RunNextWaiting(s);
    return;
  }

  s.busy = true;
  uint32_t slot = s.slot;
  std::string client_ip = req.client_ip();
  const TraceId trace = TraceOf(req);
  const uint64_t span = req.parent_span();  // this agate's (BeginSpan)
  auto shared_params = std::make_shared<Params>(std::move(params));
  threads_.Run([=, this](SimMicros started) {
    auto it = table_.all().find(slot);
    if (it == table_.all().end()) {
      threads_.Release(started);
      reply(
          Message(proto::SESSION_ENDED, "Session timed out", kTimedOut, true));
      return;
    }
    if (it->second.state != State::kActive) {  // ended while queued
      threads_.Release(started);
      reply(EndPage(it->second));
      return;
    }
    proto::R3Request r3req;
    proto::R3Step* step = r3req.mutable_step();
    step->set_session(it->second.r3_session);
    step->set_okcode(shared_params->GetOr("~okcode", "/00"));
    SetTrace(&r3req, trace, span);
    for (const auto& [name, value] : shared_params->entries()) {
      if (!name.empty() && name[0] != '~')
        (*step->mutable_fields())[name] = value;
    }
    r3_.Call(std::move(r3req), [=, this](proto::R3Response& r3resp) {
      threads_.Release(started);
      // Every answer from here on followed a call to R/3 (step 5).
      auto answer = [&reply](proto::AGateResponse r) {
        r.set_r3_called(true);
        reply(std::move(r));
      };
      if (metrics_) metrics_->StepDone(RealSecondsSince(started));
      auto it = table_.all().find(slot);
      if (it == table_.all().end()) {
        answer(Message(proto::SESSION_ENDED, "Session timed out", kTimedOut,
                       true));
        return;
      }
      SessionContext& ctx = it->second;
      ctx.busy = false;
      if (ctx.state == State::kActive &&
          r3resp.code() == proto::R3Response::TIMEOUT) {
        // R/3 may still be working (hung, not gone): the session stays.
        access_.Write('r', client_ip,
                      Cat(ids_.Public(ctx.slot), " R/3 did not answer in time"),
                      trace);
        proto::AGateResponse r =
            Message(proto::R3_TIMEOUT, "R/3 did not answer", kR3Slow, false,
                    SispScriptFor(ctx, ids_, "USR_OPEN"));
        answer(std::move(r));
        RunNextWaiting(ctx);
        return;
      }
      if (ctx.state != State::kActive ||
          r3resp.code() != proto::R3Response::OK) {
        if (ctx.state == State::kActive) {
          bool lost = r3resp.code() == proto::R3Response::CONNECTION_LOST;
          ctx.keep_logon_for = 0;  // no timeout: nothing kept for a restart
          if (lost) {
            by_r3_session_.erase(ctx.r3_session);
            ctx.r3_session = 0;
          }
          EndSession(ctx, lost ? State::kR3Lost : State::kEnded, r3resp.error(),
                     client_ip, trace);
        }
        answer(EndPage(ctx));
        RunNextWaiting(ctx);
        return;
      }
      table_.Touch(ctx);
      ctx.text.set(SessionContext::kTcode, r3resp.screen().tcode());
      access_.Write('r', client_ip,
                    Cat(ids_.Public(ctx.slot),
                        " ~okcode=", shared_params->GetOr("~okcode", "/00")),
                    trace);
      RenderContext rc{ctx.service(),
                       // only a URL carries it: no string per step otherwise
                       ctx.cookies_off ? ids_.Full(ctx.slot, ctx.random_hex())
                                       : std::string(),
                       ctx.cookies_off, ctx.user(), AgateName(),
                       SispScriptFor(ctx, ids_, "USR_OPEN"), ClockNow(),
                       trace.valid() ? TraceHex(trace) : std::string()};
      answer(Response(proto::PAGE, RenderScreen(r3resp.screen(), rc)));
      RunNextWaiting(ctx);
    });
  });
}

void AGateProcess::RunNextWaiting(SessionContext& s) {
  if (s.waiting.empty() || s.busy) return;
  auto next = std::move(s.waiting.front());
  s.waiting.erase(s.waiting.begin());
  defer_(std::move(next));
}

void AGateProcess::KeepInPool(uint64_t r3_session, TraceId trace,
                              uint64_t parent_span) {
  // The pool resets the connection's context: "/n" ends the transaction and
  // releases its locks; the user session stays logged on.
  proto::R3Request reset;
  reset.mutable_step()->set_session(r3_session);
  reset.mutable_step()->set_okcode("/n");
  if (trace.valid()) SetTrace(&reset, trace, parent_span);
  r3_.Call(std::move(reset), [](proto::R3Response&) {});
  pooled_.insert(r3_session);
  pool_closes_.emplace_back(clock_.Now() + options_.r3_pool_keep, r3_session);
}

void AGateProcess::ClosePooled() {
  const SimMicros now = clock_.Now();
  while (!pool_closes_.empty() && pool_closes_.front().first <= now) {
    uint64_t r3_session = pool_closes_.front().second;
    pool_closes_.pop_front();
    if (pooled_.erase(r3_session) == 0) continue;  // R/3 ended it already
    proto::R3Request off;
    off.mutable_logoff()->set_session(r3_session);
    off.mutable_logoff()->set_reason("connection pool: kept long enough");
    r3_.Call(std::move(off), [](proto::R3Response&) {});
  }
}

bool AGateProcess::Tick() {
  access_.Flush();
  ClosePooled();
  const bool orphans_done = EndOrphans();
  // ~timeout counts from the last request, also for a session whose step is
  // with R/3 or queued for a work thread: it ends now, with its R/3 logoff;
  // the step's answer and every queued request get the timeout page.
  const bool expired = table_.Advance([this](SessionContext& s) {
    EndSession(s, State::kTimedOut,
               s.busy ? "timeout during a step" : "timeout");
  });
  return orphans_done && expired;
}

}  // namespace its::agate
