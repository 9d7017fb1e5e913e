#pragma once

#include <unistd.h>

#include <memory>
#include <unordered_map>

#include "common/async_stream.h"
#include "common/clock.h"
#include "common/grpc_loop.h"
#include "common/trace.h"
#include "proto/its.grpc.pb.h"
#include "r3_stub/r3_metrics.h"
#include "r3_stub/r3_system.h"

namespace its::r3 {

// gRPC front of the R/3 stub, on the process's GrpcLoop: dialog batches, the
// admin listings and the once-a-simulated-second expiry all run on the loop
// thread, which reads each batch and writes its answers itself. Nothing ever
// sleeps: dialog-step processing time is a timer.
class R3Server {
 public:
  R3Server(R3System& system, GrpcLoop& loop, const Clock& clock)
      : system_(system), loop_(loop), clock_(clock), tick_(loop) {}

  // Register with the ServerBuilder before it starts.
  grpc::Service* service() { return &service_; }

  // After the server started: accept calls and start the expiry timer.
  void Start();
  // The stub's metrics (none unless set).
  void set_metrics(R3Metrics* metrics) { metrics_ = metrics; }

 private:
  using Stream = AsyncServerStream<proto::R3Up, proto::R3Down>;
  void Handle(const Stream::Ptr& stream, proto::R3Up& batch);
  // Pushes the sessions R/3 ended on its own to the agates that hold them.
  void PushEnded();
  // An agate's stream broke (crash, restart, cut link): like SAP's gateway
  // ending the contexts of a broken connection, its user sessions end and
  // their locks go.
  void StreamClosed(const Stream::Ptr& stream);
  // The owner number of `stream` in R3System (a new one on first use).
  uint32_t OwnerOf(const Stream::Ptr& stream);
  void Tick();
  // Step 5 of a traced request (docs/architecture.md §7.1): what R/3 did,
  // kept as numbers; `real_us` how long it takes (the step's timer).
  void RecordSpan(const proto::R3Request& req, const proto::R3Response& resp,
                  int64_t real_us);
  proto::TraceReply Trace(const proto::TraceQuery& query) const;

  proto::R3::AsyncService service_;
  SpanStore spans_;
  const int pid_ = getpid();
  // Each agate stream that logged sessions on, by its owner number in
  // R3System (which keeps each session's owner: no per-session entry here).
  std::unordered_map<const Stream*, uint32_t> owner_of_;
  std::unordered_map<uint32_t, std::weak_ptr<Stream>> streams_;
  uint32_t next_owner_ = 1;

  R3System& system_;
  GrpcLoop& loop_;
  const Clock& clock_;
  GrpcLoop::Timer tick_;
  R3Metrics* metrics_ = nullptr;
};

}  // namespace its::r3
