#include "agate/agate_server.h"

#include "common/async_stream.h"
#include "common/log.h"
#include "common/wire_size.h"

namespace its::agate {

void AGateServer::Start() {
  using Stream = AsyncServerStream<proto::AGateUp, proto::AGateDown>;
  ServeStreams<proto::AGateUp, proto::AGateDown>::Start(
      loop_,
      [this](grpc::ServerContext* ctx, auto* stream, void* tag) {
        service_.RequestDialog(ctx, stream, loop_.cq(), loop_.server_cq(), tag);
      },
      [this](const Stream::Ptr& stream, proto::AGateUp& up) {
        for (proto::AGateRequest& req : *up.mutable_requests()) {
          uint64_t id = req.id();
          AGateProcess::SpanRef span = process_.BeginSpan(req);
          process_.Handle(
              req, [this, stream, id, span](proto::AGateResponse&& resp) {
                resp.set_id(id);
                if (span.id != 0) process_.EndSpan(span, resp);
                const size_t bytes = WireSizeHint(resp);
                if (stream->Send(
                        [&](proto::AGateDown& down) {
                          down.add_responses()->Swap(&resp);
                        },
                        bytes)) {
                  return;
                }
                if (resp.outcome() == proto::SESSION_STARTED ||
                    resp.outcome() == proto::SERVICE_RESTARTED) {
                  process_.EndUnclaimed(resp.session_public());
                }
              });
        }
      });
  ServeUnary(loop_, service_, &proto::AGate::AsyncService::RequestListSessions,
             [this](const proto::Empty&, proto::SessionsReply* reply) {
               *reply = process_.ListSessions();
               return grpc::Status::OK;
             });
  ServeUnary(loop_, service_, &proto::AGate::AsyncService::RequestGetTrace,
             [this](const proto::TraceQuery& query, proto::TraceReply* reply) {
               *reply = process_.Trace(query);
               return grpc::Status::OK;
             });
  ServeUnary(loop_, service_, &proto::AGate::AsyncService::RequestSetLinkDelay,
             [this](const proto::LinkDelay& req, proto::Empty*) {
               if (!(req.r3_seconds() >= 0 && req.r3_seconds() <= 600)) {
                 return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     "the delay must be 0 to 600 seconds");
               }
               if (link_delay_) link_delay_(req.r3_seconds());
               spdlog::warn("fault injection: calls to R/3 wait {} s",
                            req.r3_seconds());
               return grpc::Status::OK;
             });
}

}  // namespace its::agate
