#pragma once

#include <unistd.h>

#include <memory>

#include "common/async_stream.h"
#include "common/grpc_loop.h"
#include "common/trace.h"
#include "mapping_manager/manager.h"
#include "proto/its.grpc.pb.h"

namespace its::mm {

// The Mapping Manager's gRPC face on the loop: the wgates' batched
// Assignments streams (an assignment is answered when a process is free),
// unary control calls (answered at once) and the server-streaming directory.
// Register service() with StartGrpcServer(..., &loop), then Start().
class MappingManagerService {
 public:
  MappingManagerService(MappingManager& manager, GrpcLoop& loop)
      : manager_(manager), loop_(loop) {}

  grpc::Service* service() { return &service_; }
  // Starts accepting calls (after the server was built).
  void Start();

 private:
  void Assign(
      const std::shared_ptr<
          AsyncServerStream<proto::AssignUp, proto::AssignDown>>& stream,
      const proto::AssignRequest& request);

  MappingManager& manager_;
  GrpcLoop& loop_;
  proto::MappingManager::AsyncService service_;
  // Step 3 of traced Assign calls (docs/architecture.md §7.1).
  SpanStore spans_;
};

}  // namespace its::mm
