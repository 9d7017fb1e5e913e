// Listen and advertised addresses (docs/architecture.md §5.1): servers bound
// to every address are dialled at the host they advertise. On one machine
// every 127.x.y.z is this host, so 127.0.0.2 and 127.0.0.3 stand in for the
// addresses of other hosts.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

TEST(Addresses, WildcardListenersAreDialledAtTheirAdvertisedHosts) {
  auto c = StartCluster([](toml::table& t) {
    toml::table& r3 = *t["r3"].as_table();
    r3.insert_or_assign("listen", "0.0.0.0:0");
    r3.insert_or_assign("advertise", "127.0.0.3:3200");  // port: as bound
    for (auto& inst : *t["agate_instance"].as_array()) {
      toml::table& i = *inst.as_table();
      i.insert_or_assign("mapping_manager", "127.0.0.2:0");
      i.insert_or_assign("host", "127.0.0.2");
      i.insert_or_assign("listen_host", "0.0.0.0");
    }
  });
  ASSERT_NE(c, nullptr);
  auto config = ClusterConfig::Load(c->config_dir());
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->r3_advertise.rfind("127.0.0.3:", 0), 0u)
      << config->r3_advertise;
  EXPECT_NE(config->r3_advertise, "127.0.0.3:3200") << "the bound port";
  for (const auto& inst : config->instances) {
    EXPECT_EQ(inst.mapping_manager.rfind("127.0.0.2:", 0), 0u)
        << "the Mapping Manager announced its advertised address: "
        << inst.mapping_manager;
  }
  // Agates bound 0.0.0.0 and registered their instance's host.
  auto agates = Admin(*c, "agates");
  ASSERT_FALSE(agates.empty());
  for (const auto& a : agates) {
    EXPECT_EQ(a["address"].get<std::string>().rfind("127.0.0.2:", 0), 0u)
        << a.dump();
  }
  // A session runs over those addresses, and its GUSID names the host.
  Browser b(c->url());
  HttpResult r = b.Get(StartUrl("webgui", "DEMO", "&~transaction=FB03"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(b.session().find("-A:127.0.0.2:"), std::string::npos)
      << b.session();
  r = b.Get("/scripts/wgate/webgui/?~okcode=/00&RF05L-BELNR=4711");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("x-its-steps").value_or(""), "1,4,5");
  EXPECT_EQ(Admin(*c, "sm04").size(), 1u) << "R/3 reached at its advertise";

  // A crashed Mapping Manager comes back bound to every address again, its
  // agates (which dial its advertised address) are adopted, and it assigns.
  std::string instance = b.session().substr(0, 3);
  auto mm = c->Find("mapping_manager " + instance);
  ASSERT_TRUE(mm.has_value());
  EXPECT_EQ(mm->address.rfind("0.0.0.0:", 0), 0u) << mm->address;
  ASSERT_EQ(kill(mm->pid, SIGKILL), 0);
  ASSERT_TRUE(c->WaitRunning("mapping_manager " + instance, mm->pid, 5000));
  EXPECT_EQ(c->Find("mapping_manager " + instance)->address, mm->address);
  size_t before = agates.size();
  EXPECT_TRUE(WaitFor([&] { return Admin(*c, "agates").size() == before; }))
      << "the agates re-registered, none started twice";
  Browser pinned(c->url());
  EXPECT_TRUE(WaitFor(
      [&] {
        return pinned
                   .Get(StartUrl(
                       "webgui", "DEMO2",
                       "&~transaction=FB03&~agate_routing=" + instance))
                   .status == 200;
      },
      5000));
  r = b.Get("/scripts/wgate/webgui/?~okcode=/00");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST(Addresses, AWildcardListenWithoutAnAdvertisedHostIsRefused) {
  std::string config = Cat(ITS_SOURCE_DIR, "/deploy/config");
  ProgramRun agate =
      RunProgram("agate", Cat("--config ", config,
                              " --instance IT1 --process 0 --mapping-manager "
                              "127.0.0.1:1 --listen 0.0.0.0:0"));
  EXPECT_EQ(agate.exit_code, 2) << agate.output;
  EXPECT_NE(agate.output.find("give --advertise HOST"), std::string::npos)
      << agate.output;

  ProgramRun bad_host = RunProgram(
      "agate", Cat("--config ", config,
                   " --instance IT1 --process 0 --mapping-manager "
                   "127.0.0.1:1 --listen 0.0.0.0:0 --advertise 'a b'"));
  EXPECT_EQ(bad_host.exit_code, 2) << bad_host.output;
  EXPECT_NE(bad_host.output.find("--advertise a b: expected a host name"),
            std::string::npos)
      << bad_host.output;

  ProgramRun wgate = RunProgram(
      "wgate",
      Cat("--config ", config, " --listen 127.0.0.1:0 --advertise 0.0.0.0"));
  EXPECT_EQ(wgate.exit_code, 2) << wgate.output;
  EXPECT_NE(wgate.output.find("--advertise 0.0.0.0: expected a host name"),
            std::string::npos)
      << wgate.output;

  // The shipped configuration sets no host for IT1.
  ProgramRun manager = RunProgram(
      "mapping_manager",
      Cat("--config ", config, " --instance IT1 --listen 0.0.0.0:0"));
  EXPECT_EQ(manager.exit_code, 2) << manager.output;
  EXPECT_NE(manager.output.find("give --advertise HOST or set host of "
                                "[[agate_instance]] IT1"),
            std::string::npos)
      << manager.output;
}

// A process whose metrics address is taken says so and exits 1. It used to
// abort (gRPC asserts when a completion queue with requests queued is
// destroyed): its gRPC server had started first. A Mapping Manager restarted
// by the launcher was given up that way.
TEST(Addresses, AMetricsPortInUseIsAnErrorNotACrash) {
  int taken = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(taken, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(taken, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(taken, 1), 0);
  ASSERT_EQ(::getsockname(taken, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string metrics = Cat("127.0.0.1:", ntohs(addr.sin_port));
  // A copy: the agate opens its access log under the configuration's log_dir.
  const std::string config =
      Cat(std::filesystem::temp_directory_path().string(), "/its-metrics-port-",
          getpid());
  std::filesystem::remove_all(config);
  std::filesystem::copy(Cat(ITS_SOURCE_DIR, "/deploy/config"), config,
                        std::filesystem::copy_options::recursive);
  const std::vector<std::pair<std::string, std::string>> runs = {
      {"agate", Cat("--config ", config,
                    " --instance IT1 --process 0 --mapping-manager 127.0.0.1:1 "
                    "--listen 127.0.0.1:0 --metrics-listen ",
                    metrics)},
      {"r3_stub", Cat("--config ", config,
                      " --listen 127.0.0.1:0 --metrics-listen ", metrics)},
      {"mapping_manager", Cat("--config ", config,
                              " --instance IT1 --listen 127.0.0.1:0 "
                              "--metrics-listen ",
                              metrics)},
  };
  for (const auto& [program, args] : runs) {
    ProgramRun run = RunProgram(program, args);
    EXPECT_EQ(run.exit_code, 1) << program << ": " << run.output;
    EXPECT_NE(run.output.find(Cat("cannot listen on ", metrics)),
              std::string::npos)
        << program << ": " << run.output;
  }
  ::close(taken);
  std::filesystem::remove_all(config);
}

}  // namespace
}  // namespace its::testing
