#include "mapping_manager/service.h"

#include <memory>

#include "common/strings.h"
#include "common/trace_wire.h"

namespace its::mm {
namespace {

using Service = proto::MappingManager::AsyncService;

// Streams directory snapshots to one wgate. Only the newest snapshot
// matters: while a write is in flight, later snapshots replace each other.
// Ends when the call does (the wgate cancels, or the server shuts down).
class DirectoryStream {
 public:
  static void Accept(MappingManager& manager, GrpcLoop& loop,
                     Service& service) {
    auto* stream = new DirectoryStream(manager, loop, service);
    // Delivered once the call is over (cancelled included), but only for a
    // call that started.
    stream->context_.AsyncNotifyWhenDone(&stream->done_tag_);
    service.RequestWatchDirectory(&stream->context_, &stream->request_,
                                  &stream->writer_, loop.cq(), loop.server_cq(),
                                  &stream->accept_tag_);
  }

 private:
  DirectoryStream(MappingManager& manager, GrpcLoop& loop, Service& service)
      : manager_(manager), loop_(loop), service_(service), writer_(&context_) {}

  void OnAccept(bool ok) {
    if (!ok) {  // the server is shutting down; no done tag comes
      delete this;
      return;
    }
    accepted_ = true;
    if (!loop_.stopping()) Accept(manager_, loop_, service_);
    if (done_) {  // over before it began (the queue may order them so)
      MaybeDelete();
      return;
    }
    listener_ =
        manager_.AddListener([this](const proto::Directory& d) { Offer(d); });
  }

  void Offer(const proto::Directory& d) {
    if (closed_) return;
    if (writing_) {
      next_ = d;
      has_next_ = true;
      return;
    }
    current_ = d;
    writing_ = true;
    writer_.Write(current_, &write_tag_);
  }

  void OnWrite(bool ok) {
    writing_ = false;
    if (!ok) {
      closed_ = true;
      context_.TryCancel();  // so that the done tag surely comes
    } else if (has_next_ && !closed_) {
      current_ = std::move(next_);
      has_next_ = false;
      writing_ = true;
      writer_.Write(current_, &write_tag_);
      return;
    }
    MaybeDelete();
  }

  void OnDone(bool) {
    done_ = true;
    closed_ = true;
    if (listener_ != 0) manager_.RemoveListener(listener_);
    listener_ = 0;
    MaybeDelete();
  }

  void MaybeDelete() {
    if (accepted_ && done_ && !writing_) delete this;
  }

