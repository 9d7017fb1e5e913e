#pragma once

// The logic thread of a process whose I/O is gRPC (agate, r3_stub, and the
// gRPC side of wgate), driven by gRPC's asynchronous completion-queue API.
//
// One thread runs Run(). It polls the completion queue itself, so a message
// is read, handled and answered on one thread: no hand-over between gRPC's
// callback threads and a logic thread, which cost about three futex wake-ups
// per request and half of every process's CPU (docs/hot-path.md). No other
// thread of the process may poll gRPC (no callback or sync API there), or it
// would take the socket events and hand them over again.
//
// Work reaches the loop as
//  - completion-queue tags (GrpcLoop::Tag): asynchronous gRPC operations;
//  - timers (Timer, After) — gRPC alarms on the same queue;
//  - Post() from any other thread (one alarm wakes the loop per burst);
//  - Defer() from the loop thread: runs once no completion is ready, so all
//    that one burst of events produces can leave in one stream message.
//
// Shutdown(): the loop cancels its client calls and timers, shuts the queue
// down, and Run() returns when every operation in flight has come back.
// While stopping() no new gRPC operation may start (the helpers here check).
//
// Threads (common/thread_owner.h): the loop's own state belongs to the loop
// thread, thread(); only the posted work and its wake-up are shared, behind
// mu_. Objects that live on the loop (streams, dialog clients) may
// thread().Check() that they are called there.

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <unordered_set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "common/thread_owner.h"

namespace its {

class GrpcLoop {
 public:
  // A completion-queue tag. Proceed() runs on the loop thread.
  class Tag {
   public:
    virtual void Proceed(bool ok) = 0;

   protected:
    ~Tag() = default;
  };

  // A tag that calls a member function of its owner: the usual way for an
  // object with several operations in flight (read, write, finish).
  template <typename T, void (T::*Fn)(bool)>
  class MemberTag final : public Tag {
   public:
    explicit MemberTag(T* owner) : owner_(owner) {}
    void Proceed(bool ok) override { (owner_->*Fn)(ok); }

   private:
    T* owner_;
  };

  // A one-shot timer owned by one object (loop thread only). Arm() replaces
  // a pending expiry; destruction cancels.
  class Timer {
   public:
    explicit Timer(GrpcLoop& loop) : loop_(loop) {}
    ~Timer() { Cancel(); }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    void Arm(std::chrono::microseconds delay, std::function<void()> fn);
    void Cancel();

   private:
    friend class GrpcLoop;
    GrpcLoop& loop_;
    struct Op;
    Op* op_ = nullptr;  // loop thread
  };

  GrpcLoop();
  ~GrpcLoop();
  GrpcLoop(const GrpcLoop&) = delete;
  GrpcLoop& operator=(const GrpcLoop&) = delete;

  // A server process's loop polls the server's queue instead of its own
  // (StartGrpcServer sets it). Only before anything used the loop.
  void AdoptServerQueue(std::unique_ptr<grpc::ServerCompletionQueue> cq);

  grpc::CompletionQueue* cq() { return cq_.get(); }
  // The same queue as a server's notification queue (server loops only).
  grpc::ServerCompletionQueue* server_cq() { return server_cq_; }

  // Runs the loop on the calling thread until Shutdown() has completed.
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  // The loop thread while Run() runs (none before and after).
  const ThreadOwner& thread() const ABSL_LOCK_RETURNED(loop_thread_) {
    return loop_thread_;
  }

  // Any thread. Runs `fn` on the loop thread. Dropped once the loop stopped.
  void Post(std::function<void()> fn) ABSL_LOCKS_EXCLUDED(mu_);

  // Loop thread. Runs `fn` when no completion is ready (end of the burst).
  void Defer(std::function<void()> fn) {
    loop_thread_.Check();
    deferred_.push_back(std::move(fn));
  }

  // Loop thread. Runs `fn` after `delay` unless the loop stops first.
  void After(std::chrono::microseconds delay, std::function<void()> fn);

  // Any thread. Begins the end of the loop (see the file comment).
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  // Loop thread. True once shutting down: start no new gRPC operations.
  bool stopping() const {
    loop_thread_.Check();
    return stopping_;
  }

  // Loop thread. Client calls in flight register their context so that
  // Shutdown() can cancel them; unregister when the call is done.
  void AddClientCall(grpc::ClientContext* context) {
    loop_thread_.Check();
    client_calls_.insert(context);
  }
  void RemoveClientCall(grpc::ClientContext* context) {
    loop_thread_.Check();
    client_calls_.erase(context);
  }

 private:
  struct WakeOp;
  void Wake(std::vector<std::function<void()>>& out) ABSL_LOCKS_EXCLUDED(mu_);
  void BeginStop() ABSL_EXCLUSIVE_LOCKS_REQUIRED(loop_thread_)
      ABSL_LOCKS_EXCLUDED(mu_);
  void RunDeferred() ABSL_EXCLUSIVE_LOCKS_REQUIRED(loop_thread_);

  std::unique_ptr<grpc::CompletionQueue> cq_;
  grpc::ServerCompletionQueue* server_cq_ = nullptr;

