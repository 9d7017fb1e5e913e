#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "common/async_stream.h"
#include "common/grpc_loop.h"
#include "common/grpc_util.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/wire_size.h"

namespace its {

// Client of a peer's batched `Dialog` stream (docs/architecture.md §2) on a
// GrpcLoop: one long-lived bidi stream, requests tagged with IDs and matched
// to responses. Call() and every callback run on the loop thread. If the
// stream breaks, the calls in flight fail with `make_failure(why)` and the
// next Call() reconnects. With a call timeout, a call unanswered for that
// long fails with kDeadline; its answer, should it come later, goes to the
// late hook (e.g. to log off a logon that R/3 completed after all).
// Callbacks never run inside Call().
//
// `Service` is a generated service (proto::R3, proto::AGate,
// proto::MappingManager); `Up`/`Down` its batch messages with `repeated
// requests` / `repeated responses`; `kPrepare` the stub's method that opens
// the stream (PrepareAsyncDialog unless named).
template <typename Service, typename Up, typename Down,
          auto kPrepare = &Service::Stub::PrepareAsyncDialog>
class DialogClient {
 public:
  using Request =
      std::remove_pointer_t<decltype(std::declval<Up&>().add_requests())>;
  using Response =
      std::remove_cvref_t<decltype(std::declval<const Down&>().responses(0))>;
  using Callback = std::function<void(Response&)>;
  enum class Failure {
    kConnectionLost,  // the stream broke (or could not be opened)
    kDeadline,        // no answer within the call timeout
  };
  using MakeFailure = std::function<Response(Failure kind)>;
  // Sees every received batch after its responses were dispatched.
  using BatchHook = std::function<void(Down&)>;
  // An answer to a call that had already failed with kDeadline.
  using LateHook = std::function<void(Response&)>;
  // The stream broke; the calls in flight were failed already.
  using ClosedHook = std::function<void()>;

  // `call_timeout` 0: calls wait as long as the stream lives.
  DialogClient(GrpcLoop& loop, const std::string& address,
               MakeFailure make_failure,
               std::chrono::milliseconds call_timeout = {})
      : loop_(loop),
        address_(address),
        stub_(Service::NewStub(MakeChannel(address))),
        make_failure_(std::move(make_failure)),
        call_timeout_(call_timeout),
        sweep_(loop) {}

  // Calls still in flight are answered with make_failure (deferred).
  ~DialogClient() {
    *alive_ = false;
    if (stream_) stream_->Cancel();
    for (auto& [id, p] : pending_) {
      Fail(id, std::move(p.done), Failure::kConnectionLost);
    }
  }
  DialogClient(const DialogClient&) = delete;
  DialogClient& operator=(const DialogClient&) = delete;

  void set_batch_hook(BatchHook hook) { hook_ = std::move(hook); }
  void set_late_hook(LateHook hook) { late_hook_ = std::move(hook); }
  void set_closed_hook(ClosedHook hook) { closed_hook_ = std::move(hook); }
  const std::string& address() const { return address_; }
  size_t in_flight() const { return pending_.size(); }

  void Call(Request request, Callback done) {
    loop_.thread().Check();
    uint64_t id = next_id_++;
    request.set_id(id);
    if (!SendOnStream(request)) {
      Fail(id, std::move(done), Failure::kConnectionLost);
      return;
    }
    auto now = std::chrono::steady_clock::now();
    pending_.emplace(id, Pending{generation_, now, std::move(done)});
    if (call_timeout_.count() > 0 && !sweep_armed_) ArmSweep();
  }

  // Adds to the stream's next batch what is not a call (`fill(up)`, e.g. a
  // notice to the peer), if a stream is open; opens none for it. The
  // current stream may be newer than the one the notice is about: the peer
  // must ignore notices on what another stream carried. False if none is.
  template <typename Fill>
  bool Notify(Fill&& fill, size_t bytes = 0) {
    loop_.thread().Check();
    return stream_ && stream_->Send(std::forward<Fill>(fill), bytes);
  }

