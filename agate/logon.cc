// AGateProcess, part 2 of 3: starting a session (logon at R/3, the new
// context and its first page) and what a request to an ended session gets
// (Tombstone: the end page, or a restart with ~serviceRestart).
#include "agate/agate_process.h"
#include "agate/render.h"
#include "agate/sisp.h"
#include "common/its_protocol.h"
#include "common/pages.h"
#include "common/strings.h"
#include "common/trace_wire.h"
#include "common/transaction_call.h"

namespace its::agate {
namespace {

using State = SessionContext::State;

// Whole minutes/hours of a service parameter, or `fallback`. A URL may say
// anything: at most a simulated year, so deadlines cannot overflow.
SimMicros Duration(const std::string& value, SimMicros unit,
                   SimMicros fallback) {
  constexpr SimMicros kMax = 366 * 24 * kSimHour;
  int64_t v;
  if (!ParseInt(value, &v) || v < 0) return fallback;
  return v > kMax / unit ? kMax : v * unit;
}

}  // namespace

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
    logon_data = {
        std::string(previous->client()), std::string(previous->user()),
        std::string(previous->password()), std::string(previous->language())};
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
  // ~transaction: TCODE, or a transaction call with field values (a deep
  // link). The wgate checked its syntax already; a bad one gets no session.
  auto call = ParseTransactionCall(param("~transaction"));
  if (!call.ok()) {
    reply(Message(proto::BAD_TRANSACTION_CALL, "Transaction call not possible",
                  std::string(call.status().message()), false));
    return;
  }
  const std::string okcode = StartOkcode(*call, param("~okcode"));
  auto shared_req = std::make_shared<proto::AGateRequest>(std::move(req));
  threads_.Run([=, this](SimMicros started) {
    proto::R3Request r3req;
    proto::R3Logon* logon = r3req.mutable_logon();
    logon->set_client(client);
    logon->set_user(login);
    logon->set_password(password);
    logon->set_language(language);
    logon->set_tcode(call->tcode);
    for (const auto& [name, value] : call->fields)
      (*logon->mutable_fields())[name] = value;
    logon->set_okcode(okcode);
    logon->set_terminal(AgateName());
    logon->set_service(ToLower(shared_req->service()));
    SetTrace(&r3req, TraceOf(*shared_req), shared_req->parent_span());
    r3_.Call(std::move(r3req), [=, this](proto::R3Response& r3resp) {
      threads_.Release(started);
      if (metrics_) metrics_->LogonDone(RealSecondsSince(started));
      Params url;
      for (const auto& p : shared_req->params()) url.Set(p.name(), p.value());
      if (r3resp.code() != proto::R3Response::OK) {
        access_.Write('f', shared_req->client_ip(),
                      Cat("logon of ", ToUpper(login), " to ",
                          shared_req->service(), " failed: ", r3resp.error()),
                      TraceOf(*shared_req));
      }
      if (r3resp.code() == proto::R3Response::BAD_LOGON) {
        reply(Response(proto::LOGON_FAILED,
                       LogonPage(shared_req->service(), url, r3resp.error(),
                                 client, language)));
        return;
      }
      if (r3resp.code() == proto::R3Response::BAD_CALL) {
        reply(Message(proto::BAD_TRANSACTION_CALL,
                      "Transaction call not possible", r3resp.error(), false));
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
      if (auto early = ended_unknown_.find(r3resp.session());
          early != ended_unknown_.end()) {
        // R/3 ended the session before its logon's answer came: nothing to
        // log off, no session to start.
        const std::string why = early->second;
        ended_unknown_.erase(early);
        reply(Message(proto::LOGON_REFUSED, "Logon not possible",
                      Cat("The R/3 system ended the session during logon (",
                          why, ") - please log on again"),
                      false));
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
      const std::string service = ToLower(shared_req->service());
      s->service_params = services_.Find(service);
      EraseSecrets(url);
      if (previous) {
        s->overrides = previous->overrides;
      } else {
        s->overrides = CompactParams(url);
      }
      s->r3_session = r3resp.session();
      s->timeout = Duration(s->Param("~timeout"), kSimMinute, 15 * kSimMinute);
      s->keep_logon_for = Duration(s->Param("~usertimeout"), kSimHour, 0);
      s->sisp = s->Param("SAPWP_ACTIVE") == "1";
      s->text.assign({service, client, ToUpper(login), password, language,
                      r3resp.screen().tcode(),
                      s->sisp ? NewRandom() : std::string()});
      by_r3_session_[s->r3_session] = s->slot;
      if (metrics_) metrics_->SessionStarted();
      table_.Touch(*s);
      access_.Write(
          'n', shared_req->client_ip(),
          Cat(ids_.Public(s->slot), " new session of ", s->user(), " to ",
              s->service(), restarted ? " (~serviceRestarted)" : ""),
          TraceOf(*shared_req));
      s->cookies_off = s->Param("~cookies", "1") == "0";
      RenderContext ctx{s->service(),
                        ids_.Full(s->slot, s->random_hex()),
                        s->cookies_off,
                        s->user(),
                        AgateName(),
                        SispScriptFor(*s, ids_, "USR_OPEN"),
                        ClockNow(),
                        TraceOf(*shared_req).valid()
                            ? TraceHex(TraceOf(*shared_req))
                            : std::string()};
      proto::Screen& screen = *r3resp.mutable_screen();
      if (restarted) {
        screen.set_message("The service was restarted (~serviceRestarted=X)");
        screen.set_message_type("I");
      }
      proto::AGateResponse r = Response(
          restarted ? proto::SERVICE_RESTARTED : proto::SESSION_STARTED,
          RenderScreen(screen, ctx));
      if (!ctx.session_in_url) r.set_set_session(ctx.gusid);  // ~cookies 1
      r.set_session_public(ids_.Public(s->slot));
      r.set_r3_called(true);
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
        start.set_service(std::string(s.service()));
        SetTrace(&start, TraceOf(req), req.parent_span());
        // The step's own function code is no start's: the restarted
        // service shows its first screen (its start URL's call applies).
        for (const auto& p : req.params())
          if (p.name() != "~okcode") *start.add_params() = p;
        if (s.logon_kept) {
          auto* p = start.add_params();
          p->set_name("~servicerestarted");
          p->set_value("X");
          // The old tombstone goes; the new session gets a new ID.
          auto old = std::make_shared<SessionContext>();
          old->overrides = s.overrides;
          old->service_params = s.service_params;
          old->text = s.text;
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

}  // namespace its::agate
