#pragma once

// Long-lived bidirectional gRPC streams that carry many requests per message.
//
// Writes are naturally batched: items added while a write is in flight collect
// in the next batch message, which goes out as soon as that write completes.
// Under load every message carries many items; when idle, an item goes out at
// once. Received batches are handed to a callback that must not block (it runs
// on a gRPC thread; post real work to an executor).

#include <functional>
#include <memory>
#include <mutex>
#include <utility>

#include <asio.hpp>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_callback.h>
#include <grpcpp/support/server_callback.h>

namespace its {

// Write side shared by the client and server reactors. `Out` is a batch
// message; callers add items to it through a function.
//
// Corking: items added on the logic thread while no write is in flight are
// not written at once; a flush is posted to the logic thread, so every item
// added in the same burst of events goes out in one message. Under load a
// write is usually in flight and the next batch simply forms behind it.
template <typename Out>
class BatchWriter {
 public:
  // Adds items with `fill(batch)`. Returns false if the stream is closed.
  // Sets *must_flush when the caller must post a Flush() (once per burst).
  template <typename Fill>
  bool Add(Fill&& fill, bool* must_flush) {
    std::lock_guard<std::mutex> l(mu_);
    *must_flush = false;
    if (closed_) return false;
    fill(pending_);
    ++pending_items_;
    if (!writing_ && !flush_posted_) {
      flush_posted_ = true;
      *must_flush = true;
    }
    return true;
  }

  // The posted flush: true if a write of inflight() must start now.
  bool Flush() {
    std::lock_guard<std::mutex> l(mu_);
    flush_posted_ = false;
    if (closed_ || writing_ || pending_items_ == 0) return false;
    writing_ = true;
    inflight_.Swap(&pending_);
    pending_items_ = 0;
    return true;
  }

  // After a write completed: returns true if the next batch is ready in
  // inflight() and must be written.
  bool WriteDone(bool ok) {
    std::lock_guard<std::mutex> l(mu_);
    inflight_.Clear();
    if (!ok) closed_ = true;
    if (!closed_ && pending_items_ > 0) {
      inflight_.Swap(&pending_);
      pending_items_ = 0;
      return true;
    }
    writing_ = false;
    return false;
  }

  // Marks the stream closed. Returns true if no write is in flight (so the
  // caller may finish the stream now); otherwise the last WriteDone() will.
  bool Close() {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    return !writing_;
  }

  // True exactly once: after Close(), when no write is in flight any more.
  bool TakeQuiescent() {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_ && !writing_ && !finished_) {
      finished_ = true;
      return true;
    }
    return false;
  }

  Out* inflight() { return &inflight_; }

 private:
  std::mutex mu_;
  Out pending_;   // guarded by mu_
  Out inflight_;  // owned by the write in flight while writing_
  size_t pending_items_ = 0;
  bool writing_ = false;
  bool flush_posted_ = false;
  bool closed_ = false;
  bool finished_ = false;
};

// Send() of both stream ends: adds items and posts at most one flush per
// burst to the logic thread. `Derived` is the reactor (it has StartWrite and
// enable_shared_from_this).
template <typename Derived, typename Out>
class CorkedWrites {
 public:
  explicit CorkedWrites(asio::io_context& io) : io_(io) {}

  // Thread-safe; returns false once the stream is closed.
  template <typename Fill>
  bool Send(Fill&& fill) {
    bool flush;
    if (!writer_.Add(std::forward<Fill>(fill), &flush)) return false;
    if (flush) {
      asio::post(io_, [self = static_cast<Derived*>(this)->shared_from_this()] {
        CorkedWrites& me = *self;
        if (me.writer_.Flush()) self->StartWrite(me.writer_.inflight());
      });
    }
    return true;
  }

 protected:
  asio::io_context& io_;
  BatchWriter<Out> writer_;
};

