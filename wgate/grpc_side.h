#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/dialog_client.h"
#include "common/grpc_loop.h"
#include "common/thread_owner.h"
#include "proto/its.grpc.pb.h"

namespace its::wgate {

using AGateClient =
    DialogClient<proto::AGate, proto::AGateUp, proto::AGateDown>;
using AssignClient =
    DialogClient<proto::MappingManager, proto::AssignUp, proto::AssignDown,
                 &proto::MappingManager::Stub::PrepareAsyncAssignments>;

// The wgate's gRPC, on a GrpcLoop thread of its own beside the Asio thread
// that serves HTTP (gRPC cannot poll Asio's sockets, nor Asio gRPC's). Work
// crosses between the two threads in batches: everything one Asio turn asks
// of the agates crosses in one hand-over, and everything one loop burst
// answers crosses back in one — one wake-up per burst each way, not per
// request. Only this thread polls gRPC (no callback API in the wgate).
//
// Nothing here is shared: every member belongs to the Asio thread
// (asio_thread_) or to the loop thread (loop_.thread()), and only the two
// hand-overs (asio::post, GrpcLoop::Post) cross (common/thread_owner.h).
class GrpcSide {
 public:
  // `transport` is OK when the agate answered; UNAVAILABLE when the stream
  // to it broke, DEADLINE_EXCEEDED when it did not answer within the step
  // timeout (the response is then empty).
  using AgateDone =
      std::function<void(const absl::Status& transport, proto::AGateResponse&)>;

  // `step_timeout`: how long a request may wait for its agate's answer.
  GrpcSide(asio::io_context& io, std::chrono::milliseconds step_timeout);
  ~GrpcSide();
  GrpcSide(const GrpcSide&) = delete;
  GrpcSide& operator=(const GrpcSide&) = delete;

  // Asio thread (the one that will run `io`): starts the loop thread.
  void Start();
  // Asio thread: cancels every call, ends and joins the loop thread.
  void Stop();

  // Asio thread. Sends one request over the batched stream to the agate at
  // `address`; `done` runs on the Asio thread, exactly once.
  void CallAgate(const std::string& address, proto::AGateRequest request,
                 AgateDone done);
  // Asio thread. Tells the agate at `address` whether the browser received
  // the answer that started `session_public` (proto::Delivery), with the
  // next batch on its current stream. If the stream that carried the answer
  // is gone, the agate ignores the word (it no longer holds the session as
  // that stream's; the stream's end decided) and none is sent if there is
  // no stream at all.
  void Deliver(const std::string& address, std::string session_public,
               bool delivered);
  // Asio thread. Closes the streams to every agate not in `live`; their
  // calls in flight are answered with UNAVAILABLE.
  void KeepAgates(std::unordered_set<std::string> live);

  // Asio thread. Called with the agate's address (empty for a dialog step's
  // request) and response when an answer comes after its request's deadline
  // (nobody waits for it): a session started then must not be left where
  // nobody can reach it.
  void set_late_hook(
      std::function<void(const std::string& address, proto::AGateResponse&)>
          hook) {
    asio_thread_.Check();
    late_hook_ = std::move(hook);
  }

  // Asio thread. Asks the Mapping Manager at `address` for a process over
  // its batched Assignments stream; `done` runs on the Asio thread, exactly
  // once: with the manager's result, or UNAVAILABLE (the stream broke) or
  // DEADLINE_EXCEEDED (no answer within `timeout`, fixed per manager by its
  // first call) as the result's code.
  using AssignDone = std::function<void(proto::AssignResult&)>;
  void CallAssign(const std::string& address, proto::AssignRequest request,
                  std::chrono::milliseconds timeout, AssignDone done);

  // Asio thread: runs `fn` on the loop thread (with the next hand-over).
  void OnLoop(std::function<void()> fn);
  // Loop thread: runs `fn` on the Asio thread (with the next hand-over).
  void OnAsio(std::function<void()> fn);
  GrpcLoop& loop() { return loop_; }

