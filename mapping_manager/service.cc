#include "mapping_manager/service.h"

#include <memory>

namespace its::mm {
namespace {

using Service = proto::MappingManager::AsyncService;

// One Assign call: the answer may wait for a process to become free
// (MappingManager::Assign answers later), so the call lives until then.
class AssignCall final : public GrpcLoop::Tag {
 public:
  static void Accept(MappingManager& manager, GrpcLoop& loop,
                     Service& service) {
    auto* call = new AssignCall(manager, loop, service);
    service.RequestAssign(&call->context_, &call->request_, &call->writer_,
                          loop.cq(), loop.server_cq(), call);
  }

  void Proceed(bool ok) override {
    if (!ok || answered_) {  // the server is shutting down, or reply sent
      delete this;
      return;
    }
    if (!loop_.stopping()) Accept(manager_, loop_, service_);
    manager_.Assign(
        [this](const grpc::Status& status, const proto::ProcessInfo& process) {
          answered_ = true;
          proto::AssignReply reply;
          if (status.ok()) *reply.mutable_process() = process;
          writer_.Finish(reply, status, this);
        },
        request_.has_process() ? std::optional<int>(request_.process())
                               : std::nullopt);
  }

 private:
  AssignCall(MappingManager& manager, GrpcLoop& loop, Service& service)
      : manager_(manager), loop_(loop), service_(service), writer_(&context_) {}

  MappingManager& manager_;
  GrpcLoop& loop_;
  Service& service_;
  grpc::ServerContext context_;
  proto::AssignRequest request_;
  grpc::ServerAsyncResponseWriter<proto::AssignReply> writer_;
  bool answered_ = false;
};

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
  AssignCall::Accept(manager_, loop_, service_);
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
  ServeUnary(loop_, service_, &Service::RequestGetDirectory,
             [this](const proto::Empty&, proto::Directory* reply) {
               *reply = manager_.Directory();
               return grpc::Status::OK;
             });
}

}  // namespace its::mm
