#include "wgate/grpc_side.h"

#include <pthread.h>

#include <algorithm>

namespace its::wgate {

GrpcSide::GrpcSide(asio::io_context& io, std::chrono::milliseconds step_timeout)
    : io_(io), step_timeout_(step_timeout), deadline_sweep_(io) {}

GrpcSide::~GrpcSide() { Stop(); }

void GrpcSide::Start() {
  asio_thread_.Bind();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "wgate-grpc");  // for top -H and perf
    loop_.Run();
    loop_.thread().Check();  // ended: nobody else touches agates_ now
    agates_.clear();  // their failures were deferred to a loop that has ended
    managers_.clear();
  });
}

void GrpcSide::Stop() {
  asio_thread_.Check();
  deadline_sweep_.cancel();
  if (!thread_.joinable()) return;
  loop_.Shutdown();
  thread_.join();
}

void GrpcSide::CallAgate(const std::string& address,
                         proto::AGateRequest request, AgateDone done) {
  asio_thread_.Check();
  uint64_t id = next_id_++;
  // Only a start's late answer needs its agate's address (to end the
  // session it made): no copy per dialog step.
  bool start = request.kind() == proto::AGateRequest::START;
  waiting_.emplace(id,
                   Waiting{std::move(done), std::chrono::steady_clock::now(),
                           start ? address : std::string()});
  out_.push_back(Outgoing{address, std::move(request), id});
  ScheduleFlushToLoop();
  if (!sweep_armed_) ArmDeadlineSweep();
}

void GrpcSide::ArmDeadlineSweep() {
  sweep_armed_ = true;
  auto period = std::clamp<std::chrono::milliseconds>(
      step_timeout_ / 4, std::chrono::milliseconds(5), std::chrono::seconds(1));
  deadline_sweep_.expires_after(period);
  deadline_sweep_.async_wait([this](const asio::error_code& ec) {
    asio_thread_.Check();
    sweep_armed_ = false;
    if (!ec) SweepDeadlines();
  });
}

void GrpcSide::SweepDeadlines() {
  auto limit = std::chrono::steady_clock::now() - step_timeout_;
  std::vector<AgateDone> late;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second.sent <= limit) {
      late.push_back(std::move(it->second.done));
      // Its answer may still start a session (a logon, or a step that
      // restarts its service): the late hook hears of it. Steps carry no
      // address (no copy per step); the hook finds their agate. Each kind
      // has its own cap: a hung agate's many steps must not crowd out the
      // logons.
      if (!it->second.address.empty()) {
        if (late_.size() < 100000)
          late_.emplace(it->first, std::move(it->second.address));
      } else if (late_steps_.size() < 100000) {
        late_steps_.insert(it->first);
      }
      it = waiting_.erase(it);  // a late answer finds nobody waiting
    } else {
      ++it;
    }
  }
  const absl::Status deadline =
      absl::DeadlineExceededError("the AGate process did not answer in time");
  for (AgateDone& done : late) {
    proto::AGateResponse none;
    done(deadline, none);
  }
  if (!waiting_.empty()) ArmDeadlineSweep();
}

void GrpcSide::ScheduleFlushToLoop() {
  if (out_flush_posted_) return;
  out_flush_posted_ = true;
  asio::post(io_, [this] {  // after the rest of this turn
    asio_thread_.Check();
    FlushToLoop();
  });
}

void GrpcSide::ScheduleFlushToAsio() {
  if (in_flush_deferred_) return;
  in_flush_deferred_ = true;
  loop_.Defer([this] {  // once nothing more is ready
    loop_.thread().Check();
    FlushToAsio();
  });
}

void GrpcSide::OnLoop(std::function<void()> fn) {
  asio_thread_.Check();
  out_fns_.push_back(std::move(fn));
  ScheduleFlushToLoop();
}

void GrpcSide::Deliver(const std::string& address, std::string session_public,
                       bool delivered) {
  asio_thread_.Check();
  Notice n{address, {}};
  n.delivery.set_session_public(std::move(session_public));
  n.delivery.set_delivered(delivered);
  out_notices_.push_back(std::move(n));
  ScheduleFlushToLoop();
}

