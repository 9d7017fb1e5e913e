#include "r3_stub/r3_server.h"

#include <algorithm>
#include <memory>

#include "common/async_call.h"
#include "common/strings.h"

namespace its::r3 {

grpc::ServerBidiReactor<proto::R3Up, proto::R3Down>* R3Service::Dialog(
    grpc::CallbackServerContext* context) {
  return Stream::Create(io_, [this](const Stream::Ptr& stream, proto::R3Up& up) {
    std::lock_guard<std::mutex> l(mu_);
    Handle(stream, up);
  });
}

void R3Service::Handle(const Stream::Ptr& stream, proto::R3Up& batch) {
  std::vector<proto::R3Response> now;
  now.reserve(batch.requests_size());
  for (proto::R3Request& req : *batch.mutable_requests()) {
    int step_ms = 0;
    proto::R3Response resp;
    switch (req.kind_case()) {
      case proto::R3Request::kLogon:
        resp = system_.Logon(req.logon(), &step_ms);
        if (resp.code() == proto::R3Response::OK) owners_[resp.session()] = stream;
        break;
      case proto::R3Request::kStep:
        resp = system_.Step(req.step(), &step_ms);
        break;
      case proto::R3Request::kLogoff:
        resp = system_.Logoff(req.logoff());
        owners_.erase(req.logoff().session());
        break;
      default:
        resp.set_code(proto::R3Response::REFUSED);
        resp.set_error("empty request");
    }
    resp.set_id(req.id());
    if (step_ms <= 0) {
      now.push_back(std::move(resp));
      continue;
    }
    auto timer = std::make_shared<asio::steady_timer>(
        io_, clock_.RealDuration(static_cast<SimMicros>(step_ms) * 1000));
    auto shared = std::make_shared<proto::R3Response>(std::move(resp));
    timer->async_wait([stream, timer, shared](const asio::error_code&) {
      stream->Send([&](proto::R3Down& down) { down.add_responses()->Swap(shared.get()); });
    });
  }
  if (!now.empty()) {
    stream->SendNow([&](proto::R3Down& down) {
      for (auto& r : now) down.add_responses()->Swap(&r);
    });
  }
  PushEnded();  // e.g. sessions displaced by these logons
}

void R3Service::PushEnded() {
  for (const R3System::Ended& e : system_.TakeEnded()) {
    auto it = owners_.find(e.session);
    if (it == owners_.end()) continue;
    if (auto stream = it->second.lock()) {
      stream->Send([&](proto::R3Down& down) {
        proto::R3SessionEnded* ended = down.add_ended();
        ended->set_session(e.session);
        ended->set_reason(e.reason);
      });
    }
    owners_.erase(it);
  }
}

void R3Service::StartTimers() {
  tick_ = std::make_unique<asio::steady_timer>(io_);
  Tick();
}

void R3Service::Tick() {
  {
    std::lock_guard<std::mutex> l(mu_);
    system_.Advance();
    PushEnded();
  }
  auto period = std::clamp(clock_.RealDuration(kSimSecond), std::chrono::microseconds(5000),
                           std::chrono::microseconds(1'000'000));
  tick_->expires_after(period);
  tick_->async_wait([this](const asio::error_code& ec) {
    if (!ec) Tick();
  });
}

grpc::ServerUnaryReactor* R3Service::ListSecuritySessions(grpc::CallbackServerContext* context,
                                                          const proto::Empty*,
                                                          proto::Sm05Reply* reply) {
  return FinishOnLogicThread(io_, context, [this, reply] {
    std::lock_guard<std::mutex> l(mu_);
    *reply = system_.SecuritySessions();
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* R3Service::EndSecuritySession(
    grpc::CallbackServerContext* context, const proto::EndSecuritySessionRequest* request,
    proto::Empty*) {
  return FinishOnLogicThread(io_, context, [this, request] {
    std::lock_guard<std::mutex> l(mu_);
    if (!system_.EndSecuritySession(request->id())) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          Cat("no security session ", request->id()));
    }
    PushEnded();
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* R3Service::ListUserSessions(grpc::CallbackServerContext* context,
                                                      const proto::Empty*,
                                                      proto::Sm04Reply* reply) {
  return FinishOnLogicThread(io_, context, [this, reply] {
    std::lock_guard<std::mutex> l(mu_);
    *reply = system_.UserSessions();
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* R3Service::ListLocks(grpc::CallbackServerContext* context,
                                               const proto::Empty*, proto::Sm12Reply* reply) {
  return FinishOnLogicThread(io_, context, [this, reply] {
    std::lock_guard<std::mutex> l(mu_);
    *reply = system_.Locks();
    return grpc::Status::OK;
  });
}

}  // namespace its::r3