  // Asio thread: one unary call; `done(status, reply)` runs on the Asio
  // thread. `start(context, cq)` runs on the loop thread and begins the
  // call, e.g. [stub, q](auto* ctx, auto* cq) { return stub->AsyncGetTrace(ctx,
  // q, cq); }.
  template <typename Resp, typename Start>
  void Unary(int deadline_ms, Start start,
             std::function<void(const grpc::Status&, Resp&)> done) {
    OnLoop([this, deadline_ms, start = std::move(start),
            done = std::move(done)]() mutable {
      CallUnary<Resp>(
          loop_, deadline_ms, start,
          [this, done](const grpc::Status& status, Resp& reply) {
            auto result = std::make_shared<std::pair<grpc::Status, Resp>>(
                status, std::move(reply));
            OnAsio([done, result] { done(result->first, result->second); });
          });
    });
  }

 private:
  struct Outgoing {
    std::string address;
    proto::AGateRequest request;
    uint64_t id;
  };
  struct Notice {
    std::string address;
    proto::Delivery delivery;
  };
  struct Answer {
    uint64_t id;
    proto::AGateResponse response;
  };
  struct Waiting {
    AgateDone done;
    std::chrono::steady_clock::time_point sent;
    std::string address;  // START requests only (see set_late_hook)
  };
  AGateClient& AgateAt(const std::string& address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(loop_.thread());
  // Once per Asio turn.
  void ScheduleFlushToLoop() ABSL_EXCLUSIVE_LOCKS_REQUIRED(asio_thread_);
  void FlushToLoop() ABSL_EXCLUSIVE_LOCKS_REQUIRED(asio_thread_);
  // Once per loop burst.
  void ScheduleFlushToAsio() ABSL_EXCLUSIVE_LOCKS_REQUIRED(loop_.thread());
  void FlushToAsio() ABSL_EXCLUSIVE_LOCKS_REQUIRED(loop_.thread());
  // Answers the requests older than the step timeout. One sweep over the
  // requests in flight every quarter timeout (at most 1 s), armed only while
  // requests are in flight: no timer per request.
  void ArmDeadlineSweep() ABSL_EXCLUSIVE_LOCKS_REQUIRED(asio_thread_);
  void SweepDeadlines() ABSL_EXCLUSIVE_LOCKS_REQUIRED(asio_thread_);

  asio::io_context& io_;
  const std::chrono::milliseconds step_timeout_;
  GrpcLoop loop_;
  std::thread thread_;  // the loop's (Start and Stop: Asio thread)

  // Asio thread.
  [[no_unique_address]] ThreadOwner asio_thread_;
  asio::steady_timer deadline_sweep_ ABSL_GUARDED_BY(asio_thread_);
  bool sweep_armed_ ABSL_GUARDED_BY(asio_thread_) = false;
  std::vector<Outgoing> out_ ABSL_GUARDED_BY(asio_thread_);
  std::vector<Notice> out_notices_ ABSL_GUARDED_BY(asio_thread_);
  std::vector<std::function<void()>> out_fns_ ABSL_GUARDED_BY(asio_thread_);
  bool out_flush_posted_ ABSL_GUARDED_BY(asio_thread_) = false;
  std::unordered_map<uint64_t, Waiting> waiting_ ABSL_GUARDED_BY(asio_thread_);
  // Requests answered by the deadline sweep: their agate's address (START
  // requests only), until the real answer (or the stream's failure) comes.
  std::unordered_map<uint64_t, std::string> late_ ABSL_GUARDED_BY(asio_thread_);
  // The same for other requests (no address kept).
  std::unordered_set<uint64_t> late_steps_ ABSL_GUARDED_BY(asio_thread_);
  std::function<void(const std::string&, proto::AGateResponse&)> late_hook_
      ABSL_GUARDED_BY(asio_thread_);
  uint64_t next_id_ ABSL_GUARDED_BY(asio_thread_) = 1;

  // Loop thread.
  std::unordered_map<std::string, std::unique_ptr<AGateClient>> agates_
      ABSL_GUARDED_BY(loop_.thread());
  std::unordered_map<std::string, std::unique_ptr<AssignClient>> managers_
      ABSL_GUARDED_BY(loop_.thread());
  std::vector<Answer> in_ ABSL_GUARDED_BY(loop_.thread());
  std::vector<std::function<void()>> in_fns_ ABSL_GUARDED_BY(loop_.thread());
  bool in_flush_deferred_ ABSL_GUARDED_BY(loop_.thread()) = false;
};

}  // namespace its::wgate
