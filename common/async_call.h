#pragma once

#include <functional>
#include <memory>

#include <asio.hpp>
#include <grpcpp/grpcpp.h>

#include "common/grpc_util.h"

namespace its {

// Makes one unary gRPC call with the callback API and a deadline, and runs
// `done(status, response)` on the logic thread `io` (never on a gRPC thread).
//   CallAsync<proto::Empty>(io, 2000, request,
//       [&](auto* ctx, auto* req, auto* resp, auto cb) {
//         stub->async()->Register(ctx, req, resp, std::move(cb)); },
//       [](const grpc::Status& s, proto::Empty& resp) { ... });
template <typename Resp, typename Req, typename Begin>
void CallAsync(asio::io_context& io, int deadline_ms, Req request, Begin&& begin,
               std::function<void(const grpc::Status&, Resp&)> done) {
  struct Call {
    grpc::ClientContext context;
    Req request;
    Resp response;
  };
  auto call = std::make_shared<Call>();
  call->request = std::move(request);
  call->context.set_deadline(DeadlineIn(deadline_ms));
  begin(&call->context, &call->request, &call->response,
        [&io, call, done = std::move(done)](grpc::Status status) {
          asio::post(io, [call, status = std::move(status), done] { done(status, call->response); });
        });
}

// Server side of a unary call: runs `fn()` on the logic thread `io` and
// finishes the call with the grpc::Status it returns.
template <typename Fn>
grpc::ServerUnaryReactor* FinishOnLogicThread(asio::io_context& io,
                                              grpc::CallbackServerContext* context, Fn fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  asio::post(io, [reactor, fn = std::move(fn)]() mutable { reactor->Finish(fn()); });
  return reactor;
}

}  // namespace its
