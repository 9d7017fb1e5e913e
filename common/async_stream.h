#pragma once

// Long-lived bidirectional gRPC streams that carry many requests per message
// (docs/architecture.md §2) on a GrpcLoop: every operation starts and completes
// on the loop thread, so nothing here takes a lock.
//
// Writes are naturally batched: items sent while a write is in flight
// collect in the next batch message, which goes out when that write
// completes. An item sent while no write is in flight is not written at
// once: the write is deferred to the end of the loop's burst of events, so
// everything one burst produces leaves in one message ("corking").
//
// A batch holds at most kMaxBatchBytes of the senders' size hints (a single
// larger item goes alone): the peer refuses messages over its receive limit
// (64 MiB), which would break the stream and every call on it. Batches
// formed beyond the cap wait in a queue, in order.

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <utility>

#include "common/grpc_loop.h"

namespace its {

// What both stream ends share: batched writes, the read cycle and the count
// of operations in flight. `Derived` has shared_from_this(), StartWrite(Out*),
// ready_to_write(), IssueRead() (starts a read), DeliverBatch() (hands the
// read message on and clears it) and MaybeEnd().
template <typename Derived, typename Out>
class StreamEnd {
 public:
  explicit StreamEnd(GrpcLoop& loop) : loop_(loop) {}

  static constexpr size_t kMaxBatchBytes = 8 << 20;

  // Adds items with `fill(batch)`; `bytes` is about what they add to the
  // message (large parts suffice). False once the stream is closed.
  template <typename Fill>
  bool Send(Fill&& fill, size_t bytes = 0) {
    loop_.thread().Check();
    if (closed_) return false;
    if (pending_items_ > 0 && pending_bytes_ + bytes > kMaxBatchBytes) {
      full_.emplace_back();
      full_.back().Swap(&pending_);
      pending_items_ = 0;
      pending_bytes_ = 0;
    }
    fill(pending_);
    ++pending_items_;
    pending_bytes_ += bytes;
    if (!writing_ && !flush_deferred_) {
      flush_deferred_ = true;
      loop_.Defer([self = static_cast<Derived*>(this)->shared_from_this()] {
        StreamEnd& me = *self;
        me.flush_deferred_ = false;
        if (me.CanWrite()) me.WriteNext();
      });
    }
    return true;
  }

 protected:
  // Derived may veto writes (e.g. before the call started).
  bool CanWrite() const {
    return !closed_ && !writing_ && (pending_items_ > 0 || !full_.empty()) &&
           !loop_.stopping() &&
           static_cast<const Derived*>(this)->ready_to_write();
  }
  void WriteNext() {
    writing_ = true;
    if (!full_.empty()) {
      inflight_.Swap(&full_.front());
      full_.pop_front();
    } else {
      inflight_.Swap(&pending_);
      pending_items_ = 0;
      pending_bytes_ = 0;
    }
    static_cast<Derived*>(this)->StartWrite(&inflight_);
  }
  // After a write came back: the next batch goes out if one has formed.
  void WriteDone(bool ok) {
    writing_ = false;
    inflight_.Clear();
    if (!ok) closed_ = true;
    if (CanWrite()) WriteNext();
  }

  // After a read came back. The next read starts after this burst's writes:
  // a read in flight makes gRPC 1.51 send a flow-control update the moment
  // data arrives, in a write of its own (which wakes the peer); started
  // after our writes it joins them (measured: the R/3 stub's sendmsg calls
  // per received message fell from 1.5 to 1.0).
  void ReadDone(bool ok) {
    --ops_;
    Derived& d = static_cast<Derived&>(*this);
    if (ok) {
      d.DeliverBatch();
      ++ops_;  // the next read's
      loop_.Defer([self = d.shared_from_this()] { self->ReadAgain(); });
    } else {
      closed_ = true;  // the peer half-closed or the call broke
      reading_done_ = true;
    }
    d.MaybeEnd();
  }
  void ReadAgain() {  // its operation was counted in ReadDone
    Derived& d = static_cast<Derived&>(*this);
    if (loop_.stopping()) {
      --ops_;
      closed_ = true;
      reading_done_ = true;
      d.MaybeEnd();
      return;
    }
    d.IssueRead();
  }

