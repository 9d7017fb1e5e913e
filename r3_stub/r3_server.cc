#include "r3_stub/r3_server.h"

#include <algorithm>
#include <memory>

#include "common/log.h"
#include "common/strings.h"
#include "common/trace_wire.h"
#include "common/wire_size.h"

namespace its::r3 {
namespace {

// What a step-5 span records (Span::kind); num[0] the user session, num[1]
// the answer's code; text the user (logon) or the function code (step).
enum SpanKind { kLogon = 1, kStep = 2, kLogoff = 3 };

}  // namespace

void R3Server::Start() {
  ServeStreams<proto::R3Up, proto::R3Down>::Start(
      loop_,
      [this](grpc::ServerContext* ctx, auto* stream, void* tag) {
        service_.RequestDialog(ctx, stream, loop_.cq(), loop_.server_cq(), tag);
      },
      [this](const Stream::Ptr& stream, proto::R3Up& up) {
        Handle(stream, up);
      },
      [this](const Stream::Ptr& stream) { StreamClosed(stream); });

  using Service = proto::R3::AsyncService;
  ServeUnary(loop_, service_, &Service::RequestListUserSessions,
             [this](const proto::Empty&, proto::Sm04Reply* reply) {
               *reply = system_.UserSessions();
               return grpc::Status::OK;
             });
  ServeUnary(loop_, service_, &Service::RequestListLocks,
             [this](const proto::Empty&, proto::Sm12Reply* reply) {
               *reply = system_.Locks();
               return grpc::Status::OK;
             });
  ServeUnary(loop_, service_, &Service::RequestListSecuritySessions,
             [this](const proto::Empty&, proto::Sm05Reply* reply) {
               *reply = system_.SecuritySessions();
               return grpc::Status::OK;
             });
  ServeUnary(
      loop_, service_, &Service::RequestEndSecuritySession,
      [this](const proto::EndSecuritySessionRequest& request, proto::Empty*) {
        if (!system_.EndSecuritySession(request.id())) {
          return grpc::Status(grpc::StatusCode::NOT_FOUND,
                              Cat("no security session ", request.id()));
        }
        PushEnded();
        return grpc::Status::OK;
      });
  ServeUnary(loop_, service_, &Service::RequestGetTrace,
             [this](const proto::TraceQuery& query, proto::TraceReply* reply) {
               *reply = Trace(query);
               return grpc::Status::OK;
             });
  Tick();
}

void R3Server::Handle(const Stream::Ptr& stream, proto::R3Up& batch) {
  for (proto::R3Request& req : *batch.mutable_requests()) {
    int step_ms = 0;
    proto::R3Response resp;
    switch (req.kind_case()) {
      case proto::R3Request::kLogon:
        resp = system_.Logon(req.logon(), &step_ms, OwnerOf(stream));
        break;
      case proto::R3Request::kStep:
        resp = system_.Step(req.step(), &step_ms);
        break;
      case proto::R3Request::kLogoff:
        resp = system_.Logoff(req.logoff());
        break;
      default:
        resp.set_code(proto::R3Response::REFUSED);
        resp.set_error("empty request");
    }
    resp.set_id(req.id());
    const int64_t real_us =
        step_ms <= 0
            ? 0
            : clock_.RealDuration(static_cast<SimMicros>(step_ms) * 1000)
                  .count();
    if (req.trace_hi() != 0 || req.trace_lo() != 0)
      RecordSpan(req, resp, real_us);
    if (metrics_) {
      metrics_->Answered(
          req.kind_case(), resp.code(),
          static_cast<double>(step_ms) / 1000.0 / clock_.time_scale());
    }
    if (step_ms <= 0) {
      stream->Send(
          [&](proto::R3Down& down) { down.add_responses()->Swap(&resp); },
          WireSizeHint(resp));
      continue;
    }
    auto shared = std::make_shared<proto::R3Response>(std::move(resp));
    loop_.After(clock_.RealDuration(static_cast<SimMicros>(step_ms) * 1000),
                [stream, shared] {
                  const size_t bytes = WireSizeHint(*shared);
                  stream->Send(
                      [&](proto::R3Down& down) {
                        down.add_responses()->Swap(shared.get());
                      },
                      bytes);
                });
  }
  PushEnded();  // e.g. sessions displaced by these logons
}

void R3Server::RecordSpan(const proto::R3Request& req,
                          const proto::R3Response& resp, int64_t real_us) {
  int kind = req.has_logon() ? kLogon : req.has_step() ? kStep : kLogoff;
  Span& s =
      spans_.Record(TraceOf(req), NewSpanId(), req.parent_span(), 5, kind);
  s.start_us = TraceNowMicros();
  s.end_us = s.start_us + real_us;
  s.num[0] = static_cast<int64_t>(resp.session() != 0 ? resp.session()
                                  : req.has_step()    ? req.step().session()
                                                      : req.logoff().session());
  s.num[1] = resp.code();
  if (kind == kLogon) {
    // A logon starts a session: rare enough for words now.
    // What the client sent, kept short and printable.
    std::string text = Cat(req.logon().user().substr(0, 40), " in client ",
                           req.logon().client().substr(0, 10), ", transaction ",
                           req.logon().tcode().substr(0, 40));
    if (resp.code() != proto::R3Response::OK) Append(&text, ": ", resp.error());
    SetSpanText(&s.text, text, 300);
  } else if (kind == kStep) {
    SetSpanText(&s.text, req.step().okcode(), 24);  // short: no allocation
  }
}

proto::TraceReply R3Server::Trace(const proto::TraceQuery& query) const {
  proto::TraceReply reply;
  for (const Span* s :
       spans_.Find(TraceId{query.trace_hi(), query.trace_lo()})) {
    proto::TraceSpan* out = AddSpan(&reply, *s, "r3_stub", pid_);
    const bool ok = s->num[1] == proto::R3Response::OK;
    const auto code = static_cast<proto::R3Response::Code>(s->num[1]);
    switch (s->kind) {
      case kLogon:
        out->set_decided(ok ? Cat("R/3 logon of ", s->text, ": user session ",
                                  s->num[0], " (SM04)")
                            : Cat("R/3 logon refused: ", s->text));
        (*out->mutable_attrs())["action"] = "logon";
        break;
      case kStep:
        out->set_decided(Cat("dialog step ~okcode=", s->text,
                             " in user session ", s->num[0], ok ? "" : ": ",
                             ok ? "" : proto::R3Response::Code_Name(code)));
        (*out->mutable_attrs())["action"] = "step";
        break;
      default:
        out->set_decided(Cat("logoff of user session ", s->num[0]));
        (*out->mutable_attrs())["action"] = "logoff";
    }
    (*out->mutable_attrs())["r3_session"] = Cat(s->num[0]);
    (*out->mutable_attrs())["code"] = proto::R3Response::Code_Name(code);
  }
  return reply;
}

uint32_t R3Server::OwnerOf(const Stream::Ptr& stream) {
  auto [it, inserted] = owner_of_.try_emplace(stream.get(), next_owner_);
  if (inserted) streams_.emplace(next_owner_++, stream);
  return it->second;
}

void R3Server::PushEnded() {
  for (const R3System::Ended& e : system_.TakeEnded()) {
    auto it = streams_.find(e.owner);
    if (it == streams_.end()) continue;
    if (auto stream = it->second.lock()) {
      stream->Send([&](proto::R3Down& down) {
        proto::R3SessionEnded* ended = down.add_ended();
        ended->set_session(e.session);
        ended->set_reason(e.reason);
        ended->set_timeout(e.timeout);
      });
    }
    if (metrics_) metrics_->EndedByR3(1);
  }
}

void R3Server::StreamClosed(const Stream::Ptr& stream) {
  auto it = owner_of_.find(stream.get());
  if (it == owner_of_.end()) return;
  const uint32_t owner = it->second;
  owner_of_.erase(it);
  streams_.erase(owner);
  if (loop_.stopping()) return;
  // Like SAP's gateway ending the contexts of a broken connection.
  const size_t ended = system_.EndOwnedBy(owner);
  if (ended == 0) return;
  spdlog::warn(
      "dialog connection of an AGate process broke: ended its {} user "
      "session(s) and their locks",
      ended);
  if (metrics_) metrics_->EndedByBrokenStream(ended);
}

void R3Server::Tick() {
  const bool all_due_ended = system_.Advance();
  PushEnded();
  if (metrics_) {
    metrics_->Tick(system_.session_count(), system_.security_session_count(),
                   system_.lock_count(), system_.owner_count());
  }
  auto period = std::clamp(clock_.RealDuration(kSimSecond),
                           std::chrono::microseconds(5000),
                           std::chrono::microseconds(1'000'000));
  // More due: the next tick after 1 ms (the loop serves what else is ready,
  // deferred writes included), not after the period.
  tick_.Arm(all_due_ended ? period : std::chrono::microseconds(1000),
            [this] { Tick(); });
}

}  // namespace its::r3
