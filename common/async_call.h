#pragma once

#include <grpcpp/grpcpp.h>

#include <asio.hpp>
#include <functional>

namespace its {

// Server side of a unary call: runs `fn()` on the logic thread `io` and
// finishes the call with the grpc::Status it returns.
template <typename Fn>
grpc::ServerUnaryReactor* FinishOnLogicThread(
    asio::io_context& io, grpc::CallbackServerContext* context, Fn fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  asio::post(
      io, [reactor, fn = std::move(fn)]() mutable { reactor->Finish(fn()); });
  return reactor;
}

}  // namespace its
