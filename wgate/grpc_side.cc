#include "wgate/grpc_side.h"

#include <pthread.h>

namespace its::wgate {

GrpcSide::GrpcSide(asio::io_context& io) : io_(io) {}

GrpcSide::~GrpcSide() { Stop(); }

void GrpcSide::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "wgate-grpc");  // for top -H and perf
    loop_.Run();
    agates_.clear();  // their failures were deferred to a loop that has ended
  });
}

void GrpcSide::Stop() {
  if (!thread_.joinable()) return;
  loop_.Shutdown();
  thread_.join();
}

void GrpcSide::CallAgate(const std::string& address,
                         proto::AGateRequest request, AgateDone done) {
  uint64_t id = next_id_++;
  waiting_.emplace(id, std::move(done));
  out_.push_back(Outgoing{address, std::move(request), id});
  ScheduleFlushToLoop();
}

void GrpcSide::ScheduleFlushToLoop() {
  if (out_flush_posted_) return;
  out_flush_posted_ = true;
  asio::post(io_, [this] { FlushToLoop(); });  // after the rest of this turn
}

void GrpcSide::ScheduleFlushToAsio() {
  if (in_flush_deferred_) return;
  in_flush_deferred_ = true;
  loop_.Defer([this] { FlushToAsio(); });  // once nothing more is ready
}

void GrpcSide::OnLoop(std::function<void()> fn) {
  out_fns_.push_back(std::move(fn));
  ScheduleFlushToLoop();
}

void GrpcSide::FlushToLoop() {
  out_flush_posted_ = false;
  auto calls = std::make_shared<std::vector<Outgoing>>(std::move(out_));
  auto fns =
      std::make_shared<std::vector<std::function<void()>>>(std::move(out_fns_));
  out_.clear();
  out_fns_.clear();
  loop_.Post([this, calls, fns] {
    for (auto& fn : *fns) fn();
    for (Outgoing& c : *calls) {
      uint64_t id = c.id;
      AgateAt(c.address).Call(std::move(c.request),
                              [this, id](proto::AGateResponse& resp) {
                                in_.push_back(Answer{id, std::move(resp)});
                                ScheduleFlushToAsio();
                              });
    }
  });
}

void GrpcSide::OnAsio(std::function<void()> fn) {
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
    for (Answer& a : *answers) {
      auto it = waiting_.find(a.id);
      if (it == waiting_.end()) continue;
      AgateDone done = std::move(it->second);
      waiting_.erase(it);
      done(a.response);
    }
    for (auto& fn : *fns) fn();
  });
}

void GrpcSide::KeepAgates(std::unordered_set<std::string> live) {
  OnLoop([this, live = std::move(live)] {
    std::erase_if(agates_,
                  [&](const auto& kv) { return !live.count(kv.first); });
  });
}

AGateClient& GrpcSide::AgateAt(const std::string& address) {
  auto& c = agates_[address];
  if (!c) {
    c = std::make_unique<AGateClient>(loop_, address,
                                      [](const std::string& why) {
                                        proto::AGateResponse r;
                                        r.set_http_status(502);
                                        r.set_note(why);
                                        return r;
                                      });
  }
  return *c;
}

}  // namespace its::wgate
