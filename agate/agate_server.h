#pragma once

// The gRPC face of an AGate process, on its logic thread (GrpcLoop): the
// batched Dialog streams from the wgates (docs/architecture.md §2), the admin
// listing and fault injection, handed to AGateProcess.

#include <functional>
#include <unordered_map>

#include "agate/agate_process.h"
#include "agate/unclaimed.h"
#include "common/grpc_loop.h"
#include "proto/its.grpc.pb.h"

namespace its::agate {

class AGateServer {
 public:
  AGateServer(AGateProcess& process, GrpcLoop& loop)
      : process_(process), loop_(loop) {}

  // Register with the ServerBuilder before it starts.
  grpc::Service* service() { return &service_; }
  // After the server started: accept calls.
  void Start();
  // Fault injection: SetLinkDelay calls this with the delay in seconds and
  // its generation (agate/link_delay_watch.h).
  void set_link_delay_handler(std::function<void(double, uint64_t)> handler) {
    link_delay_ = std::move(handler);
  }

 private:
  std::function<void(double, uint64_t)> link_delay_;
  // Per wgate stream (keyed by the stream; loop thread): the new sessions
  // it has not confirmed yet (proto::Delivery).
  std::unordered_map<const void*, UnclaimedSessions> unclaimed_;
  bool cap_warned_ = false;  // said once that a stream reached kMaxHeld
  proto::AGate::AsyncService service_;
  AGateProcess& process_;
  GrpcLoop& loop_;
};

}  // namespace its::agate
