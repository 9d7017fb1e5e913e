#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>

#include <asio.hpp>

#include "common/batch_stream.h"
#include "common/clock.h"
#include "proto/its.grpc.pb.h"
#include "r3_stub/r3_system.h"

namespace its::r3 {

// gRPC front of the R/3 stub. A dialog batch is handled inside its gRPC
// reaction: the stub's work per request is a few microseconds of CPU with no
// I/O and no waiting, and answering from the reaction saves two thread hops
// per batch (measured: +15 % dialog steps/s through the whole cluster).
// R3System is guarded by mu_; timers (dialog-step processing time, expiry)
// and admin calls run on the logic thread `io` and take the same mutex.
// Nothing ever sleeps.
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
  grpc::ServerUnaryReactor* ListSecuritySessions(grpc::CallbackServerContext* context,
                                                 const proto::Empty* request,
                                                 proto::Sm05Reply* reply) override;
  grpc::ServerUnaryReactor* EndSecuritySession(grpc::CallbackServerContext* context,
                                               const proto::EndSecuritySessionRequest* request,
                                               proto::Empty* reply) override;

  // Starts the once-a-simulated-second check of R/3-side idle limits. Call on
  // the logic thread.
  void StartTimers();

 private:
  using Stream = BatchServerStream<proto::R3Up, proto::R3Down>;
  void Handle(const Stream::Ptr& stream, proto::R3Up& batch);  // mu_ held
  // Pushes the sessions R/3 ended on its own to the agates that hold them. mu_ held.
  void PushEnded();
  void Tick();

  std::mutex mu_;  // guards system_ and owners_
  // Which agate stream logged each user session on (for pushes).
  std::unordered_map<uint64_t, std::weak_ptr<Stream>> owners_;
  std::unique_ptr<asio::steady_timer> tick_;

  R3System& system_;
  asio::io_context& io_;
  const Clock& clock_;
};

}  // namespace its::r3
