#include "common/cluster_config.h"

#include <gtest/gtest.h>

#include "common/strings.h"

namespace its {
namespace {

absl::StatusOr<ClusterConfig> Parse(const std::string& text) {
  return ClusterConfig::Parse(text, "/cfg", "/cfg/cluster.toml");
}

constexpr char kGood[] = R"(
time_scale = 60
routing = "naive"
[wgate]
listen = "127.0.0.1:0"
[r3]
listen = "127.0.0.1:3200"
[[agate_instance]]
name = "IT1"
mapping_manager = "127.0.0.1:3909"
min_agates = 1
max_agates = 3
[[agate_instance]]
name = "IT2"
mapping_manager = "127.0.0.1:3919"
overload_weight = 0.5
)";

TEST(ClusterConfig, ParsesAllKeysWithDefaults) {
  auto c = Parse(kGood);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->time_scale, 60);
  EXPECT_EQ(c->routing, "naive");
  EXPECT_EQ(c->wgate_listen, "127.0.0.1:0");
  ASSERT_EQ(c->instances.size(), 2u);
  EXPECT_EQ(c->instances[0].max_agates, 3);
  EXPECT_EQ(c->instances[0].max_sessions, 1000);
  EXPECT_EQ(c->instances[1].min_agates, 2);
  EXPECT_DOUBLE_EQ(c->instances[1].overload_weight, 0.5);
  EXPECT_NE(c->FindInstance("IT2"), nullptr);
}

TEST(ClusterConfig, ErrorsNameFileLineAndKey) {
  auto unknown = Parse(
      "time_scale = 1\nbogus = "
      "2\n[[agate_instance]]\nname=\"IT1\"\nmapping_manager=\"a:1\"\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(),
            "/cfg/cluster.toml:2: bogus: unknown key");

  auto type = Parse(
      "[[agate_instance]]\nname = \"IT1\"\nmapping_manager = "
      "\"a:1\"\nmax_agates = \"four\"\n");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.status().message(),
            "/cfg/cluster.toml:4: agate_instance[0].max_agates: expected a "
            "whole number");

  auto range = Parse(
      "[[agate_instance]]\nname = \"IT1\"\nmapping_manager = "
      "\"a:1\"\nmin_agates = 5\nmax_agates = 2\n");
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find(":4: agate_instance[0].min_agates"),
            std::string::npos);

  auto syntax = Parse("time_scale = = 1\n");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.status().message().find("/cfg/cluster.toml:1: time_scale: "),
            std::string::npos)
      << syntax.status();
  // A syntax error names the setting as the other errors do.
  auto in_table = Parse(
      "[[agate_instance]]\nname = \"IT1\"\n[[agate_instance]]\nname = "
      "\"IT2\"\nmax_sessions = 10x\n");
  ASSERT_FALSE(in_table.ok());
  EXPECT_NE(
      in_table.status().message().find(":5: agate_instance[1].max_sessions: "),
      std::string::npos)
      << in_table.status();

  auto none = Parse("time_scale = 1\n");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("agate_instance"), std::string::npos);

  auto dup = Parse(
      "[[agate_instance]]\nname=\"IT1\"\nmapping_manager=\"a:1\"\n[[agate_"
      "instance]]\nname=\"IT1\"\nmapping_manager=\"a:2\"\n");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate"), std::string::npos);

  auto routing = Parse(
      "routing = "
      "\"random\"\n[[agate_instance]]\nname=\"IT1\"\nmapping_manager=\"a:"
      "1\"\n");
  ASSERT_FALSE(routing.ok());
  EXPECT_EQ(routing.status().message(),
            "/cfg/cluster.toml:1: routing: must be \"sticky\" or \"naive\"");
}

