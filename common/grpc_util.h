#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/grpc_loop.h"

namespace its {

// A started gRPC server and its grpc.health.v1 status.
class GrpcServer {
 public:
  ~GrpcServer();
  grpc::Server* operator->() const { return server_.get(); }
  template <typename Deadline>
  void Shutdown(const Deadline& deadline) {
    server_->Shutdown(deadline);
  }

  // The server's grpc.health.v1 status (of ""): SERVING or NOT_SERVING. A
  // server starts NOT_SERVING; its process says when it is ready (r3_stub:
  // at once; agate: registered with its Mapping Manager; Mapping Manager: an
  // agate is up) and when it stops. Any thread.
  void SetServing(bool serving);

 private:
  friend absl::StatusOr<std::unique_ptr<GrpcServer>> StartGrpcServer(
      const std::string&, const std::vector<grpc::Service*>&, std::string*,
      GrpcLoop*);
  struct LoopHealth;
  GrpcServer();
  std::unique_ptr<LoopHealth> health_;  // outlives server_
  std::unique_ptr<grpc::Server> server_;
};

// Builds and starts a gRPC server on `listen` (host:port, port 0 = any free
// port) that answers grpc.health.v1 Check. Stores the bound address in
// *bound.
//
// With `loop`, asynchronous services are served on that loop (it polls the
// server's queue) and so is health: no other thread of the process polls
// gRPC. gRPC's own health service (callback threads) and server reflection
// (a synchronous service: a thread pool) would each add threads that take
// socket events from the loop and hand them over — a third of the agate's
// and R/3 stub's CPU per request (docs/hot-path.md). Server reflection is
// therefore only there when ITS_GRPC_REFLECTION=1 is in the environment.
//
// Without `loop` (the launcher's admin API, itsload workers: off the hot
// path) gRPC's built-in health service and reflection serve it.
absl::StatusOr<std::unique_ptr<GrpcServer>> StartGrpcServer(
    const std::string& listen, const std::vector<grpc::Service*>& services,
    std::string* bound, GrpcLoop* loop = nullptr);

// An insecure channel to `address` (host:port, any host; no proxy lookups,
// keepalive on long-lived streams).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address);

// The longest link delay fault injection sets (itsadm fault delay, an
// agate's SetLinkDelay, common/link_delays.h).
inline constexpr double kMaxLinkDelaySeconds = 600;

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
