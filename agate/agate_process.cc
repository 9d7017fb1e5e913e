#include "agate/agate_process.h"

#include "agate/render.h"
#include "agate/sisp.h"
#include "common/its_protocol.h"
#include "common/log.h"
#include "common/pages.h"
#include "common/strings.h"

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

// Whole minutes/hours of a service parameter, or `fallback`.
SimMicros Duration(const std::string& value, SimMicros unit,
                   SimMicros fallback) {
  int64_t v;
  return ParseInt(value, &v) && v >= 0 ? v * unit : fallback;
}

std::string FirstWord(std::string_view s) {
  s = Trim(s);
  size_t sp = s.find_first_of(" \t");
  return std::string(s.substr(0, sp));
}

}  // namespace

AGateProcess::AGateProcess(const AGateOptions& options, const Clock& clock,
                           Defer defer, const ServiceCatalog& services,
                           R3Link& r3)
    : options_(options),
      clock_(clock),
      defer_(std::move(defer)),
      services_(services),
      r3_(r3),
      ids_(options.instance, options.host, options.process),
      table_(clock, options.incarnation, options.max_sessions),
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
      auto it = by_r3_session_.find(ended.session());
      if (it == by_r3_session_.end()) continue;
      auto s = table_.all().find(it->second);
      by_r3_session_.erase(it);
      if (s == table_.all().end() || s->second->state != State::kActive)
        continue;
      s->second->r3_session = 0;  // already gone at R/3
      EndSession(*s->second, State::kEnded, ended.reason());
    }
  }
}

void AGateProcess::R3ConnectionLost() {
  int ended = 0;
  for (const auto& [slot, s] : table_.all()) {
    if (s->state != State::kActive) continue;
    by_r3_session_.erase(s->r3_session);
    s->r3_session = 0;  // R/3 ends the sessions of a broken stream itself
    EndSession(*s, State::kR3Lost, "connection to R/3 broken");
    ++ended;
  }
  if (ended > 0) {
    spdlog::warn("connection to R/3 broken: {} session(s) ended", ended);
  }
}

void AGateProcess::LateR3Answer(const proto::R3Response& resp) {
  if (resp.code() != proto::R3Response::OK || resp.session() == 0) return;
  if (by_r3_session_.count(resp.session())) return;  // a session we hold
  proto::R3Request off;
  off.mutable_logoff()->set_session(resp.session());
  off.mutable_logoff()->set_reason("logon answered after its deadline");
  r3_.Call(std::move(off), [](proto::R3Response&) {});
}

const std::string& AGateProcess::AgateName() const { return agate_name_; }

proto::AGateResponse AGateProcess::Response(proto::Outcome outcome,
                                            std::string body) const {
  proto::AGateResponse r;
  r.set_outcome(outcome);
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
    reply(Message(proto::SESSION_NOT_FOUND, "Session not found",
                  "The session does not exist - please log in again", true));
    return;
  }
  SessionTable::Lookup why;
  SessionContext* s = id->random.empty()
                          ? table_.FindByToken(*id, req.term_token(), &why)
                          : table_.Find(*id, &why);
  if (s == nullptr) {
    if (why == SessionTable::Lookup::kOtherIncarnation) {
      access_.Write(
          'a', req.client_ip(),
          Cat(id->PublicId(), " belonged to an earlier run of this process"));
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
                                    : " unknown session ID"));
      reply(Message(proto::SESSION_NOT_FOUND, "Session not found",
                    "The session does not exist - please log in again", true));
    }
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
      SessionContext& ctx = *it->second;
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