// Whole numbers that do not fit their setting, and HTTP limits that would
// break the wgate, are refused by name instead of wrapping around.
TEST(ClusterConfig, NumbersOutOfTheirRangeAreRefusedNotWrapped) {
  const std::string instance =
      "[[agate_instance]]\nname = \"IT1\"\nmapping_manager = \"a:1\"\n";
  auto wrapped = Parse(instance + "max_sessions = 4294967297\n");
  ASSERT_FALSE(wrapped.ok());
  EXPECT_EQ(wrapped.status().message(),
            "/cfg/cluster.toml:4: agate_instance[0].max_sessions: must be "
            "between 1 and 16000000");
  for (auto [line, why] : {
           std::pair{"max_body = -1",
                     "max_body: must be between 0 and 4194304"},
           std::pair{"max_body = 100000000", "max_body: must be between 0"},
           std::pair{"max_connections = 0",
                     "max_connections: must be between 1 and 1000000"},
           std::pair{"header_timeout_s = -5", "header_timeout_s: must be > 0"},
           std::pair{"idle_timeout_s = 0", "idle_timeout_s: must be > 0"},
           std::pair{"max_params = 0", "max_params: must be between 1"},
           std::pair{"max_headers = 18446744073709551617",
                     "max_headers: "},  // beyond int64: toml++'s own error
       }) {
    auto c = Parse(Cat("[wgate]\n", line, "\n", instance));
    ASSERT_FALSE(c.ok()) << line;
    EXPECT_NE(c.status().message().find(Cat("cluster.toml:2: wgate.", why)),
              std::string::npos)
        << c.status().message();
  }
}

TEST(ClusterConfig, FaultSettingsHaveDefaultsAndNameTheirErrors) {
  const std::string instance =
      "[[agate_instance]]\nname=\"IT1\"\nmapping_manager=\"a:1\"\n";
  auto c = Parse(instance);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->wgate_step_timeout_s, 30);
  EXPECT_EQ(c->agate_r3_timeout_s, 10);
  EXPECT_EQ(c->agate_orphan_exit_s, 120);
  EXPECT_EQ(c->agate_r3_pool_keep_s, 0) << "no connection pool";
  EXPECT_EQ(c->instances[0].unresponsive_restart_s, 60);
  EXPECT_EQ(c->supervisor.max_restarts, 5);
  EXPECT_EQ(c->supervisor.listen, "127.0.0.1:3899");

  auto set = Parse(
      "[wgate]\nstep_timeout_s = 5\n[agate]\nr3_timeout_s = 2\norphan_exit_s = "
      "0\nr3_pool_keep_s = 2.5\n"
      "[supervisor]\nmax_restarts = 2\nwindow_s = 30\nlisten = "
      "\"127.0.0.1:0\"\n" +
      instance + "unresponsive_restart_s = 0\n");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->wgate_step_timeout_s, 5);
  EXPECT_EQ(set->agate_r3_timeout_s, 2);
  EXPECT_EQ(set->agate_orphan_exit_s, 0);
  EXPECT_EQ(set->agate_r3_pool_keep_s, 2.5);
  EXPECT_EQ(set->supervisor.max_restarts, 2);
  EXPECT_EQ(set->instances[0].unresponsive_restart_s, 0);

  auto negative = Parse("[wgate]\nstep_timeout_s = -1\n" + instance);
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().message(),
            "/cfg/cluster.toml:2: wgate.step_timeout_s: must be > 0 and <= "
            "3600 seconds");

  auto order = Parse(
      "[wgate]\nstep_timeout_s = 5\n[agate]\nr3_timeout_s = 5\n" + instance);
  ASSERT_FALSE(order.ok());
  EXPECT_EQ(order.status().message(),
            "/cfg/cluster.toml:4: agate.r3_timeout_s: must be below [wgate] "
            "step_timeout_s (5)");

  auto restarts = Parse("[supervisor]\nmax_restarts = 0\n" + instance);
  ASSERT_FALSE(restarts.ok());
  EXPECT_EQ(restarts.status().message(),
            "/cfg/cluster.toml:2: supervisor.max_restarts: must be between 1 "
            "and 1000");

  auto unknown = Parse("[supervisor]\nrestarts = 1\n" + instance);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(),
            "/cfg/cluster.toml:2: supervisor.restarts: unknown key");

  auto kind = Parse(instance + "unresponsive_restart_s = \"never\"\n");
  ASSERT_FALSE(kind.ok());
  EXPECT_EQ(kind.status().message(),
            "/cfg/cluster.toml:4: agate_instance[0].unresponsive_restart_s: "
            "expected a number");
}

