// Every process's gRPC server answers grpc.health.v1 with its real state, as
// probes expect, and lists its services by server reflection when asked to
// (ITS_GRPC_REFLECTION=1), as grpcurl-style tools expect. Spoken over the
// generic stub: the wire format, not our code.
#include <grpcpp/generic/generic_stub.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "clients/admin.h"
#include "common/grpc_util.h"
#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

// grpc.health.v1.Health/Check for the whole server (service ""):
// 1 SERVING, 2 NOT_SERVING, -1 no answer.
int HealthStatus(const std::string& address) {
  grpc::GenericStub stub(MakeChannel(address));
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(2000));
  grpc::Slice no_bytes;  // HealthCheckRequest{}: service "" is no bytes
  grpc::ByteBuffer request(&no_bytes, 1), response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status s = done.get_future().get();
  if (!s.ok()) return -1;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const auto& sl : slices)
    bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  // HealthCheckResponse{status = 1}: tag 0x08, then the enum value.
  if (bytes.size() == 2 && bytes[0] == 0x08) return bytes[1];
  return bytes.empty() ? 0 : -1;  // 0 (UNKNOWN) is sent as no bytes
}

// The service names server reflection lists (list_services = "").
std::string ReflectedServices(const std::string& address) {
  grpc::GenericStub stub(MakeChannel(address));
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(2000));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(
      &ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      &cq);
  void* tag;
  bool ok;
  auto next = [&] { return cq.Next(&tag, &ok) && ok; };
  call->StartCall(reinterpret_cast<void*>(1));
  if (!next()) return "";
  // ServerReflectionRequest{list_services = ""}: field 7, length 0.
  const char req[] = {0x3a, 0x00};
  grpc::Slice slice(req, sizeof req);
  grpc::ByteBuffer out(&slice, 1);
  call->Write(out, reinterpret_cast<void*>(2));
  if (!next()) return "";
  grpc::ByteBuffer in;
  call->Read(&in, reinterpret_cast<void*>(3));
  if (!next()) return "";
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (in.Dump(&slices).ok()) {
    for (const auto& sl : slices)
      bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  }
  call->WritesDone(reinterpret_cast<void*>(4));
  next();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  next();
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return bytes;  // the names appear in it as plain strings
}

// The names of the threads of process `pid` (/proc/PID/task/*/comm).
std::vector<std::string> ThreadNames(int pid) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator(Cat("/proc/", pid, "/task"), ec)) {
    std::ifstream in(task.path() / "comm");
    std::string name;
    if (std::getline(in, name)) names.push_back(name);
  }
  return names;
}

TEST(Health, EveryProcessServesHealthOnItsLoop) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  auto config = ClusterConfig::Load(c->config_dir());
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(HealthStatus(config->r3_listen), 1) << "r3_stub";
  for (const auto& inst : config->instances) {
    // A Mapping Manager serves once one of its agates is up.
    EXPECT_TRUE(WaitFor([&] {
      return HealthStatus(inst.mapping_manager) == 1;
    })) << inst.name;
  }
  auto agates = Admin(*c, "agates");
  ASSERT_FALSE(agates.empty());
  for (const auto& a : agates) {
    std::string address = a["address"].get<std::string>();
    // Registered with its Mapping Manager: healthy.
    EXPECT_TRUE(WaitFor([&] { return HealthStatus(address) == 1; })) << address;
  }
  EXPECT_EQ(HealthStatus(c->admin_address()), 1) << "the launcher's admin API";
  // Where nothing listens there is no answer (the probe must not hang).
  EXPECT_EQ(HealthStatus("127.0.0.1:1"), -1);

  // No reflection unless asked for, and no thread besides the loop that
  // polls gRPC: gRPC's callback threads (nexting_thread: its built-in health
  // service) and synchronous-server threads (reflection) would take socket
  // events from the loop and hand them over on every message.
  EXPECT_EQ(ReflectedServices(config->r3_listen), "");
  int checked = 0;
  for (const auto& p : Admin(*c, "processes")) {
    std::string name = p["name"].get<std::string>();
    if (name.find("wgate") != std::string::npos) continue;  // no server
    for (const auto& thread : ThreadNames(p["pid"].get<int>())) {
      EXPECT_EQ(thread.find("nexting"), std::string::npos) << name;
      EXPECT_EQ(thread.find("grpcpp_sync"), std::string::npos) << name;
    }
    ++checked;
  }
  for (const auto& a : agates) {
    for (const auto& thread : ThreadNames(a["pid"].get<int>())) {
      EXPECT_EQ(thread.find("nexting"), std::string::npos) << "agate";
      EXPECT_EQ(thread.find("grpcpp_sync"), std::string::npos) << "agate";
    }
    ++checked;
  }
  EXPECT_GE(checked, 3 + static_cast<int>(agates.size()));
}