void AGateProcess::Start(proto::AGateRequest& req, const Reply& reply,
                         std::shared_ptr<const SessionContext> previous) {
  const bool restarted = previous != nullptr;
  const Params* service = services_.Find(req.service());
  if (service == nullptr) {
    reply(Message(proto::SERVICE_NOT_FOUND, "Service not found",
                  Cat("Service ", req.service(), " does not exist"), false));
    return;
  }
  Params url;
  for (const auto& p : req.params()) url.Set(p.name(), p.value());
  auto param = [&](std::string_view name) {
    if (auto v = url.Get(name)) return std::string(*v);
    if (previous) return previous->Param(name);
    if (auto v = service->Get(name)) return std::string(*v);
    return std::string();
  };
  LogonData logon_data = ReadLogonData(param);
  if (previous) {  // restart with the kept logon data
    logon_data = {previous->client, previous->user, previous->password,
                  previous->language};
  }
  if (!logon_data.complete()) {
    reply(Response(proto::LOGON_PAGE,
                   LogonPage(req.service(), url, "", logon_data.client,
                             logon_data.language)));
    return;
  }
  const std::string& client = logon_data.client;
  const std::string& login = logon_data.user;
  const std::string& password = logon_data.password;
  const std::string& language = logon_data.language;
  if (table_.active() >= table_.max_sessions()) {
    reply(Message(proto::NO_CAPACITY, "No free capacity",
                  "The ITS has no free capacity - please try again later",
                  false));
    return;
  }
  std::string tcode = FirstWord(param("~transaction"));
  auto shared_req = std::make_shared<proto::AGateRequest>(std::move(req));
  threads_.Run([=, this](SimMicros started) {
    proto::R3Request r3req;
    proto::R3Logon* logon = r3req.mutable_logon();
    logon->set_client(client);
    logon->set_user(login);
    logon->set_password(password);
    logon->set_language(language);
    logon->set_tcode(tcode);
    logon->set_terminal(AgateName());
    logon->set_service(ToLower(shared_req->service()));
    r3_.Call(std::move(r3req), [=, this](proto::R3Response& r3resp) {
      threads_.Release(started);
      Params url;
      for (const auto& p : shared_req->params()) url.Set(p.name(), p.value());
      if (r3resp.code() != proto::R3Response::OK) {
        access_.Write('f', shared_req->client_ip(),
                      Cat("logon of ", ToUpper(login), " to ",
                          shared_req->service(), " failed: ", r3resp.error()));
      }
      if (r3resp.code() == proto::R3Response::BAD_LOGON) {
        reply(Response(proto::LOGON_FAILED,
                       LogonPage(shared_req->service(), url, r3resp.error(),
                                 client, language)));
        return;
      }
      if (r3resp.code() == proto::R3Response::CONNECTION_LOST) {
        reply(Message(proto::R3_UNREACHABLE, "Logon not possible",
                      "Connection to the R/3 system broken - please try "
                      "again later",
                      false));
        return;
      }
      if (r3resp.code() == proto::R3Response::TIMEOUT) {
        reply(Message(proto::R3_TIMEOUT, "Logon not possible",
                      "Timeout during communication with the R/3 system - "
                      "please try again later",
                      false));
        return;
      }
      if (r3resp.code() != proto::R3Response::OK) {
        reply(Message(proto::LOGON_REFUSED, "Logon not possible",
                      r3resp.error(), false));
        return;
      }
      SessionContext* s = table_.Create();
      if (s == nullptr) {  // filled up while R/3 worked
        proto::R3Request off;
        off.mutable_logoff()->set_session(r3resp.session());
        r3_.Call(std::move(off), [](proto::R3Response&) {});
        reply(Message(proto::NO_CAPACITY, "No free capacity",
                      "The ITS has no free capacity - please try again later",
                      false));
        return;
      }
      s->service = ToLower(shared_req->service());
      s->service_params = services_.Find(s->service);
      EraseSecrets(url);
      if (previous) {
        s->overrides = previous->overrides;
      } else {
        s->overrides = std::move(url);
      }
      s->client = client;
      s->user = ToUpper(login);
      s->password = password;
      s->language = language;
      s->r3_session = r3resp.session();
      s->tcode = r3resp.screen().tcode();
      s->timeout = Duration(s->Param("~timeout"), kSimMinute, 15 * kSimMinute);
      s->keep_logon_for = Duration(s->Param("~usertimeout"), kSimHour, 0);
      s->sisp = s->Param("SAPWP_ACTIVE") == "1";
      if (s->sisp) s->term_token = NewSessionRandom();
      by_r3_session_[s->r3_session] = s->slot;
      table_.Touch(*s);
      access_.Write(
          'n', shared_req->client_ip(),
          Cat(ids_.Public(s->slot), " new session of ", s->user, " to ",
              s->service, restarted ? " (~serviceRestarted)" : ""));
      RenderContext ctx{s->service,
                        ids_.Full(s->slot, s->random),
                        s->Param("~cookies", "1") == "0",
                        s->user,
                        AgateName(),
                        SispScriptFor(*s, ids_, "USR_OPEN")};
      proto::Screen& screen = *r3resp.mutable_screen();
      if (restarted) {
        screen.set_message("The service was restarted (~serviceRestarted=X)");
        screen.set_message_type("I");
      }
      proto::AGateResponse r = Response(
          restarted ? proto::SERVICE_RESTARTED : proto::SESSION_STARTED,
          RenderScreen(screen, ctx));
      if (!ctx.session_in_url) r.set_set_session(ctx.gusid);  // ~cookies 1
      reply(std::move(r));
    });
  });
}