  // Loop thread.
  [[no_unique_address]] ThreadOwner loop_thread_;
  std::vector<std::function<void()>> deferred_ ABSL_GUARDED_BY(loop_thread_);
  std::unordered_set<Timer::Op*> timers_ ABSL_GUARDED_BY(loop_thread_);
  std::unordered_set<grpc::ClientContext*> client_calls_
      ABSL_GUARDED_BY(loop_thread_);
  bool stopping_ ABSL_GUARDED_BY(loop_thread_) = false;

  // Shared: Post() runs on any thread. (its::Mutex: the wgate's loop runs
  // under ThreadSanitizer, common/mutex.h.)
  Mutex mu_;
  std::vector<std::function<void()>> posted_ ABSL_GUARDED_BY(mu_);
  bool wake_armed_ ABSL_GUARDED_BY(mu_) = false;
  // The one tag that wakes the loop for posted work, re-armed per burst. It
  // lives as long as the loop (made before the loop thread runs), so no
  // object crosses threads through the completion queue, whose ordering
  // ThreadSanitizer cannot see in Debian's uninstrumented gRPC. Its alarm is
  // set under mu_.
  std::unique_ptr<WakeOp> wake_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;  // no more alarms
};

// Serves one unary method of an asynchronous service on `loop`: `handle`
// computes the reply on the loop thread. `request` asks gRPC for the next
// call, e.g.
//   [&](auto* ctx, auto* req, auto* writer, void* tag) {
//     service.RequestListLocks(ctx, req, writer, loop.cq(), loop.server_cq(),
//     tag); }
template <typename Req, typename Resp>
class UnaryServer {
 public:
  using Writer = grpc::ServerAsyncResponseWriter<Resp>;
  using RequestFn =
      std::function<void(grpc::ServerContext*, Req*, Writer*, void* tag)>;
  using HandleFn = std::function<grpc::Status(const Req&, Resp*)>;

  static void Serve(GrpcLoop& loop, RequestFn request, HandleFn handle) {
    auto fns =
        std::make_shared<const Fns>(Fns{std::move(request), std::move(handle)});
    (new Call(loop, std::move(fns)))->Wait();
  }

 private:
  struct Fns {
    RequestFn request;
    HandleFn handle;
  };
  class Call final : public GrpcLoop::Tag {
   public:
    Call(GrpcLoop& loop, std::shared_ptr<const Fns> fns)
        : loop_(loop), fns_(std::move(fns)), writer_(&context_) {}
    void Wait() { fns_->request(&context_, &request_, &writer_, this); }
    void Proceed(bool ok) override {
      if (!ok || finishing_) {  // server shutting down, or reply sent
        delete this;
        return;
      }
      if (!loop_.stopping()) (new Call(loop_, fns_))->Wait();
      finishing_ = true;
      Resp reply;
      grpc::Status status = fns_->handle(request_, &reply);
      writer_.Finish(reply, status, this);
    }

   private:
    GrpcLoop& loop_;
    std::shared_ptr<const Fns> fns_;
    grpc::ServerContext context_;
    Req request_;
    Writer writer_;
    bool finishing_ = false;
  };
};

// The same, naming the generated Request method of the asynchronous service:
//   ServeUnary(loop, service, &proto::R3::AsyncService::RequestListLocks,
//              [&](const proto::Empty&, proto::Sm12Reply* reply) { ...; return
//              grpc::Status::OK; });
template <typename Service, typename Base, typename Req, typename Resp,
          typename Handle>
void ServeUnary(GrpcLoop& loop, Service& service,
                void (Base::*request)(grpc::ServerContext*, Req*,
                                      grpc::ServerAsyncResponseWriter<Resp>*,
                                      grpc::CompletionQueue*,
                                      grpc::ServerCompletionQueue*, void*),
                Handle handle) {
  UnaryServer<Req, Resp>::Serve(
      loop,
      [&loop, &service, request](grpc::ServerContext* ctx, Req* req,
                                 grpc::ServerAsyncResponseWriter<Resp>* writer,
                                 void* tag) {
        (service.*request)(ctx, req, writer, loop.cq(), loop.server_cq(), tag);
      },
      std::move(handle));
}

// One unary client call on `loop` with a deadline; `done(status, reply)`
// runs on the loop thread (not at all if the loop stops first). `start`
// begins the call, e.g.
//   [&](auto* ctx, auto* cq) { return stub->AsyncRegister(ctx, request, cq); }
template <typename Resp, typename Start>
void CallUnary(GrpcLoop& loop, int deadline_ms, Start&& start,
               std::function<void(const grpc::Status&, Resp&)> done) {
  class Call final : public GrpcLoop::Tag {
   public:
    Call(GrpcLoop& loop, std::function<void(const grpc::Status&, Resp&)> done)
        : loop_(loop), done_(std::move(done)) {}
    void Proceed(bool) override {
      loop_.RemoveClientCall(&context_);
      if (!loop_.stopping()) done_(status_, reply_);
      delete this;
    }
    GrpcLoop& loop_;
    std::function<void(const grpc::Status&, Resp&)> done_;
    grpc::ClientContext context_;
    Resp reply_;
    grpc::Status status_;
    std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> reader_;
  };
  if (loop.stopping()) return;
  auto* call = new Call(loop, std::move(done));
  call->context_.set_deadline(std::chrono::system_clock::now() +
                              std::chrono::milliseconds(deadline_ms));
  loop.AddClientCall(&call->context_);
  call->reader_ = start(&call->context_, loop.cq());
  call->reader_->Finish(&call->reply_, &call->status_, call);
}

}  // namespace its