  GrpcLoop& loop_;
  int ops_ = 0;  // operations in flight
  bool reading_done_ = false;
  Out pending_;
  Out inflight_;
  std::deque<Out> full_;  // batches that reached the cap, oldest first
  size_t pending_items_ = 0;
  size_t pending_bytes_ = 0;
  bool writing_ = false;
  bool flush_deferred_ = false;
  bool closed_ = false;
};

// Server end of one batched bidi stream. Created by ServeStreams().
template <typename Up, typename Down>
class AsyncServerStream final
    : public StreamEnd<AsyncServerStream<Up, Down>, Down>,
      public std::enable_shared_from_this<AsyncServerStream<Up, Down>> {
 public:
  using Ptr = std::shared_ptr<AsyncServerStream>;
  // Runs for every received batch (loop thread); may Send() at once.
  using OnBatch = std::function<void(const Ptr&, Up&)>;
  using OnClosed = std::function<void(const Ptr&)>;
  using Base = StreamEnd<AsyncServerStream, Down>;

  AsyncServerStream(GrpcLoop& loop, OnBatch on_batch, OnClosed on_closed)
      : Base(loop),
        on_batch_(std::move(on_batch)),
        on_closed_(std::move(on_closed)) {}

  grpc::ServerContext* context() { return &context_; }
  grpc::ServerAsyncReaderWriter<Down, Up>* stream() { return &stream_; }

  // The call arrived: keep a read in flight from now on.
  void Accepted() {
    self_ = this->shared_from_this();
    ++ops_;
    stream_.Read(&in_, &read_tag_);
  }

  bool ready_to_write() const { return true; }
  void StartWrite(Down* batch) {
    ++ops_;
    stream_.Write(*batch, &write_tag_);
  }

 private:
  friend Base;
  using Base::ops_;
  using Base::reading_done_;
  void OnRead(bool ok) { this->ReadDone(ok); }
  void IssueRead() { stream_.Read(&in_, &read_tag_); }
  void DeliverBatch() {
    on_batch_(self_, in_);
    in_.Clear();
  }
  void OnWrite(bool ok) {
    --ops_;
    this->WriteDone(ok);
    MaybeEnd();
  }
  void OnFinish(bool) {
    --ops_;
    MaybeEnd();
  }
  void MaybeEnd() {
    if (this->loop_.stopping()) this->closed_ = true;
    if (!this->closed_ || this->writing_) return;
    if (reading_done_ && !finish_started_ && !this->loop_.stopping()) {
      finish_started_ = true;
      ++ops_;
      stream_.Finish(grpc::Status::OK, &finish_tag_);
      return;
    }
    if (ops_ > 0) {
      if (!reading_done_ && !cancelled_) {  // a write failed: end the read too
        cancelled_ = true;
        context_.TryCancel();
      }
      return;
    }
    if (!self_) return;
    if (on_closed_) on_closed_(self_);
    auto keep = std::move(self_);  // may delete this when it goes out of scope
  }

  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<Down, Up> stream_{&context_};
  Up in_;
  OnBatch on_batch_;
  OnClosed on_closed_;
  Ptr self_;  // held while operations are in flight
  bool finish_started_ = false;
  bool cancelled_ = false;
  GrpcLoop::MemberTag<AsyncServerStream, &AsyncServerStream::OnRead> read_tag_{
      this};
  GrpcLoop::MemberTag<AsyncServerStream, &AsyncServerStream::OnWrite>
      write_tag_{this};
  GrpcLoop::MemberTag<AsyncServerStream, &AsyncServerStream::OnFinish>
      finish_tag_{this};
};

// Accepts every call of one bidi stream method, e.g.
//   ServeStreams<proto::R3Up, proto::R3Down>(loop,
//       [&](auto* ctx, auto* stream, void* tag) {
//         service.RequestDialog(ctx, stream, loop.cq(), loop.server_cq(), tag);
//         },
//       on_batch, on_closed);
template <typename Up, typename Down>
class ServeStreams final : public GrpcLoop::Tag {
 public:
  using Stream = AsyncServerStream<Up, Down>;
  using RequestFn = std::function<void(
      grpc::ServerContext*, grpc::ServerAsyncReaderWriter<Down, Up>*, void*)>;

  static void Start(GrpcLoop& loop, RequestFn request,
                    typename Stream::OnBatch on_batch,
                    typename Stream::OnClosed on_closed = nullptr) {
    (new ServeStreams(loop, std::move(request), std::move(on_batch),
                      std::move(on_closed)))
        ->Wait();
  }

  void Proceed(bool ok) override {
    if (!ok) {  // the server is shutting down
      delete this;
      return;
    }
    auto accepted = std::move(next_);
    accepted->Accepted();
    if (loop_.stopping()) {
      delete this;
      return;
    }
    Wait();
  }

 private:
  ServeStreams(GrpcLoop& loop, RequestFn request,
               typename Stream::OnBatch on_batch,
               typename Stream::OnClosed on_closed)
      : loop_(loop),
        request_(std::move(request)),
        on_batch_(std::move(on_batch)),
        on_closed_(std::move(on_closed)) {}
  void Wait() {
    next_ = std::make_shared<Stream>(loop_, on_batch_, on_closed_);
    request_(next_->context(), next_->stream(), this);
  }

