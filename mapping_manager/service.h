#pragma once

#include <unistd.h>

#include "common/grpc_loop.h"
#include "common/trace.h"
#include "mapping_manager/manager.h"
#include "proto/its.grpc.pb.h"

namespace its::mm {

// The Mapping Manager's gRPC face on the loop: unary control calls (Assign
// answers when a process is free, the others at once) and the
// server-streaming directory. Register service() with StartGrpcServer(...,
// &loop), then Start().
class MappingManagerService {
 public:
  MappingManagerService(MappingManager& manager, GrpcLoop& loop)
      : manager_(manager), loop_(loop) {}

  grpc::Service* service() { return &service_; }
  // Starts accepting calls (after the server was built).
  void Start();

 private:
  MappingManager& manager_;
  GrpcLoop& loop_;
  proto::MappingManager::AsyncService service_;
  // Step 3 of traced Assign calls (docs/architecture.md §7.1).
  SpanStore spans_;
};

}  // namespace its::mm
