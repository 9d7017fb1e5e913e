#pragma once

#include <asio.hpp>

#include "common/batch_stream.h"
#include "common/clock.h"
#include "proto/its.grpc.pb.h"
#include "r3_stub/r3_system.h"

namespace its::r3 {

// gRPC front of the R/3 stub. Every reaction only hands its work to the
// logic thread (`io`); R3System runs there alone. Dialog-step processing time
// is a timer on that thread, never a sleep.
class R3Service final : public proto::R3::CallbackService {
 public:
  R3Service(R3System& system, asio::io_context& io, const Clock& clock)
      : system_(system), io_(io), clock_(clock) {}

  grpc::ServerBidiReactor<proto::R3Up, proto::R3Down>* Dialog(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* ListUserSessions(grpc::CallbackServerContext* context,
                                             const proto::Empty* request,
                                             proto::Sm04Reply* reply) override;
  grpc::ServerUnaryReactor* ListLocks(grpc::CallbackServerContext* context,
                                      const proto::Empty* request,
                                      proto::Sm12Reply* reply) override;

 private:
  using Stream = BatchServerStream<proto::R3Up, proto::R3Down>;
  void Handle(const Stream::Ptr& stream, proto::R3Up& batch);

  R3System& system_;
  asio::io_context& io_;
  const Clock& clock_;
};

}  // namespace its::r3
