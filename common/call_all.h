#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "common/grpc_util.h"

namespace its {

// One unary call of many made at once (CallAll). The reader is declared
// last so that it goes first: it lives in the call's memory, which the
// context owns.
template <typename Stub, typename Reply>
struct ConcurrentCall {
  std::unique_ptr<Stub> stub;
  grpc::ClientContext ctx;
  Reply reply;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Reply>> reader;
};

// Makes a call to each of `addresses` at once and waits for all of them (at
// most `deadline_ms`): one process that does not answer (hung) holds up the
// caller once, not once per process. `prepare(stub, ctx, cq)` is the stub's
// PrepareAsync<Method> with the request bound. The answers come in the
// order of `addresses`. For command-line tools and admin calls, which may
// block: not for a GrpcLoop's thread.
template <typename Service, typename Reply, typename Prepare>
std::vector<std::unique_ptr<ConcurrentCall<typename Service::Stub, Reply>>>
CallAll(const std::vector<std::string>& addresses, int deadline_ms,
        Prepare prepare) {
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<ConcurrentCall<typename Service::Stub, Reply>>>
      calls;
  for (const std::string& address : addresses) {
    auto call =
        std::make_unique<ConcurrentCall<typename Service::Stub, Reply>>();
    call->stub = Service::NewStub(MakeChannel(address));
    call->ctx.set_deadline(DeadlineIn(deadline_ms));
    call->reader = prepare(*call->stub, &call->ctx, &cq);
    call->reader->StartCall();
    call->reader->Finish(&call->reply, &call->status, call.get());
    calls.push_back(std::move(call));
  }
  void* tag;
  bool ok;
  for (size_t i = 0; i < calls.size(); ++i) cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return calls;
}

}  // namespace its