TEST(ClusterConfig, ExitUrlHosts) {
  auto d = Parse(
      "exit_url_hosts = "
      "[\"portal.example.com\"]\n[[agate_instance]]\nname=\"IT1\"\nmapping_"
      "manager=\"a:1\"\n");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->exit_url_hosts, std::vector<std::string>{"portal.example.com"});
  auto bad = Parse(
      "exit_url_hosts = "
      "[\"http://x/"
      "\"]\n[[agate_instance]]\nname=\"IT1\"\nmapping_manager=\"a:1\"\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(":1: exit_url_hosts"),
            std::string::npos);
}

TEST(ClusterConfig, SchedulingSwitchesHaveTheirDefaultsAndTakeOnlyBooleans) {
  constexpr char kInstance[] =
      "[[agate_instance]]\nname=\"IT1\"\nmapping_manager=\"a:1\"\n";
  auto defaults = Parse(kInstance);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_TRUE(defaults->sched_batch);
  EXPECT_FALSE(defaults->wgate_one_cpu);
  auto flipped =
      Parse(std::string("sched_batch = false\n[wgate]\none_cpu = true\n") +
            kInstance);
  ASSERT_TRUE(flipped.ok()) << flipped.status();
  EXPECT_FALSE(flipped->sched_batch);
  EXPECT_TRUE(flipped->wgate_one_cpu);
  auto bad = Parse(std::string("[wgate]\none_cpu = \"yes\"\n") + kInstance);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "/cfg/cluster.toml:2: wgate.one_cpu: expected true or false");
}

TEST(ClusterConfig, SimEpochIsUnixSecondsOrNone) {
  constexpr char kInstance[] =
      "[[agate_instance]]\nname=\"IT1\"\nmapping_manager=\"a:1\"\n";
  EXPECT_EQ(Parse(kInstance)->sim_epoch, 0);
  auto set = Parse(std::string("sim_epoch = 1790000000\n") + kInstance);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->sim_epoch, 1790000000);
  auto bad = Parse(std::string("sim_epoch = -5\n") + kInstance);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "/cfg/cluster.toml:1: sim_epoch: must be Unix seconds (0 = each "
            "process's own start)");
  EXPECT_FALSE(Parse(std::string("sim_epoch = 1.5\n") + kInstance).ok());
}

TEST(ClusterConfig, AddressesDefaultToLoopbackAndSplitListenFromAdvertise) {
  auto d = Parse(kGood);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->r3_advertise, "127.0.0.1:3200") << "default: [r3] listen";
  EXPECT_EQ(d->instances[0].host, "127.0.0.1");
  EXPECT_EQ(d->instances[0].listen_host, "127.0.0.1") << "default: host";
  EXPECT_FALSE(d->instances[0].host_configured);

  auto hosts = Parse(R"([r3]
listen = "0.0.0.0:3200"
advertise = "10.213.77.5:3200"
[[agate_instance]]
name = "IT1"
mapping_manager = "10.213.77.3:3909"
host = "10.213.77.3"
listen_host = "0.0.0.0"
[[agate_instance]]
name = "IT2"
mapping_manager = "it2.example:3909"
host = "it2.example"
)");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->r3_listen, "0.0.0.0:3200");
  EXPECT_EQ(hosts->r3_advertise, "10.213.77.5:3200");
  EXPECT_EQ(hosts->instances[0].host, "10.213.77.3");
  EXPECT_TRUE(hosts->instances[0].host_configured);
  EXPECT_EQ(hosts->instances[0].listen_host, "0.0.0.0");
  EXPECT_EQ(hosts->instances[1].listen_host, "it2.example");
}