  // Fault injection, a slow link: sends `request` after `delay`. Its
  // deadline counts from now, as the caller waits from now: a delay beyond
  // the call timeout fails it in time (kDeadline), and the request still
  // goes out when the delay ends; its answer then goes to the late hook.
  void CallDelayed(std::chrono::microseconds delay, Request request,
                   Callback done) {
    loop_.thread().Check();
    uint64_t id = next_id_++;
    request.set_id(id);
    // Generation 0 is no stream's: a stream that breaks meanwhile does not
    // fail it at once, but when its delay ends (closes_).
    pending_.emplace(
        id, Pending{0, std::chrono::steady_clock::now(), std::move(done)});
    if (call_timeout_.count() > 0 && !sweep_armed_) ArmSweep();
    auto held = std::make_shared<Request>(std::move(request));
    std::weak_ptr<bool> alive = alive_;
    loop_.After(delay, [this, alive, id, held, closes = closes_] {
      if (!alive.lock()) return;
      if (closes_ != closes) {
        // The connection broke while the link held it: lost with it, as
        // what is in flight on a broken connection is. (Sent on the new
        // stream, a step or logoff could name a session number the
        // restarted peer has given to someone else.)
        if (auto it = pending_.find(id); it != pending_.end()) {
          Fail(id, std::move(it->second.done), Failure::kConnectionLost);
          pending_.erase(it);
        }
        return;
      }
      if (!pending_.count(id)) {
        // Failed by its deadline on the way: a slow link still delivers
        // what was sent, and the far end acts on it (a logoff the link held
        // back must still end the R/3 session). Its answer comes late.
        if (SendOnStream(*held)) late_.insert(id);
        return;
      }
      const bool sent = SendOnStream(*held);
      auto it = pending_.find(id);  // looked up again after Connect()
      if (it == pending_.end()) return;
      if (sent) {
        it->second.generation = generation_;
        return;
      }
      Fail(id, std::move(it->second.done), Failure::kConnectionLost);
      pending_.erase(it);
    });
  }

 private:
  using Stream = AsyncClientStream<Up, Down>;

  // Sends `request` on the stream, opening one if there is none. False if
  // no stream takes it: Connect() may close the stream at once (the loop is
  // stopping).
  bool SendOnStream(Request& request) {
    if (!stream_) Connect();
    const size_t bytes = WireSizeHint(request);
    return stream_ &&
           stream_->Send([&](Up& up) { up.add_requests()->Swap(&request); },
                         bytes);
  }
  struct Pending {
    uint64_t generation;
    std::chrono::steady_clock::time_point sent;
    Callback done;
  };

  // Deadlines are checked by one sweep over the calls in flight every quarter
  // of the timeout (at most a second): no timer per call, no state per call
  // beyond its send time; a call fails between 1 and 1.25 timeouts late.
  void ArmSweep() {
    sweep_armed_ = true;
    auto period = std::min<std::chrono::microseconds>(call_timeout_ / 4,
                                                      std::chrono::seconds(1));
    sweep_.Arm(std::max<std::chrono::microseconds>(
                   period, std::chrono::milliseconds(5)),
               [this] { Sweep(); });
  }
  void Sweep() {
    sweep_armed_ = false;
    auto limit = std::chrono::steady_clock::now() - call_timeout_;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.sent <= limit) {
        // Its answer may still come (for a delayed call not sent yet, once
        // the delay sends it).
        if (it->second.generation != 0) late_.insert(it->first);
        Fail(it->first, std::move(it->second.done), Failure::kDeadline);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    if (!pending_.empty()) ArmSweep();
  }

  void Connect() {
    uint64_t gen = ++generation_;
    std::weak_ptr<bool> alive = alive_;
    stream_ = std::make_shared<Stream>(
        loop_,
        [this, alive](Down& down) {
          if (alive.lock()) OnBatch(down);
        },
        [this, alive, gen](const grpc::Status& status) {
          if (alive.lock()) OnClosed(gen, status);
        });
    stream_->Start([this](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
      return (stub_.get()->*kPrepare)(ctx, cq);
    });
  }

  void Fail(uint64_t id, Callback done, Failure why) {
    Response resp = make_failure_(why);
    resp.set_id(id);
    loop_.Defer([done = std::move(done), resp = std::move(resp)]() mutable {
      done(resp);
    });
  }

  void OnBatch(Down& down) {
    for (Response& resp : *down.mutable_responses()) {
      auto it = pending_.find(resp.id());
      if (it == pending_.end()) {
        if (late_.erase(resp.id()) && late_hook_) late_hook_(resp);
        continue;
      }
      Callback cb = std::move(it->second.done);
      pending_.erase(it);
      cb(resp);
    }
    if (hook_) hook_(down);
  }

  void OnClosed(uint64_t generation, const grpc::Status& status) {
    if (!status.ok() && !loop_.stopping()) {
      spdlog::warn("stream to {} closed: {}", address_, status.error_message());
    }
    if (generation == generation_) stream_.reset();
    ++closes_;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.generation == generation) {
        Fail(it->first, std::move(it->second.done), Failure::kConnectionLost);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    late_.clear();  // answers of a broken stream never come
    if (closed_hook_ && !loop_.stopping()) closed_hook_();
  }

  GrpcLoop& loop_;
  std::string address_;
  std::unique_ptr<typename Service::Stub> stub_;
  MakeFailure make_failure_;
  std::chrono::milliseconds call_timeout_;
  GrpcLoop::Timer sweep_;
  bool sweep_armed_ = false;
  std::unordered_set<uint64_t> late_;  // calls failed by the deadline
  LateHook late_hook_;
  ClosedHook closed_hook_;
  std::shared_ptr<Stream> stream_;
  uint64_t generation_ = 0;
  uint64_t closes_ = 0;  // streams closed so far (CallDelayed)
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Pending> pending_;
  BatchHook hook_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace its