void AGateProcess::Tombstone(SessionContext& s, proto::AGateRequest& req,
                             const Reply& reply) {
  switch (s.state) {
    case State::kTimedOut:
    case State::kEnded:
    case State::kR3Lost:
      if (s.Param("~servicerestart", "0") == "1") {
        // ITS: re-entering the old URL starts the service anew.
        proto::AGateRequest start;
        start.set_kind(proto::AGateRequest::START);
        start.set_service(s.service);
        for (const auto& p : req.params()) *start.add_params() = p;
        if (s.logon_kept) {
          auto* p = start.add_params();
          p->set_name("~servicerestarted");
          p->set_value("X");
          // The old tombstone goes; the new session gets a new ID.
          auto old = std::make_shared<SessionContext>();
          old->overrides = s.overrides;
          old->service_params = s.service_params;
          old->client = s.client;
          old->user = s.user;
          old->password = s.password;
          old->language = s.language;
          table_.Erase(s.slot);
          Start(start, reply, std::move(old));
        } else {
          table_.Erase(s.slot);
          Start(start, reply);
        }
        return;
      }
      reply(EndPage(s));
      return;
    case State::kLoggedOff:
    case State::kAborted:
      reply(EndPage(s));
      return;
    case State::kActive:
      break;
  }
}

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

