#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/grpc_loop.h"

namespace its {

// Builds and starts a gRPC server on `listen` (host:port, port 0 = any free
// port), with grpc.health.v1 (NOT_SERVING until SetServing) and server
// reflection. Stores the bound address in *bound. With `loop`, asynchronous
// services are served on that loop (it polls the server's queue).
absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& listen, const std::vector<grpc::Service*>& services,
    std::string* bound, GrpcLoop* loop = nullptr);

// The server's grpc.health.v1 status (of "" and every service): SERVING or
// NOT_SERVING. A server starts NOT_SERVING; its process says when it is
// ready (r3_stub: at once; agate: registered with its Mapping Manager;
// Mapping Manager: an agate is up) and when it stops.
void SetServing(grpc::Server& server, bool serving);

// An insecure channel to `address` (host:port, any host; no proxy lookups,
// keepalive on long-lived streams).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address);

// Deadline `ms` milliseconds from now, for every client call.
std::chrono::system_clock::time_point DeadlineIn(int ms);

// Prints "ready <what> <address>" on stdout and flushes, with
// " metrics=<host:port>" when the process serves a metrics endpoint. Test
// harnesses and deploy/up read this line to learn a port bound as 0.
void AnnounceReady(const std::string& what, const std::string& address,
                   const std::string& metrics = "");

// Converts between absl::Status and grpc::Status at the edge.
grpc::Status ToGrpc(const absl::Status& s);
absl::Status FromGrpc(const grpc::Status& s);

}  // namespace its