// Client end of a batched bidi stream. Create with std::make_shared, then
// Start(); the object keeps itself alive until the RPC is done.
template <typename Up, typename Down>
class BatchClientStream final : public grpc::ClientBidiReactor<Up, Down>,
                                public CorkedWrites<BatchClientStream<Up, Down>, Up>,
                                public std::enable_shared_from_this<BatchClientStream<Up, Down>> {
 public:
  using OnBatch = std::function<void(Down&)>;
  using OnClosed = std::function<void(const grpc::Status&)>;

  // `io`: the logic thread that calls Send() (flushes are posted to it).
  BatchClientStream(asio::io_context& io, OnBatch on_batch, OnClosed on_closed)
      : CorkedWrites<BatchClientStream, Up>(io),
        on_batch_(std::move(on_batch)),
        on_closed_(std::move(on_closed)) {}

  // `begin(context, reactor)` must start the RPC, e.g.
  //   [&](auto* ctx, auto* r) { stub->async()->Dialog(ctx, r); }
  template <typename Begin>
  void Start(Begin&& begin) {
    self_ = this->shared_from_this();
    begin(&context_, this);
    this->AddHold();
    this->StartRead(&in_);
    this->StartCall();
  }

  using CorkedWrites<BatchClientStream, Up>::Send;
  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (ok) {
      on_batch_(in_);
      in_.Clear();
      this->StartRead(&in_);
      return;
    }
    writer_.Close();
    if (writer_.TakeQuiescent()) this->RemoveHold();
  }

  void OnWriteDone(bool ok) override {
    if (writer_.WriteDone(ok)) {
      this->StartWrite(writer_.inflight());
      return;
    }
    if (!ok) context_.TryCancel();
    if (writer_.TakeQuiescent()) this->RemoveHold();
  }

  void OnDone(const grpc::Status& status) override {
    on_closed_(status);
    auto keep = std::move(self_);  // may delete this when it goes out of scope
  }

 private:
  using CorkedWrites<BatchClientStream, Up>::writer_;
  grpc::ClientContext context_;
  Down in_;
  OnBatch on_batch_;
  OnClosed on_closed_;
  std::shared_ptr<BatchClientStream> self_;
};

// Server end of a batched bidi stream. Create with Create() in the service's
// callback method and return the raw pointer to gRPC.
template <typename Up, typename Down>
class BatchServerStream final : public grpc::ServerBidiReactor<Up, Down>,
                                public CorkedWrites<BatchServerStream<Up, Down>, Down>,
                                public std::enable_shared_from_this<BatchServerStream<Up, Down>> {
 public:
  using Ptr = std::shared_ptr<BatchServerStream>;
  using OnBatch = std::function<void(const Ptr&, Up&)>;
  using OnClosed = std::function<void(const Ptr&)>;

  // `io`: the logic thread that calls Send() (flushes are posted to it).
  static BatchServerStream* Create(asio::io_context& io, OnBatch on_batch,
                                   OnClosed on_closed = nullptr) {
    auto s = std::shared_ptr<BatchServerStream>(
        new BatchServerStream(io, std::move(on_batch), std::move(on_closed)));
    s->self_ = s;
    s->StartRead(&s->in_);
    return s.get();
  }

  using CorkedWrites<BatchServerStream, Down>::Send;

  // Like Send(), but if no write is in flight the write starts from this
  // thread at once. For use inside the on_batch reaction: the reply to a
  // batch goes out without a hop to the logic thread.
  template <typename Fill>
  bool SendNow(Fill&& fill) {
    bool flush;
    if (!writer_.Add(std::forward<Fill>(fill), &flush)) return false;
    if (flush && writer_.Flush()) this->StartWrite(writer_.inflight());
    return true;
  }

  void OnReadDone(bool ok) override {
    if (ok) {
      on_batch_(self_, in_);
      in_.Clear();
      this->StartRead(&in_);
      return;
    }
    writer_.Close();
    if (writer_.TakeQuiescent()) this->Finish(grpc::Status::OK);
  }

  void OnWriteDone(bool ok) override {
    if (writer_.WriteDone(ok)) {
      this->StartWrite(writer_.inflight());
      return;
    }
    if (writer_.TakeQuiescent()) this->Finish(grpc::Status::OK);
  }

  void OnDone() override {
    if (on_closed_) on_closed_(self_);
    auto keep = std::move(self_);
  }

 private:
  BatchServerStream(asio::io_context& io, OnBatch on_batch, OnClosed on_closed)
      : CorkedWrites<BatchServerStream, Down>(io),
        on_batch_(std::move(on_batch)),
        on_closed_(std::move(on_closed)) {}

  using CorkedWrites<BatchServerStream, Down>::writer_;
  Up in_;
  OnBatch on_batch_;
  OnClosed on_closed_;
  Ptr self_;
};

}  // namespace its