void AGateProcess::EndSession(SessionContext& s, State why,
                              const std::string& reason) {
  if (s.r3_session != 0) {
    proto::R3Request off;
    off.mutable_logoff()->set_session(s.r3_session);
    off.mutable_logoff()->set_reason(reason);
    by_r3_session_.erase(s.r3_session);
    r3_.Call(std::move(off), [](proto::R3Response&) {});
  }
  bool keep =
      why == State::kTimedOut || why == State::kEnded || why == State::kAborted;
  s.logon_kept = keep && s.keep_logon_for > 0;
  if (!s.logon_kept) s.password.clear();
  // The tombstone tells the next request why; with ~userTimeout it also keeps
  // the logon data for a restart.
  table_.End(s, why, s.logon_kept ? s.keep_logon_for : kSimHour);
  char type = why == State::kTimedOut                         ? 'o'
              : why == State::kAborted                        ? 't'
              : why == State::kEnded || why == State::kR3Lost ? 'e'
                                                              : 'l';
  access_.Write(type, "-",
                Cat(ids_.Public(s.slot), " session ended: ", reason));
  // Requests queued behind a step in flight: each gets the end page now.
  for (auto& next : s.waiting) defer_(std::move(next));
  s.waiting.clear();
  s.waiting.shrink_to_fit();
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
    // USR_LOGOFF also forgets the kept logon data; USR_ABORT keeps it
    // (~userTimeout).
    std::string reason = req.replaced()
                             ? "the browser started the service anew"
                             : std::string(SessionCommandName(command));
    EndSession(s, ForgetsLogon(command) ? State::kLoggedOff : State::kAborted,
               reason);
    reply(Message(proto::TERMINATED, "Session terminated",
                  "The session was terminated", true,
                  SispScriptFor(s, ids_, "SRV_CLOSE")));
    RunNextWaiting(s);
    return;
  }
  if (EndsSession(command)) {  // ~command=logoff, /nex in a dialog step
    std::string exit_url = s.Param("~exiturl");
    // Relative targets, or configured hosts: no open redirect, no header
    // splitting.
    if (!IsSafeRedirect(exit_url, options_.exit_url_hosts)) exit_url.clear();
    EndSession(s, State::kLoggedOff, std::string(SessionCommandName(command)));
    // A SISP session reports SRV_CLOSE (the portal follows redirectURL);
    // a plain one is redirected to ~exitURL.
    proto::AGateResponse r =
        Message(proto::LOGGED_OFF, "Logged off",
                "You have logged off. Your session has ended.", true,
                SispScriptFor(s, ids_, "SRV_CLOSE", exit_url));
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
  auto shared_params = std::make_shared<Params>(std::move(params));
  threads_.Run([=, this](SimMicros started) {
    auto it = table_.all().find(slot);
    if (it == table_.all().end()) {
      threads_.Release(started);
      reply(
          Message(proto::SESSION_ENDED, "Session timed out", kTimedOut, true));
      return;
    }
    if (it->second->state != State::kActive) {  // ended while queued
      threads_.Release(started);
      reply(EndPage(*it->second));
      return;
    }
    proto::R3Request r3req;
    proto::R3Step* step = r3req.mutable_step();
    step->set_session(it->second->r3_session);
    step->set_okcode(shared_params->GetOr("~okcode", "/00"));
    for (const auto& [name, value] : shared_params->entries()) {
      if (!name.empty() && name[0] != '~')
        (*step->mutable_fields())[name] = value;
    }
    r3_.Call(std::move(r3req), [=, this](proto::R3Response& r3resp) {
      threads_.Release(started);
      auto it = table_.all().find(slot);
      if (it == table_.all().end()) {
        reply(Message(proto::SESSION_ENDED, "Session timed out", kTimedOut,
                      true));
        return;
      }
      SessionContext& ctx = *it->second;
      ctx.busy = false;
      if (ctx.state == State::kActive &&
          r3resp.code() == proto::R3Response::TIMEOUT) {
        // R/3 may still be working (hung, not gone): the session stays.
        access_.Write(
            'r', client_ip,
            Cat(ids_.Public(ctx.slot), " R/3 did not answer in time"));
        proto::AGateResponse r =
            Message(proto::R3_TIMEOUT, "R/3 did not answer", kR3Slow, false,
                    SispScriptFor(ctx, ids_, "USR_OPEN"));
        reply(std::move(r));
        RunNextWaiting(ctx);
        return;
      }
      if (ctx.state != State::kActive ||
          r3resp.code() != proto::R3Response::OK) {
        if (ctx.state == State::kActive) {
          bool lost = r3resp.code() == proto::R3Response::CONNECTION_LOST;
          if (lost) {
            by_r3_session_.erase(ctx.r3_session);
            ctx.r3_session = 0;
          }
          EndSession(ctx, lost ? State::kR3Lost : State::kEnded,
                     r3resp.error());
        }
        reply(EndPage(ctx));
        RunNextWaiting(ctx);
        return;
      }
      table_.Touch(ctx);
      ctx.tcode = r3resp.screen().tcode();
      access_.Write('r', client_ip,
                    Cat(ids_.Public(ctx.slot),
                        " ~okcode=", shared_params->GetOr("~okcode", "/00")));
      RenderContext rc{ctx.service,
                       ids_.Full(ctx.slot, ctx.random),
                       ctx.Param("~cookies", "1") == "0",
                       ctx.user,
                       AgateName(),
                       SispScriptFor(ctx, ids_, "USR_OPEN")};
      reply(Response(proto::PAGE, RenderScreen(r3resp.screen(), rc)));
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

void AGateProcess::Tick() {
  access_.Flush();
  // ~timeout counts from the last request, also for a session whose step is
  // with R/3 or queued for a work thread: it ends now, with its R/3 logoff;
  // the step's answer and every queued request get the timeout page.
  table_.Advance([this](SessionContext& s) {
    EndSession(s, State::kTimedOut,
               s.busy ? "timeout during a step" : "timeout");
  });
}

proto::SessionsReply AGateProcess::ListSessions() const {
  proto::SessionsReply reply;
  SimMicros now = clock_.Now();
  for (const auto& [slot, s] : table_.all()) {
    proto::SessionRow* row = reply.add_rows();
    row->set_session(ids_.Public(slot));
    row->set_service(s->service);
    row->set_client(s->client);
    row->set_user(s->user);
    row->set_tcode(s->tcode);
    row->set_state(StateName(s->state));
    row->set_idle_s(static_cast<double>(now - s->last_access) / kSimSecond);
    if (s->state == State::kActive) {
      row->set_expires_in_s(
          static_cast<double>(s->last_access + s->timeout - now) / kSimSecond);
    }
    row->set_r3_session(s->r3_session);
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
  return r;
}

}  // namespace its::agate