void GrpcSide::FlushToLoop() {
  out_flush_posted_ = false;
  auto calls = std::make_shared<std::vector<Outgoing>>(std::move(out_));
  auto fns =
      std::make_shared<std::vector<std::function<void()>>>(std::move(out_fns_));
  auto notices = std::make_shared<std::vector<Notice>>(std::move(out_notices_));
  out_.clear();
  out_fns_.clear();
  out_notices_.clear();
  loop_.Post([this, calls, fns, notices] {
    loop_.thread().Check();
    for (auto& fn : *fns) fn();
    for (Notice& n : *notices) {
      auto it = agates_.find(n.address);
      if (it == agates_.end()) continue;  // its stream went, and the session
      it->second->Notify(
          [&](proto::AGateUp& up) { up.add_deliveries()->Swap(&n.delivery); },
          n.delivery.session_public().size() + 4);
    }
    for (Outgoing& c : *calls) {
      uint64_t id = c.id;
      AgateAt(c.address).Call(std::move(c.request),
                              [this, id](proto::AGateResponse& resp) {
                                loop_.thread().Check();
                                in_.push_back(Answer{id, std::move(resp)});
                                ScheduleFlushToAsio();
                              });
    }
  });
}

void GrpcSide::OnAsio(std::function<void()> fn) {
  loop_.thread().Check();
  in_fns_.push_back(std::move(fn));
  ScheduleFlushToAsio();
}

void GrpcSide::FlushToAsio() {
  in_flush_deferred_ = false;
  auto answers = std::make_shared<std::vector<Answer>>(std::move(in_));
  auto fns =
      std::make_shared<std::vector<std::function<void()>>>(std::move(in_fns_));
  in_.clear();
  in_fns_.clear();
  asio::post(io_, [this, answers, fns] {
    asio_thread_.Check();
    for (Answer& a : *answers) {
      auto it = waiting_.find(a.id);
      if (it == waiting_.end()) {
        const bool answered =
            a.response.outcome() != proto::OUTCOME_UNSPECIFIED;
        if (auto late = late_.find(a.id); late != late_.end()) {
          if (late_hook_ && answered) late_hook_(late->second, a.response);
          late_.erase(late);
        } else if (late_steps_.erase(a.id) > 0 && late_hook_ && answered) {
          late_hook_(std::string(), a.response);
        }
        continue;
      }
      AgateDone done = std::move(it->second.done);
      waiting_.erase(it);
      // A response without an outcome (the agate always sends one) marks a
      // broken stream.
      if (a.response.outcome() == proto::OUTCOME_UNSPECIFIED) {
        done(absl::UnavailableError("the stream to the AGate process broke"),
             a.response);
      } else {
        done(absl::OkStatus(), a.response);
      }
    }
    for (auto& fn : *fns) fn();
  });
}

void GrpcSide::CallAssign(const std::string& address,
                          proto::AssignRequest request,
                          std::chrono::milliseconds timeout, AssignDone done) {
  OnLoop([this, address, request = std::move(request), timeout,
          done = std::move(done)]() mutable {
    loop_.thread().Check();
    auto& client = managers_[address];
    if (!client) {
      client = std::make_unique<AssignClient>(
          loop_, address,
          [](AssignClient::Failure why) {
            proto::AssignResult r;
            if (why == AssignClient::Failure::kDeadline) {
              r.set_code(grpc::StatusCode::DEADLINE_EXCEEDED);
              r.set_message("no answer in time");
            } else {
              r.set_code(grpc::StatusCode::UNAVAILABLE);
              r.set_message("the stream to the Mapping Manager broke");
            }
            return r;
          },
          timeout);
    }
    client->Call(std::move(request),
                 [this, done = std::move(done)](proto::AssignResult& r) {
                   OnAsio([done, r = std::move(r)]() mutable { done(r); });
                 });
  });
}

void GrpcSide::KeepAgates(std::unordered_set<std::string> live) {
  OnLoop([this, live = std::move(live)] {
    loop_.thread().Check();
    std::erase_if(agates_,
                  [&](const auto& kv) { return !live.count(kv.first); });
  });
}

AGateClient& GrpcSide::AgateAt(const std::string& address) {
  auto& c = agates_[address];
  if (!c) {
    c = std::make_unique<AGateClient>(loop_, address, [](AGateClient::Failure) {
      return proto::AGateResponse();  // no outcome: see FlushToAsio
    });
  }
  return *c;
}

}  // namespace its::wgate
