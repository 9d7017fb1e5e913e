#include "common/grpc_util.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <cstdio>
#include <mutex>

#include "common/cluster_config.h"
#include "common/strings.h"

namespace its {

absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& listen, const std::vector<grpc::Service*>& services,
    std::string* bound, GrpcLoop* loop) {
  std::string host;
  int port;
  if (auto s = ParseHostPort(listen, &host, &port); !s.ok()) return s;
  // Every server answers grpc.health.v1 and server reflection, so probes
  // and grpcurl-style tools work against any process.
  static std::once_flag once;
  std::call_once(once, [] {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  });
  grpc::ServerBuilder builder;
  int selected = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(),
                           &selected);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.SetMaxReceiveMessageSize(64 << 20);
  for (auto* s : services) builder.RegisterService(s);
  if (loop) loop->AdoptServerQueue(builder.AddCompletionQueue());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || selected == 0) {
    return absl::UnavailableError(
        Cat("cannot listen on ", listen, " (address in use or not local?)"));
  }
  *bound = Cat(host, ":", selected);
  SetServing(*server, false);  // until the process says it is ready
  return server;
}

void SetServing(grpc::Server& server, bool serving) {
  if (auto* health = server.GetHealthCheckService()) {
    health->SetServingStatus(serving);
  }
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  // Keepalive finds peers that vanished without a word (a cut link). Stopped
  // or hung peers are the deadlines' business ([wgate] step_timeout_s,
  // [agate] r3_timeout_s), so the keepalive must take longer than those:
  // a connection declared dead ends every session that runs over it.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetMaxReceiveMessageSize(64 << 20);
  // A distinct channel per peer: subchannels are not shared between channels
  // that differ in arguments, so each peer gets its own connection.
  args.SetString("its.peer", address);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

std::chrono::system_clock::time_point DeadlineIn(int ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

void AnnounceReady(const std::string& what, const std::string& address,
                   const std::string& metrics) {
  if (metrics.empty()) {
    std::printf("ready %s %s\n", what.c_str(), address.c_str());
  } else {
    std::printf("ready %s %s metrics=%s\n", what.c_str(), address.c_str(),
                metrics.c_str());
  }
  std::fflush(stdout);
}

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      s.error_message());
}

}  // namespace its