// ITS_GRPC_REFLECTION=1 in the cluster's environment: every gRPC server
// lists its services by server reflection, for grpcurl-style tools.
TEST(Health, ReflectionWhenAskedFor) {
  setenv("ITS_GRPC_REFLECTION", "1", 1);
  auto c = StartCluster();
  unsetenv("ITS_GRPC_REFLECTION");
  ASSERT_NE(c, nullptr);
  auto config = ClusterConfig::Load(c->config_dir());
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_NE(ReflectedServices(config->r3_listen).find("its.proto.R3"),
            std::string::npos);
  for (const auto& inst : config->instances) {
    EXPECT_NE(ReflectedServices(inst.mapping_manager).find("MappingManager"),
              std::string::npos)
        << inst.name;
  }
  auto agates = Admin(*c, "agates");
  ASSERT_FALSE(agates.empty());
  for (const auto& a : agates) {
    std::string address = a["address"].get<std::string>();
    EXPECT_TRUE(WaitFor([&] { return HealthStatus(address) == 1; })) << address;
    EXPECT_NE(ReflectedServices(address).find("AGate"), std::string::npos)
        << address;
  }
}

// A drained agate (itsadm drain) takes no new session: its health says
// NOT_SERVING until it is undrained, and its metrics say it is drained.
TEST(Health, ADrainedAgateIsNotServing) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  auto config = ClusterConfig::Load(c->config_dir());
  ASSERT_TRUE(config.ok());
  std::string address, other;
  for (const auto& a : Admin(*c, "agates")) {
    if (a["instance"] != "IT1") continue;
    if (a["process"] == 0) address = a["address"].get<std::string>();
    if (a["process"] == 1) other = a["address"].get<std::string>();
  }
  ASSERT_FALSE(address.empty());
  ASSERT_TRUE(WaitFor([&] { return HealthStatus(address) == 1; }));
  ASSERT_TRUE(admin::Drain(*config, "IT1/0", true).ok());
  // The agate learns it with its next load report (at most a second).
  EXPECT_TRUE(WaitFor([&] { return HealthStatus(address) == 2; }, 5000));
  EXPECT_EQ(HealthStatus(other), 1) << "only the drained process";
  ASSERT_TRUE(admin::Drain(*config, "IT1/0", false).ok());
  EXPECT_TRUE(WaitFor([&] { return HealthStatus(address) == 1; }, 5000));
  // A whole instance drained: every one of its agates.
  ASSERT_TRUE(admin::Drain(*config, "IT1", true).ok());
  EXPECT_TRUE(WaitFor(
      [&] { return HealthStatus(address) == 2 && HealthStatus(other) == 2; },
      5000));
  ASSERT_TRUE(admin::Drain(*config, "IT1", false).ok());
  EXPECT_TRUE(WaitFor(
      [&] { return HealthStatus(address) == 1 && HealthStatus(other) == 1; },
      5000));
}

}  // namespace
}  // namespace its::testing
