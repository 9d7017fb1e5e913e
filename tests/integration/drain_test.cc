// itsadm drain: a drained process or instance gets no new session, serves
// its own until they end, and says when it is empty; undrain takes it back.
#include "clients/admin.h"
#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

TEST(Drain, AProcessAndAnInstanceTakeNoNewSessionsButServeTheirOwn) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  auto config = ClusterConfig::Load(c->config_dir());
  ASSERT_TRUE(config.ok());
  // A session somewhere: its owner gets drained.
  Browser user(c->url());
  auto r = user.Get(StartUrl("webgui", "LOAD00201", "&~transaction=FB03"));
  ASSERT_EQ(r.status, 200);
  ASSERT_NE(r.body.find("its-title"), std::string::npos) << r.body;
  AgateId owner = ServedBy(r);
  ASSERT_FALSE(owner.instance.empty());
  std::string target = Cat(owner.instance, "/", owner.process);
  // The drain counts what the owner's load reports (every 250 ms) said.
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& a : Admin(*c, "agates"))
      if (a["pid"] == owner.pid) return a["sessions"] == 1;
    return false;
  })) << Admin(*c, "agates").dump();
  auto said = admin::Drain(*config, target, true);
  ASSERT_TRUE(said.ok()) << said.status().message();
  EXPECT_EQ(*said,
            Cat(target, " (pid ", owner.pid, ") draining: 1 session left"));
  // New sessions avoid it, in its instance too.
  for (int i = 0; i < 8; ++i) {
    Browser other(c->url());
    auto o = other.Get(StartUrl("webgui", Cat("LOAD0021", i)));
    ASSERT_EQ(o.status, 200) << o.body;
    AgateId got = ServedBy(o);
    EXPECT_FALSE(got.instance == owner.instance && got.process == owner.process)
        << "a new session went to the draining process " << target;
    other.Get(Step("webgui", "~okcode=/nex"));
  }
  // Its own session goes on.
  r = user.Get(Step("webgui", "~okcode=/00"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(ServedBy(r).pid, owner.pid);
  // Waiting for the drain: the session ends, and it says so.
  user.Get(Step("webgui", "~okcode=/nex"));
  said = admin::Drain(*config, target, true, 10);
  ASSERT_TRUE(said.ok()) << said.status().message();
  EXPECT_EQ(*said,
            Cat(target, " (pid ", owner.pid, ") drained: no session left"));
  ASSERT_TRUE(admin::Drain(*config, target, false).ok());

  // A whole instance: new sessions all go to the other one, and its
  // Mapping Manager reports NOT_SERVING meanwhile (itsadm agates shows it).
  // The sessions just ended are reported within 250 ms: wait for them.
  said = admin::Drain(*config, "IT1", true, 10);
  ASSERT_TRUE(said.ok()) << said.status().message();
  EXPECT_EQ(*said, "instance IT1 drained: no session left");
  EXPECT_TRUE(WaitFor([&] {
    for (const auto& a : Admin(*c, "agates"))
      if (a["instance"] == "IT1" && a["draining"] != true) return false;
    return true;
  })) << Admin(*c, "agates").dump();
  for (int i = 0; i < 8; ++i) {
    Browser other(c->url());
    auto o = other.Get(StartUrl("webgui", Cat("LOAD0022", i)));
    ASSERT_EQ(o.status, 200) << o.body;
    EXPECT_EQ(ServedBy(o).instance, "IT2");
    other.Get(Step("webgui", "~okcode=/nex"));
  }
  said = admin::Drain(*config, "IT1", false);
  ASSERT_TRUE(said.ok());
  EXPECT_EQ(*said, "instance IT1 takes new sessions again");
  // Bad targets are named.
  EXPECT_EQ(admin::Drain(*config, "IT9", true).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin::Drain(*config, "IT1/x", true).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin::Drain(*config, "IT1/99", true).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace its::testing