TEST(ClusterConfig, WildcardListenWithoutAdvertisedAddressNamesTheKeyToSet) {
  auto r3 = Parse(
      "[r3]\nlisten = \"0.0.0.0:3200\"\n[[agate_instance]]\nname=\"IT1\"\n"
      "mapping_manager=\"a:1\"\n");
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.status().message(),
            "/cfg/cluster.toml:2: r3.listen: \"0.0.0.0\" listens on every "
            "address: set r3.advertise to the host:port the agates dial");

  auto r3_wild = Parse(
      "[r3]\nlisten = \"0.0.0.0:3200\"\nadvertise = \"0.0.0.0:3200\"\n"
      "[[agate_instance]]\nname=\"IT1\"\nmapping_manager=\"a:1\"\n");
  ASSERT_FALSE(r3_wild.ok());
  EXPECT_NE(r3_wild.status().message().find(":3: r3.advertise: \"0.0.0.0\" "
                                            "is no address to dial"),
            std::string::npos)
      << r3_wild.status();

  auto r3_port = Parse(
      "[r3]\nadvertise = \"r3host\"\n[[agate_instance]]\nname=\"IT1\"\n"
      "mapping_manager=\"a:1\"\n");
  ASSERT_FALSE(r3_port.ok());
  EXPECT_EQ(r3_port.status().message(),
            "/cfg/cluster.toml:2: r3.advertise: expected host:port (the "
            "address agates dial)");

  auto listen = Parse(
      "[[agate_instance]]\nname=\"IT1\"\nmapping_manager=\"a:1\"\n"
      "listen_host = \"0.0.0.0\"\n");
  ASSERT_FALSE(listen.ok());
  EXPECT_EQ(listen.status().message(),
            "/cfg/cluster.toml:4: agate_instance[0].listen_host: \"0.0.0.0\" "
            "listens on every address: set agate_instance[0].host to the "
            "address others reach this instance by");

  auto host = Parse(
      "[[agate_instance]]\nname=\"IT1\"\nmapping_manager=\"a:1\"\n"
      "host = \"0.0.0.0\"\n");
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.status().message(),
            "/cfg/cluster.toml:4: agate_instance[0].host: \"0.0.0.0\" is no "
            "address others can reach: set host to the instance's address "
            "and listen_host = \"0.0.0.0\"");

  auto manager = Parse(
      "[[agate_instance]]\nname=\"IT1\"\nmapping_manager=\"0.0.0.0:3909\"\n");
  ASSERT_FALSE(manager.ok());
  EXPECT_NE(manager.status().message().find(
                ":3: agate_instance[0].mapping_manager: \"0.0.0.0\" is no "
                "address to dial"),
            std::string::npos)
      << manager.status();

  for (const char* bad : {"a b", "x:y", "", "host/1",
                          "a-very-long-host-name-that-is-longer-than-sixty-"
                          "four-characters-in-all"}) {
    auto h =
        Parse(std::string(
                  "[[agate_instance]]\nname=\"IT1\"\nmapping_manager=\"a:1\"\n"
                  "host = \"") +
              bad + "\"\n");
    ASSERT_FALSE(h.ok()) << bad;
    EXPECT_NE(h.status().message().find(":4: agate_instance[0].host: must be "
                                        "a host name or IPv4 address"),
              std::string::npos)
        << h.status();
  }
}

TEST(HostPort, WildcardsAndAdvertisableHosts) {
  EXPECT_TRUE(IsWildcardHost("0.0.0.0"));
  EXPECT_TRUE(IsWildcardHost("[::]"));
  EXPECT_FALSE(IsWildcardHost("127.0.0.1"));
  EXPECT_TRUE(IsAdvertisableHost("10.213.77.3"));
  EXPECT_TRUE(IsAdvertisableHost("it1-mm.its.svc"));
  EXPECT_FALSE(IsAdvertisableHost("0.0.0.0"));
  EXPECT_FALSE(IsAdvertisableHost("::1"));
  EXPECT_EQ(WithHost("0.0.0.0:3909", "10.0.0.2"), "10.0.0.2:3909");
  EXPECT_EQ(DialableAddress("0.0.0.0:3908", "10.0.0.2"), "10.0.0.2:3908");
  EXPECT_EQ(DialableAddress("[::]:3908", "h"), "h:3908");
  EXPECT_EQ(DialableAddress("127.0.0.1:3908", "10.0.0.2"), "127.0.0.1:3908")
      << "bound to one address of its own: dialled there";
}

TEST(HostPort, Parses) {
  std::string h;
  int p;
  ASSERT_TRUE(ParseHostPort("127.0.0.1:0", &h, &p).ok());
  EXPECT_EQ(h, "127.0.0.1");
  EXPECT_EQ(p, 0);
  EXPECT_FALSE(ParseHostPort("nocolon", &h, &p).ok());
  EXPECT_FALSE(ParseHostPort("h:70000", &h, &p).ok());
}

}  // namespace
}  // namespace its
