#include "common/grpc_util.h"

#include <grpcpp/ext/health_check_service_server_builder_option.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string_view>

#include "common/cluster_config.h"
#include "common/strings.h"
#include "proto/health.grpc.pb.h"

namespace its {

namespace {

// Linking gRPC's reflection library adds its plugin to every ServerBuilder;
// this option takes it out again.
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    std::erase_if(*plugins, [](const auto& p) {
      return p->name() == "proto_server_reflection";
    });
  }
};

// Whether ITS_GRPC_REFLECTION=1 asks for server reflection on loop servers.
bool GrpcReflectionWanted() {
  const char* v = std::getenv("ITS_GRPC_REFLECTION");
  return v != nullptr && std::string_view(v) == "1";
}

}  // namespace

// grpc.health.v1 Check on the server's loop.
struct GrpcServer::LoopHealth {
  grpc::health::v1::Health::AsyncService service;
  // Shared with calls that come back on the loop after the server is gone.
  std::shared_ptr<std::atomic<bool>> serving =
      std::make_shared<std::atomic<bool>>(false);
};

GrpcServer::GrpcServer() = default;
GrpcServer::~GrpcServer() { server_.reset(); }

void GrpcServer::SetServing(bool serving) {
  if (health_) {
    health_->serving->store(serving);
  } else if (auto* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(serving);
  }
}

absl::StatusOr<std::unique_ptr<GrpcServer>> StartGrpcServer(
    const std::string& listen, const std::vector<grpc::Service*>& services,
    std::string* bound, GrpcLoop* loop) {
  std::string host;
  int port;
  if (auto s = ParseHostPort(listen, &host, &port); !s.ok()) return s;
  std::unique_ptr<GrpcServer> result(new GrpcServer);
  // Reflection registers itself with every ServerBuilder made after this.
  static std::once_flag once;
  std::call_once(
      once, [] { grpc::reflection::InitProtoReflectionServerBuilderPlugin(); });
  grpc::ServerBuilder builder;
  if (loop && !GrpcReflectionWanted()) {
    builder.SetOption(std::make_unique<WithoutReflection>());
  }
  if (loop) {
    result->health_ = std::make_unique<GrpcServer::LoopHealth>();
    // No built-in health service here, whatever the process enabled.
    builder.SetOption(
        std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(nullptr));
    builder.RegisterService(&result->health_->service);
  } else {
    grpc::EnableDefaultHealthCheckService(true);
  }
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
  result->server_ = builder.BuildAndStart();
  if (!result->server_ || selected == 0) {
    return absl::UnavailableError(
        Cat("cannot listen on ", listen, " (address in use or not local?)"));
  }
  *bound = Cat(host, ":", selected);
  if (loop) {
    using Health = grpc::health::v1::Health::AsyncService;
    using grpc::health::v1::HealthCheckRequest;
    using grpc::health::v1::HealthCheckResponse;
    ServeUnary(
        *loop, result->health_->service, &Health::RequestCheck,
        [serving = result->health_->serving](const HealthCheckRequest& request,
                                             HealthCheckResponse* reply) {
          // Only the server as a whole (""), as gRPC's own service
          // knows it until a service is named.
          if (!request.service().empty()) {
            return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service");
          }
          reply->set_status(serving->load() ? HealthCheckResponse::SERVING
                                            : HealthCheckResponse::NOT_SERVING);
          return grpc::Status::OK;
        });
  }
  result->SetServing(false);  // until the process says it is ready
  return result;
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