  GrpcLoop& loop_;
  RequestFn request_;
  typename Stream::OnBatch on_batch_;
  typename Stream::OnClosed on_closed_;
  std::shared_ptr<Stream> next_;
};

// Client end of one batched bidi stream. Create with std::make_shared, then
// Start(); it keeps itself alive until the call is over.
template <typename Up, typename Down>
class AsyncClientStream final
    : public StreamEnd<AsyncClientStream<Up, Down>, Up>,
      public std::enable_shared_from_this<AsyncClientStream<Up, Down>> {
 public:
  using OnBatch = std::function<void(Down&)>;
  using OnClosed = std::function<void(const grpc::Status&)>;
  using Base = StreamEnd<AsyncClientStream, Up>;
  using Rw = grpc::ClientAsyncReaderWriter<Up, Down>;

  AsyncClientStream(GrpcLoop& loop, OnBatch on_batch, OnClosed on_closed)
      : Base(loop),
        on_batch_(std::move(on_batch)),
        on_closed_(std::move(on_closed)) {}

  // `prepare(context, cq)` returns the prepared call, e.g.
  //   [&](auto* ctx, auto* cq) { return stub->PrepareAsyncDialog(ctx, cq); }
  template <typename Prepare>
  void Start(Prepare&& prepare) {
    self_ = this->shared_from_this();
    if (this->loop_.stopping()) {
      this->closed_ = true;
      status_ = grpc::Status(grpc::StatusCode::CANCELLED, "shutting down");
      MaybeEnd();
      return;
    }
    this->loop_.AddClientCall(&context_);
    registered_ = true;
    stream_ = prepare(&context_, this->loop_.cq());
    ++ops_;
    stream_->StartCall(&start_tag_);
  }

  void Cancel() { context_.TryCancel(); }

  bool ready_to_write() const { return started_; }
  void StartWrite(Up* batch) {
    ++ops_;
    stream_->Write(*batch, &write_tag_);
  }

 private:
  friend Base;
  using Base::ops_;
  using Base::reading_done_;
  void OnStart(bool ok) {
    --ops_;
    if (!ok) {
      this->closed_ = true;
      reading_done_ = true;  // nothing to read: go to Finish for the status
    } else if (!this->loop_.stopping()) {
      started_ = true;
      ++ops_;
      stream_->Read(&in_, &read_tag_);
      if (this->CanWrite()) this->WriteNext();
    }
    MaybeEnd();
  }
  void OnRead(bool ok) { this->ReadDone(ok); }
  void IssueRead() { stream_->Read(&in_, &read_tag_); }
  void DeliverBatch() {
    on_batch_(in_);
    in_.Clear();
  }
  void OnWrite(bool ok) {
    --ops_;
    this->WriteDone(ok);
    if (!ok && !cancelled_) {
      cancelled_ = true;
      context_.TryCancel();  // the read then fails too
    }
    MaybeEnd();
  }
  void OnFinish(bool) {
    --ops_;
    MaybeEnd();
  }
  void MaybeEnd() {
    if (this->loop_.stopping()) {
      this->closed_ = true;
      if (status_.ok())
        status_ = grpc::Status(grpc::StatusCode::CANCELLED, "shutting down");
    }
    if (!this->closed_ || this->writing_) return;
    if (reading_done_ && !finish_started_ && !this->loop_.stopping() &&
        stream_) {
      finish_started_ = true;
      ++ops_;
      stream_->Finish(&status_, &finish_tag_);
      return;
    }
    if (ops_ > 0 || !self_) return;
    if (registered_) this->loop_.RemoveClientCall(&context_);
    registered_ = false;
    if (on_closed_) on_closed_(status_);
    auto keep = std::move(self_);  // may delete this when it goes out of scope
  }

  grpc::ClientContext context_;
  std::unique_ptr<Rw> stream_;
  Down in_;
  grpc::Status status_;
  OnBatch on_batch_;
  OnClosed on_closed_;
  std::shared_ptr<AsyncClientStream> self_;
  bool started_ = false;
  bool finish_started_ = false;
  bool cancelled_ = false;
  bool registered_ = false;
  GrpcLoop::MemberTag<AsyncClientStream, &AsyncClientStream::OnStart>
      start_tag_{this};
  GrpcLoop::MemberTag<AsyncClientStream, &AsyncClientStream::OnRead> read_tag_{
      this};
  GrpcLoop::MemberTag<AsyncClientStream, &AsyncClientStream::OnWrite>
      write_tag_{this};
  GrpcLoop::MemberTag<AsyncClientStream, &AsyncClientStream::OnFinish>
      finish_tag_{this};
};

}  // namespace its