  MappingManager& manager_;
  GrpcLoop& loop_;
  Service& service_;
  grpc::ServerContext context_;
  proto::Empty request_;
  grpc::ServerAsyncWriter<proto::Directory> writer_;
  int listener_ = 0;
  proto::Directory current_, next_;
  bool has_next_ = false, writing_ = false, closed_ = false, done_ = false;
  bool accepted_ = false;
  GrpcLoop::MemberTag<DirectoryStream, &DirectoryStream::OnAccept> accept_tag_{
      this};
  GrpcLoop::MemberTag<DirectoryStream, &DirectoryStream::OnWrite> write_tag_{
      this};
  GrpcLoop::MemberTag<DirectoryStream, &DirectoryStream::OnDone> done_tag_{
      this};
};

}  // namespace

void MappingManagerService::Start() {
  using Stream = AsyncServerStream<proto::AssignUp, proto::AssignDown>;
  ServeStreams<proto::AssignUp, proto::AssignDown>::Start(
      loop_,
      [this](grpc::ServerContext* ctx, auto* stream, void* tag) {
        service_.RequestAssignments(ctx, stream, loop_.cq(), loop_.server_cq(),
                                    tag);
      },
      [this](const Stream::Ptr& stream, proto::AssignUp& up) {
        for (proto::AssignRequest& request : *up.mutable_requests()) {
          Assign(stream, request);
        }
      });
  DirectoryStream::Accept(manager_, loop_, service_);
  ServeUnary(loop_, service_, &Service::RequestRegister,
             [this](const proto::RegisterRequest& request, proto::Empty*) {
               return manager_.Register(request);
             });
  ServeUnary(loop_, service_, &Service::RequestReportLoad,
             [this](const proto::LoadReport& request, proto::LoadAck* reply) {
               grpc::Status s = manager_.ReportLoad(request);
               if (s.ok())
                 reply->set_draining(manager_.Draining(request.process()));
               return s;
             });
  ServeUnary(
      loop_, service_, &Service::RequestDrain,
      [this](const proto::DrainRequest& request, proto::Directory* reply) {
        grpc::Status s = manager_.Drain(request);
        if (s.ok()) *reply = manager_.Directory();
        return s;
      });
  ServeUnary(loop_, service_, &Service::RequestGetTrace,
             [this](const proto::TraceQuery& query, proto::TraceReply* reply) {
               const std::string name = manager_.Directory().instance();
               for (const Span* s :
                    spans_.Find(TraceId{query.trace_hi(), query.trace_lo()})) {
                 proto::TraceSpan* out = AddSpan(
                     reply, *s, Cat("mapping_manager ", name), getpid());
                 // text: reason kind, chosen process, candidates and why.
                 std::string_view t = s->text;
                 size_t a = t.find('\n'), b = t.find('\n', a + 1);
                 auto& attrs = *out->mutable_attrs();
                 attrs["reason"] = std::string(t.substr(0, a));
                 attrs["chosen"] = std::string(t.substr(a + 1, b - a - 1));
                 attrs["why"] = std::string(t.substr(b + 1));
                 attrs["instance"] = name;
                 if (s->num[0] >= 0) {
                   attrs["process"] = Cat(s->num[0]);
                   attrs["pid"] = Cat(s->num[1]);
                 }
                 out->set_decided(Cat(attrs["chosen"], ": ", attrs["reason"],
                                      " (", attrs["why"], ")"));
               }
               return grpc::Status::OK;
             });
  ServeUnary(loop_, service_, &Service::RequestGetDirectory,
             [this](const proto::Empty&, proto::Directory* reply) {
               *reply = manager_.Directory();
               return grpc::Status::OK;
             });
}

void MappingManagerService::Assign(
    const std::shared_ptr<
        AsyncServerStream<proto::AssignUp, proto::AssignDown>>& stream,
    const proto::AssignRequest& request) {
  // The wgate's traceparent (an invalid one: no span).
  std::optional<TraceContext> trace;
  if (!request.traceparent().empty())
    trace = ParseTraceparent(request.traceparent());
  const int64_t start_us = trace ? TraceNowMicros() : 0;
  // The answer may come later (a process to wait for): the stream lives
  // until then; if it closed meanwhile, Send() drops the result.
  manager_.Assign(
      [this, stream, id = request.id(), trace, start_us](
          const grpc::Status& status, const proto::ProcessInfo& process) {
        if (trace) {
          // Step 3: words now, an Assign is a new session (rare).
          Span& s =
              spans_.Record(trace->trace, NewSpanId(), trace->parent, 3, 0);
          s.start_us = start_us;
          s.end_us = TraceNowMicros();
          s.num[0] = status.ok() ? process.process() : -1;
          s.num[1] = status.ok() ? process.pid() : 0;
          s.text = Cat(manager_.last_reason(), "\n",
                       status.ok() ? Cat("process ", process.process(),
                                         " (pid ", process.pid(), ")")
                                   : Cat("refused: ", status.error_message()),
                       "\n", manager_.last_decision());
        }
        stream->Send([&](proto::AssignDown& down) {
          proto::AssignResult* r = down.add_responses();
          r->set_id(id);
          r->set_code(status.error_code());
          if (status.ok()) {
            *r->mutable_process() = process;
          } else {
            r->set_message(status.error_message());
          }
        });
      },
      request.has_process() ? std::optional<int>(request.process())
                            : std::nullopt);
}

}  // namespace its::mm
