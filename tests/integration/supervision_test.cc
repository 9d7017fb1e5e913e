// Supervision and degraded operation: the launcher restarts what
// dies and gives up on what keeps dying; a stopped Mapping Manager leaves
// /healthz up and its agates serving; SIGTERM stops a cluster within 5 s even
// with processes stopped; itsadm fault from the command line; a timeout
// while steps queue leaves no R/3 session behind.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include "clients/cluster_internal.h"
#include "common/process.h"
#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

// True while `pid` runs (a zombie that nobody reaped does not count).
bool Alive(pid_t pid) { return kill(pid, 0) == 0 && !HasEnded(pid); }

// The PID of agate `instance`/`process` once it is up, or 0 after 5 s.
int UpAgatePid(const launcher::Cluster& c, const std::string& instance,
               int process) {
  int pid = 0;
  WaitFor([&] {
    for (const auto& p : Admin(c, "agates"))
      if (p["instance"] == instance && p["process"] == process &&
          p["state"] == "up")
        pid = p.value("pid", 0);
    return pid > 0;
  });
  return pid;
}

TEST(Supervision, ACrashedProcessIsRestartedOnItsAddressAndSessionsGoOn) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  Browser b(c->url());
  ASSERT_EQ(b.Get(StartUrl("webgui", "DEMO", "&~transaction=FB03")).status,
            200);
  for (const std::string name :
       {"wgate", "mapping_manager IT1", "mapping_manager IT2"}) {
    auto before = c->Find(name);
    ASSERT_TRUE(before.has_value());
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(kill(before->pid, SIGKILL), 0);
    ASSERT_TRUE(c->WaitRunning(name, before->pid, 5000)) << name;
    EXPECT_LT(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count(),
        RecoveryLimitSeconds())
        << name;
    auto after = c->Find(name);
    EXPECT_EQ(after->address, before->address) << name;
    EXPECT_EQ(after->restarts, 1) << name;
    // The session lives on: same process, steps 1,4,5.
    HttpResult r;
    ASSERT_TRUE(WaitFor(
        [&] {
          r = b.Get(Step("webgui", "~okcode=/00&RF05L-BELNR=4711"));
          return r.status == 200;
        },
        2000))
        << name << ": " << r.status << " " << r.body;
    EXPECT_EQ(r.Header("x-its-steps"), "1,4,5");
  }
  // The restarted Mapping Managers adopted their agates: no duplicates.
  auto agates = Admin(*c, "agates");
  EXPECT_EQ(agates.size(), 4u) << agates.dump();
}

// A connection made while a process is down could take its port (the
// kernel hands out the ports of port-0 listeners for outgoing connections
// too), and the restarted process could not listen there: a Mapping Manager
// was given up that way once. The launcher holds the ports it handed out.
TEST(Supervision, NothingTakesTheAddressOfAProcessWhileItRestarts) {
  auto c = StartCluster([](toml::table& t) {
    t.insert_or_assign("supervisor", toml::table{{"first_delay_s", 1.5}});
  });
  ASSERT_NE(c, nullptr);
  auto before = c->Find("mapping_manager IT2");
  ASSERT_TRUE(before.has_value());
  std::string wgate_host;
  int wgate_port = 0;
  ASSERT_TRUE(ParseHostPort(c->url().substr(c->url().find("//") + 2),
                            &wgate_host, &wgate_port)
                  .ok());
  ASSERT_EQ(kill(before->pid, SIGKILL), 0);
  // Once its listeners are gone, while it waits for its restart: outgoing
  // connections from its ports (what the kernel may pick as a source port).
  // (The launcher's word: it sees the end once every thread has gone, the
  // sockets with them; /proc shows the first thread a zombie before that.)
  ASSERT_TRUE(
      WaitFor([&] { return c->Find("mapping_manager IT2")->pid == -1; }, 1000));
  std::vector<int> taken;
  for (const std::string& address : {before->address, before->metrics}) {
    std::string host;
    int port = 0;
    ASSERT_TRUE(ParseHostPort(address, &host, &port).ok()) << address;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, host.c_str(), &from.sin_addr);
    sockaddr_in to = from;
    to.sin_port = htons(static_cast<uint16_t>(wgate_port));
    taken.push_back(fd);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0 &&
        ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
      ADD_FAILURE() << "a connection took " << address;
    }
  }
  EXPECT_TRUE(c->WaitRunning("mapping_manager IT2", before->pid, 6000));
  auto after = c->Find("mapping_manager IT2");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->address, before->address);
  EXPECT_EQ(after->metrics, before->metrics);
  EXPECT_FALSE(after->given_up);
  for (int fd : taken) ::close(fd);
}

TEST(Supervision, AProcessThatKeepsCrashingIsGivenUp) {
  auto c = StartCluster([](toml::table& t) {
    t.insert_or_assign("supervisor",
                       toml::table{{"max_restarts", 1}, {"window_s", 60.0}});
  });
  ASSERT_NE(c, nullptr);
  // A Mapping Manager: the rest of the cluster serves on.
  for (int i = 0; i < 2; ++i) {
    auto mm = c->Find("mapping_manager IT2");
    ASSERT_GT(mm->pid, 0);
    kill(mm->pid, SIGKILL);
    if (i == 0) {
      ASSERT_TRUE(c->WaitRunning("mapping_manager IT2", mm->pid, 5000));
    }
  }
  ASSERT_TRUE(
      WaitFor([&] { return c->Find("mapping_manager IT2")->given_up; }));
  EXPECT_EQ(c->failure(), "");
  auto list = c->ListProcesses();
  bool seen = false;
  for (const auto& p : list.processes()) {
    if (p.name() == "mapping_manager IT2") {
      EXPECT_EQ(p.state(), "given_up");
      seen = true;
    }
  }
  EXPECT_TRUE(seen);
  Browser b(c->url());
  EXPECT_EQ(b.Get(StartUrl("webgui", "DEMO")).status, 200);
  // The R/3 stub: the cluster cannot serve without it.
  for (int i = 0; i < 2; ++i) {
    auto r3 = c->Find("r3_stub");
    kill(r3->pid, SIGKILL);
    if (i == 0) {
      ASSERT_TRUE(c->WaitRunning("r3_stub", r3->pid, 5000));
    }
  }
  ASSERT_TRUE(WaitFor([&] { return !c->failure().empty(); }));
  EXPECT_NE(c->failure().find("r3_stub"), std::string::npos) << c->failure();
}

TEST(Supervision, AStoppedMappingManagerLeavesHealthzUpAndItsAgatesServing) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  // A session on IT2 (new sessions go by free capacity: try until one lands).
  std::unique_ptr<Browser> on_it2;
  ASSERT_TRUE(WaitFor([&] {
    auto b = std::make_unique<Browser>(c->url());
    auto r = b->Get(StartUrl("webgui", "DEMO", "&~transaction=FB03"));
    if (ServedBy(r).instance != "IT2") return false;
    on_it2 = std::move(b);
    return true;
  }));
  pid_t mm = c->Find("mapping_manager IT2")->pid;
  ASSERT_EQ(kill(mm, SIGSTOP), 0);
  // itsadm processes says so (not "running": a stop that is no fault of
  // the launcher's is "stopped").
  auto state_of_mm = [&] {
    const proto::ClusterProcesses all = c->ListProcesses();
    for (const auto& p : all.processes())
      if (p.name() == "mapping_manager IT2") return p.state();
    return std::string("absent");
  };
  EXPECT_TRUE(WaitFor([&] { return state_of_mm() == "stopped"; }, 2000))
      << state_of_mm();
  HttpResult health;
  EXPECT_TRUE(WaitFor(
      [&] {
        health = HttpGet(c->url(), "/healthz").value_or(HttpResult());
        return health.body.find("IT2: Mapping Manager unreachable") !=
               std::string::npos;
      },
      6000))
      << health.body;
  EXPECT_EQ(health.status, 200) << health.body;
  // Its agates keep serving their sessions; new sessions go to IT1.
  EXPECT_EQ(on_it2->Get(Step("webgui", "~okcode=/00&RF05L-BELNR=1")).status,
            200);
  for (int i = 0; i < 6; ++i) {
    Browser b(c->url());
    auto r = b.Get(StartUrl("webgui", "DEMO2"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(ServedBy(r).instance, "IT1");
  }
  kill(mm, SIGCONT);
  EXPECT_TRUE(WaitFor(
      [&] {
        auto h = HttpGet(c->url(), "/healthz");
        return h.ok() && h->body == "ok\n";
      },
      5000));
}

TEST(Supervision, AHungAgateIsMarkedUnresponsiveAndGetsNoNewSessions) {
  auto c = StartCluster([](toml::table& t) {
    for (auto& inst : *t["agate_instance"].as_array()) {
      inst.as_table()->insert_or_assign("unresponsive_restart_s",
                                        0.0);  // never
    }
    t["wgate"].as_table()->insert_or_assign("step_timeout_s", 4.0);
    if (!t.contains("agate")) t.insert("agate", toml::table{});
    t["agate"].as_table()->insert_or_assign("r3_timeout_s", 2.0);
  });
  ASSERT_NE(c, nullptr);
  Browser b(c->url());
  auto first = b.Get(StartUrl("webgui", "DEMO", "&~transaction=FB03"));
  AgateId hung = ServedBy(first);
  ASSERT_EQ(kill(hung.pid, SIGSTOP), 0);
  // Its session's step waits out the step timeout: nobody answered, so no
  // process is named as having answered.
  auto timed_out = b.Get(Step("webgui", "~okcode=/00&RF05L-BELNR=1"));
  EXPECT_EQ(timed_out.status, 504) << timed_out.body;
  EXPECT_EQ(timed_out.Header("x-its-steps"), "1");
  EXPECT_FALSE(timed_out.Header("x-its-agate").has_value())
      << *timed_out.Header("x-its-agate");
  // The listing of sessions says whose it could not list.
  auto listed =
      RunProgram("itsadm", Cat("--config ", c->config_dir(), " sessions"));
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(
      listed.output.find(Cat("AGate process ", hung.instance, "/", hung.process,
                             " (pid ", hung.pid, ") did not answer")),
      std::string::npos)
      << listed.output;
  EXPECT_TRUE(WaitFor(
      [&] {
        for (const auto& p : Admin(*c, "agates"))
          if (p["pid"] == hung.pid) return p["state"] == "unresponsive";
        return false;
      },
      6000));
  for (int i = 0; i < 6; ++i) {
    Browser n(c->url());
    auto r = n.Get(StartUrl("webgui", "DEMO2"));
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(ServedBy(r).pid, hung.pid);
  }
  auto health = HttpGet(c->url(), "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  EXPECT_NE(health->body.find(Cat(hung.instance, "/", hung.process,
                                  ": AGate process unresponsive")),
            std::string::npos)
      << health->body;
  kill(hung.pid, SIGCONT);
  // Its session is still there once it runs again.
  EXPECT_EQ(b.Get(Step("webgui", "~okcode=/00&RF05L-BELNR=1")).status, 200);
}

// An agate hung while its Mapping Manager crashed and restarted is not
// there to register with the new one; when it runs again it must register
// (an address, sessions that route), not just report load.
TEST(Supervision, AnAgateHungThroughItsManagersRestartRegistersWhenItResumes) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  Browser b(c->url());
  auto first = b.Get(StartUrl("webgui", "DEMO", "&~transaction=FB03"));
  ASSERT_EQ(first.status, 200);
  AgateId hung = ServedBy(first);
  ASSERT_GT(hung.pid, 0);
  ASSERT_EQ(kill(hung.pid, SIGSTOP), 0);
  const std::string mm_name = Cat("mapping_manager ", hung.instance);
  auto mm = c->Find(mm_name);
  ASSERT_TRUE(mm.has_value());
  ASSERT_EQ(kill(mm->pid, SIGKILL), 0);
  ASSERT_TRUE(c->WaitRunning(mm_name, mm->pid, 5000));
  auto row = [&]() -> nlohmann::json {
    for (const auto& p : Admin(*c, "agates"))
      if (p["pid"] == hung.pid) return p;
    return nlohmann::json();
  };
  // The new manager adopted it and gave up waiting for its registration.
  EXPECT_TRUE(
      WaitFor([&] { return row().value("state", "") == "unresponsive"; }, 6000))
      << row().dump();
  ASSERT_EQ(kill(hung.pid, SIGCONT), 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        auto r = row();
        return r.value("state", "") == "up" && r.value("address", "") != "";
      },
      5000))
      << row().dump();
  HttpResult step;
  EXPECT_TRUE(WaitFor(
      [&] {
        step = b.Get(Step("webgui", "~okcode=/00&RF05L-BELNR=4711"));
        return step.status == 200;
      },
      3000))
      << step.status << " " << step.body;
}

// A process that hangs before it registers does not hold its slot as
// "starting" for ever: it is unresponsive, then killed and started again.
TEST(Supervision, AnAgateThatHangsBeforeRegisteringIsRestarted) {
  // Programs from a directory whose "agate" hangs as IT1's process 1 in its
  // first incarnation (a mapping_manager starts the agate beside itself).
  const std::string real = ClusterBinDir();
  const std::string bin = Cat(std::filesystem::temp_directory_path().string(),
                              "/its-hang-bin-", getpid());
  std::filesystem::remove_all(bin);
  std::filesystem::create_directories(bin);
  for (const char* p : {"r3_stub", "wgate"})
    std::filesystem::create_symlink(Cat(real, "/", p), Cat(bin, "/", p));
  std::filesystem::copy_file(Cat(real, "/mapping_manager"),
                             Cat(bin, "/mapping_manager"));
  {
    std::ofstream script(Cat(bin, "/agate"));
    script << "#!/bin/sh\n"
              "case \" $* \" in *' --instance IT1 --process 1 --incarnation 1 "
              "'*) exec sleep 120 ;; esac\n"
           << "exec " << real << "/agate \"$@\"\n";
  }
  std::filesystem::permissions(Cat(bin, "/agate"),
                               std::filesystem::perms::owner_all);
  auto c = StartCluster(
      [](toml::table& t) {
        t["agate_instance"][0].as_table()->insert_or_assign(
            "unresponsive_restart_s", 1.0);
      },
      {}, bin);
  ASSERT_NE(c, nullptr);
  auto slot = [&]() -> nlohmann::json {
    for (const auto& p : Admin(*c, "agates"))
      if (p["instance"] == "IT1" && p["process"] == 1) return p;
    return nlohmann::json::object();
  };
  EXPECT_TRUE(WaitFor(
      [&] {
        auto s = slot();
        return s.value("state", "") == "up" && s.value("incarnation", 0) == 2;
      },
      20000))  // 10 s to register, 1 s more, a restart
      << slot().dump();
  std::filesystem::remove_all(bin);
}

// Bytes received and not yet read on the established TCP connections to
// local port `port` (/proc/net/tcp and tcp6: gRPC's sockets are IPv6 ones
// with mapped IPv4 addresses): what a stopped process has waiting.
size_t BytesWaiting(int port) {
  size_t total = 0;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, state, queues;
      f >> sl >> local >> remote >> state >> queues;
      auto colon = local.find(':');
      auto qcolon = queues.find(':');
      if (colon == std::string::npos || qcolon == std::string::npos ||
          state != "01" ||
          std::stoi(local.substr(colon + 1), nullptr, 16) != port) {
        continue;
      }
      total += std::stoul(queues.substr(qcolon + 1), nullptr, 16);
    }
  }
  return total;
}

// A logon whose wgate died while the agate worked on it: nobody can ever
// have its session ID, so its R/3 session and locks must not wait for
// ~timeout. Once with the ID in a cookie, once in the URL (~cookies=0).
TEST(Supervision, ALogonWhoseWgateDiedMeanwhileLeavesNoR3SessionBehind) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  auto access_log = [&] {
    std::ifstream in(Cat(c->config_dir(), "/logs/IT1/access.log"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::vector<std::tuple<std::string, std::string, std::string>> runs = {
      {"DEMO", "LOAD00777", "&~transaction=*PA30%20RP50G-PERNR=8888"},
      {"DEMO2", "LOAD00778",
       "&~cookies=0&~transaction=*PA30%20RP50G-PERNR=8889"}};
  for (const auto& run : runs) {
    // Named copies: clang 14 cannot capture structured bindings.
    const std::string first_user = std::get<0>(run), user = std::get<1>(run),
                      extra = std::get<2>(run);
    SCOPED_TRACE(user);
    nlohmann::json agate;
    for (const auto& p : Admin(*c, "agates"))
      if (p["instance"] == "IT1" && p["process"] == 1) agate = p;
    const int pid = agate.value("pid", 0);
    ASSERT_GT(pid, 0);
    int port = 0;
    ASSERT_TRUE(ParseInt(Split(agate.value("address", ""), ':').back(), &port));
    // The wgate's stream to it is open, so the start reaches its socket.
    Browser first(c->url());
    ASSERT_EQ(first.Get(StartUrl("webgui", first_user, "&~agate_routing=IT1:1"))
                  .status,
              200);
    ASSERT_TRUE(WaitFor([&] { return BytesWaiting(port) == 0; }, 3000));
    ASSERT_EQ(kill(pid, SIGSTOP), 0);
    std::thread logon([url = c->url(), user, extra] {
      HttpClient http(url);
      (void)http.Send("GET",
                      StartUrl("ess", user, "&~agate_routing=IT1:1" + extra),
                      {}, "");  // no answer: its wgate dies
    });
    // The start is in the stopped process's socket (more than a window
    // update or a ping: a start carries the logon data).
    EXPECT_TRUE(WaitFor([&] { return BytesWaiting(port) >= 100; }, 5000))
        << BytesWaiting(port);
    auto wgate = c->Find("wgate");
    ASSERT_TRUE(wgate.has_value());
    ASSERT_EQ(kill(wgate->pid, SIGKILL), 0);
    ASSERT_TRUE(c->WaitRunning("wgate", wgate->pid, 5000));
    kill(pid, SIGCONT);
    logon.join();
    // The agate made the session (and R/3 its lock) once it ran again...
    ASSERT_TRUE(WaitFor(
        [&] {
          return access_log().find(Cat("new session of ", user)) !=
                 std::string::npos;
        },
        5000))
        << access_log();
    // ... and, with nobody to give its ID to, logged it off again.
    auto held = [&] {
      int n = 0;
      for (const auto& u : Admin(*c, "sm04")) n += u["user"] == user;
      for (const auto& l : Admin(*c, "sm12")) n += l["user"] == user;
      return n;
    };
    EXPECT_TRUE(WaitFor([&] { return held() == 0; }, 5000))
        << Admin(*c, "sm04").dump() << Admin(*c, "sm12").dump();
  }
}

// A process that ended while no Mapping Manager ran: the manager's next run
// starts the slot's next incarnation, not its first again, so the ended
// process's session IDs name no process ("the process ended", not a
// successor's "no such session").
TEST(Supervision, ASlotRestartedByANewManagerRunGetsTheNextIncarnation) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  auto slot = [&]() -> nlohmann::json {
    for (const auto& p : Admin(*c, "agates"))
      if (p["instance"] == "IT2" && p["process"] == 0) return p;
    return nlohmann::json::object();
  };
  ASSERT_TRUE(WaitFor([&] { return slot().value("state", "") == "up"; }))
      << slot().dump();
  const int pid = slot().value("pid", 0);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(slot().value("incarnation", 0), 1);
  auto mm = c->Find("mapping_manager IT2");
  ASSERT_TRUE(mm.has_value());
  ASSERT_EQ(kill(mm->pid, SIGSTOP), 0);  // it does not see the end
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_EQ(kill(mm->pid, SIGKILL), 0);
  ASSERT_TRUE(c->WaitRunning("mapping_manager IT2", mm->pid, 5000));
  EXPECT_TRUE(WaitFor(
      [&] {
        auto s = slot();
        return s.value("state", "") == "up" && s.value("pid", 0) != pid;
      },
      8000))
      << slot().dump();
  EXPECT_EQ(slot().value("incarnation", 0), 2) << slot().dump();
}

// A link delay is part of the R/3 call: one longer than r3_timeout_s ends
// in the R/3 timeout at r3_timeout_s, as a slow link would, not when the
// delay is over.
TEST(Supervision, AnInjectedR3DelayCountsAgainstTheR3Timeout) {
  auto c = StartCluster([](toml::table& t) {
    t["wgate"].as_table()->insert_or_assign("step_timeout_s", 20.0);
    if (!t.contains("agate")) t.insert("agate", toml::table{});
    t["agate"].as_table()->insert_or_assign("r3_timeout_s", 2.0);
  });
  ASSERT_NE(c, nullptr);
  Browser b(c->url());
  ASSERT_EQ(b.Get(StartUrl("webgui", "DEMO", "&~transaction=FB03")).status,
            200);
  auto delay = RunProgram("itsadm", Cat("--config ", c->config_dir(),
                                        " fault delay agate-\\>r3 30s"));
  ASSERT_EQ(delay.exit_code, 0) << delay.output;
  auto t0 = std::chrono::steady_clock::now();
  auto r = b.Get(Step("webgui", "~okcode=/00&RF05L-BELNR=1"));
  double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_NE(r.body.find("R/3"), std::string::npos) << r.body;
  EXPECT_LT(s, 10.0) << "not at the R/3 timeout (2 s; the delay is 30 s)";
}

// A slow link delays what goes over it; it does not lose it. A logoff the
// link holds back past the R/3 timeout, and the logoff of a logon answered
// after its deadline, still reach R/3: no user session and no lock stays in
// SM04/SM12 for nobody (found by a randomized fault soak: 17 left by one
// `fault delay` 15 % beyond r3_timeout_s).
TEST(Supervision, WhatASlowR3LinkHoldsBackPastTheTimeoutStillArrives) {
  auto c = StartCluster([](toml::table& t) {
    t["wgate"].as_table()->insert_or_assign("step_timeout_s", 20.0);
    if (!t.contains("agate")) t.insert("agate", toml::table{});
    t["agate"].as_table()->insert_or_assign("r3_timeout_s", 1.0);
  });
  ASSERT_NE(c, nullptr);
  auto sessions_of = [&](const std::string& user) {
    int n = 0;
    for (const auto& row : Admin(*c, "sm04")) n += row["user"] == user;
    return n;
  };
  const std::string cfg = Cat("--config ", c->config_dir(), " ");
  // A logoff sent while the link takes 2.5 s: failed at 1-1.25 s, and the
  // link delivers it at 2.5 s all the same.
  Browser user(c->url());
  ASSERT_EQ(user.Get(StartUrl("webgui", "DEMO", "&~transaction=FB03")).status,
            200);
  ASSERT_EQ(sessions_of("DEMO"), 1);
  auto delay = RunProgram("itsadm", cfg + "fault delay agate-\\>r3 2500ms");
  ASSERT_EQ(delay.exit_code, 0) << delay.output;
  user.Get(Step("webgui", "~okcode=/nex"));
  EXPECT_TRUE(WaitFor([&] { return sessions_of("DEMO") == 0; }, 8000))
      << "the held-back logoff never reached R/3";
  // A logon the link delivers after its deadline: R/3 logs the user on,
  // the agate has given up on it and logs it off again over the same slow
  // link. (1.6 s: past the deadline sweep's 1-1.25 s whatever its phase.)
  delay = RunProgram("itsadm", cfg + "fault delay agate-\\>r3 1600ms");
  ASSERT_EQ(delay.exit_code, 0) << delay.output;
  for (int i = 0; i < 3; ++i) {
    Browser late(c->url());
    EXPECT_EQ(
        late.Get(StartUrl("webgui", "DEMO2", "&~transaction=FB03")).status,
        504);
  }
  EXPECT_TRUE(WaitFor([&] { return sessions_of("DEMO2") == 0; }, 8000))
      << "a logon answered late kept its R/3 session";
  ASSERT_EQ(RunProgram("itsadm", cfg + "fault clear").exit_code, 0);
}

// The PIDs of the agates of `instance` that are up.
std::set<int> UpAgatePids(const launcher::Cluster& c,
                          const std::string& instance) {
  std::set<int> pids;
  for (const auto& p : Admin(c, "agates"))
    if (p["instance"] == instance && p["state"] == "up")
      pids.insert(p.value("pid", 0));
  return pids;
}

// Kills every agate of `instance` (its min_agates, 2, are up first) and
// waits until its manager has started new ones.
void ReplaceAgates(const launcher::Cluster& c, const std::string& instance) {
  std::set<int> before;
  ASSERT_TRUE(WaitFor([&] {
    before = UpAgatePids(c, instance);
    return before.size() >= 2;
  }));
  for (int pid : before) ASSERT_EQ(kill(pid, SIGKILL), 0) << instance;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto now = UpAgatePids(c, instance);
        if (now.empty()) return false;
        for (int pid : now)
          if (before.count(pid)) return false;
        return true;
      },
      10000))
      << instance;
}

// Seconds a logon pinned to `instance` takes (its R/3 call crosses the
// agate->r3 link), once the wgate reaches the instance's manager and its
// new agates (an error page until then).
double LogonSecondsOn(const launcher::Cluster& c, const std::string& instance) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    Browser b(c.url());
    auto t0 = std::chrono::steady_clock::now();
    auto r =
        b.Get(StartUrl("webgui", "DEMO", Cat("&~agate_routing=", instance)));
    auto t1 = std::chrono::steady_clock::now();
    if (r.status != 200 && t1 < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    EXPECT_EQ(r.status, 200) << r.body;
    return std::chrono::duration<double>(t1 - t0).count();
  }
}

std::unique_ptr<launcher::Cluster> StartClusterWithPatientR3Calls() {
  return StartCluster([](toml::table& t) {
    t["wgate"].as_table()->insert_or_assign("step_timeout_s", 20.0);
    if (!t.contains("agate")) t.insert("agate", toml::table{});
    t["agate"].as_table()->insert_or_assign("r3_timeout_s", 10.0);
  });
}

// A link delay belongs to the link, not to the processes running when it
// was set: agates started later — after their own crash, or by a Mapping
// Manager that crashed meanwhile — wait as well, until `fault clear`.
TEST(Supervision, ALinkDelayHoldsForAgatesStartedAfterIt) {
  auto c = StartClusterWithPatientR3Calls();
  ASSERT_NE(c, nullptr);
  const std::string cfg = Cat("--config ", c->config_dir(), " ");
  auto delay = RunProgram("itsadm", cfg + "fault delay agate-\\>r3 1500ms");
  ASSERT_EQ(delay.exit_code, 0) << delay.output;
  EXPECT_NE(delay.output.find("also of those started later"), std::string::npos)
      << delay.output;
  auto mm = c->Find("mapping_manager IT1");
  ASSERT_TRUE(mm.has_value());
  ASSERT_EQ(kill(mm->pid, SIGKILL), 0);
  ASSERT_TRUE(c->WaitRunning("mapping_manager IT1", mm->pid, 5000));
  ASSERT_NO_FATAL_FAILURE(ReplaceAgates(*c, "IT1"));
  ASSERT_NO_FATAL_FAILURE(ReplaceAgates(*c, "IT2"));
  EXPECT_GE(LogonSecondsOn(*c, "IT1"), 1.5) << "of a restarted manager";
  EXPECT_GE(LogonSecondsOn(*c, "IT2"), 1.5) << "an agate started later";
  ASSERT_EQ(RunProgram("itsadm", cfg + "fault clear").exit_code, 0);
  EXPECT_LT(LogonSecondsOn(*c, "IT1"), 1.0);
  EXPECT_LT(LogonSecondsOn(*c, "IT2"), 1.0);
}

// The launcher finds the running agates through their Mapping Manager; the
// agates of one that is hung still get the delay (from the run directory's
// link-delays.toml), and lose it again with `fault clear`.
TEST(Supervision, ADelaySetWhileAManagerIsHungReachesItsAgates) {
  auto c = StartClusterWithPatientR3Calls();
  ASSERT_NE(c, nullptr);
  const std::string cfg = Cat("--config ", c->config_dir(), " ");
  auto hang = RunProgram("itsadm", cfg + "fault hang mapping_manager IT1");
  ASSERT_EQ(hang.exit_code, 0) << hang.output;
  auto delay = RunProgram("itsadm", cfg + "fault delay IT1 agate-\\>r3 1500ms");
  ASSERT_EQ(delay.exit_code, 0) << delay.output;
  EXPECT_NE(
      delay.output.find(
          "of IT1 now wait 1.5 s, also of those started later (0 told at once"),
      std::string::npos)
      << delay.output;
  auto resume = RunProgram("itsadm", cfg + "fault resume mapping_manager IT1");
  ASSERT_EQ(resume.exit_code, 0) << resume.output;
  EXPECT_GE(LogonSecondsOn(*c, "IT1"), 1.5);
  EXPECT_LT(LogonSecondsOn(*c, "IT2"), 1.0) << "IT2 has no delay";
  hang = RunProgram("itsadm", cfg + "fault hang mapping_manager IT1");
  ASSERT_EQ(hang.exit_code, 0) << hang.output;
  auto clear = RunProgram("itsadm", cfg + "fault clear");
  ASSERT_EQ(clear.exit_code, 0) << clear.output;
  EXPECT_LT(LogonSecondsOn(*c, "IT1"), 1.0);
}

// The launcher tells the agates of a delay all at once: hung ones hold the
// command up for one deadline (1 s), not one per agate (4 s here; with more
// hung processes than itsadm's 10 s the command used to fail although the
// delay was set).
TEST(Supervision, HungAgatesHoldUpFaultDelayAndItsadmSessionsOnceNotEach) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  const std::string cfg = Cat("--config ", c->config_dir(), " ");
  for (const char* agate : {"IT1/0", "IT1/1", "IT2/0", "IT2/1"}) {
    auto hang = RunProgram("itsadm", Cat(cfg, "fault hang agate ", agate));
    ASSERT_EQ(hang.exit_code, 0) << hang.output;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto delay = RunProgram("itsadm", cfg + "fault delay agate-\\>r3 1s");
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(delay.exit_code, 0) << delay.output;
  EXPECT_NE(delay.output.find("(0 told at once"), std::string::npos)
      << delay.output;
  // At least one deadline: the agates were asked (not left out as down).
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::milliseconds(3500));
  // itsadm sessions asks the four at once: one deadline (3 s), not four.
  t0 = std::chrono::steady_clock::now();
  auto sessions = RunProgram("itsadm", cfg + "sessions");
  took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(sessions.exit_code, 0) << sessions.output;
  size_t silent = 0;
  for (size_t at = 0;
       (at = sessions.output.find("did not answer", at)) != std::string::npos;
       ++at)
    ++silent;
  EXPECT_EQ(silent, 4u) << sessions.output;
  EXPECT_GE(took, std::chrono::milliseconds(2900));
  EXPECT_LT(took, std::chrono::milliseconds(6000)) << "was 12 s";
  ASSERT_EQ(RunProgram("itsadm", cfg + "fault clear").exit_code, 0);
}

// The launcher asks a Mapping Manager which process is an agate; while the
// manager is hung, it finds the agate by its command line, so that a tester
// can still crash it.
TEST(Supervision, AnAgateCanBeKilledWhileItsManagerIsHung) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  const std::string cfg = Cat("--config ", c->config_dir(), " ");
  const int pid = UpAgatePid(*c, "IT1", 0);
  ASSERT_GT(pid, 0);
  auto hang = RunProgram("itsadm", cfg + "fault hang mapping_manager IT1");
  ASSERT_EQ(hang.exit_code, 0) << hang.output;
  auto kill9 = RunProgram("itsadm", cfg + "fault kill agate IT1/0");
  EXPECT_EQ(kill9.exit_code, 0) << kill9.output;
  EXPECT_NE(kill9.output.find(Cat("(pid ", pid, ", SIGKILL)")),
            std::string::npos)
      << kill9.output;
  EXPECT_TRUE(WaitFor([&] { return !Alive(pid); }));
  // No such slot: the error says why the manager could not be asked.
  auto none = RunProgram("itsadm", cfg + "fault kill agate IT1/3");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.output.find("is not running; its Mapping Manager does not "
                             "answer"),
            std::string::npos)
      << none.output;
  ASSERT_EQ(RunProgram("itsadm", cfg + "fault clear").exit_code, 0);
}

// A hung agate may end while hung (its Mapping Manager kills it after
// unresponsive_restart_s; here the test does): `fault clear` says so rather
// than that it resumed it.
TEST(Supervision, FaultClearNamesAHungAgateThatEndedMeanwhile) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  const std::string cfg = Cat("--config ", c->config_dir(), " ");
  const int pid = UpAgatePid(*c, "IT2", 1);
  ASSERT_GT(pid, 0);
  auto hang = RunProgram("itsadm", cfg + "fault hang agate IT2/1");
  ASSERT_EQ(hang.exit_code, 0) << hang.output;
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  // Ended, whether or not its Mapping Manager has reaped it yet: a zombie
  // is no more resumed than a reaped process.
  ASSERT_TRUE(WaitFor([&] { return !Alive(pid); }));
  auto clear = RunProgram("itsadm", cfg + "fault clear");
  EXPECT_EQ(clear.exit_code, 0) << clear.output;
  EXPECT_NE(clear.output.find(Cat("pid ", pid, " (hung) had ended")),
            std::string::npos)
      << clear.output;
  EXPECT_EQ(clear.output.find("resumed pid"), std::string::npos)
      << clear.output;
}

TEST(Supervision, ItsadmFaultFromTheCommandLine) {
  auto c = StartCluster();
  ASSERT_NE(c, nullptr);
  std::string cfg = Cat("--config ", c->config_dir(), " ");
  auto hang = RunProgram("itsadm", cfg + "fault hang agate IT1/0 1s");
  EXPECT_EQ(hang.exit_code, 0) << hang.output;
  EXPECT_NE(hang.output.find("stopped agate IT1/0"), std::string::npos)
      << hang.output;
  auto list = RunProgram("itsadm", cfg + "processes --json");
  ASSERT_EQ(list.exit_code, 0) << list.output;
  auto rows = nlohmann::json::parse(list.output);
  ASSERT_EQ(rows.size(), 4u);
  for (const char* key : {"name", "pid", "address", "restarts", "state"})
    EXPECT_TRUE(rows[0].contains(key)) << key;
  auto delay = RunProgram("itsadm", cfg + "fault delay IT2 agate-\\>r3 100ms");
  EXPECT_EQ(delay.exit_code, 0) << delay.output;
  EXPECT_NE(delay.output.find("wait 0.1 s"), std::string::npos) << delay.output;
  auto clear = RunProgram("itsadm", cfg + "fault clear");
  EXPECT_EQ(clear.exit_code, 0) << clear.output;
  auto bad = RunProgram("itsadm", cfg + "fault explode wgate");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("usage"), std::string::npos) << bad.output;
  // A target the configuration cannot have is a wrong command: 2, as for
  // drain; one that is not running now is not (1).
  auto unknown = RunProgram("itsadm", cfg + "fault kill agate IT9/0");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("no AGate process"), std::string::npos)
      << unknown.output;
  for (const char* bad : {"fault kill agate IT1/7", "fault resume nothing",
                          "fault hang agate IT1/x 1s"}) {
    auto r = RunProgram("itsadm", cfg + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.output;
  }
  Browser b(c->url());
  EXPECT_EQ(b.Get(StartUrl("webgui", "DEMO")).status, 200);
}

TEST(Supervision, TimeoutsWhileStepsQueueLeaveNoR3SessionBehind) {
  // The reproduction: one work thread per process, ~timeout 1 at
  // time_scale 600 (0.1 s real), users without think time.
  auto c = StartCluster(
      [](toml::table& t) {
        t.insert_or_assign("time_scale", 600.0);
        for (auto& inst : *t["agate_instance"].as_array())
          inst.as_table()->insert_or_assign("work_threads", 1);
      },
      {{"services/ess.srvc", "~transaction PA30\n~timeout 1\n"},
       // No R/3-side idle limit that could clean up behind the agates.
       {"r3/DEFAULT.PFL",
        "rdisp/plugin_auto_logout = 0\nrdisp/gui_auto_logout = 0\n"
        "http/security_session_timeout = 100000\nrdisp/max_alt_modes = 6\n"
        "rdisp/tm_max_no = 20000\nlogin/fails_to_user_lock = 5\n"}});
  ASSERT_NE(c, nullptr);
  // Every call to R/3 takes 0.3 s, longer than ~timeout: sessions time out
  // while their step is at R/3 or queued for the one work thread.
  proto::FaultRequest slow;
  slow.set_action(proto::FaultRequest::DELAY);
  slow.set_target("agate->r3");
  slow.set_seconds(0.3);
  proto::FaultReply reply;
  ASSERT_TRUE(c->Fault(slow, &reply).ok());
  auto load = RunProgram(
      "itsload", Cat(ITS_SOURCE_DIR, "/deploy/scenarios/ess.toml --url ",
                     c->url(), " --users 40 --think 0 --duration 2 --quiet"));
  proto::FaultRequest clear;
  clear.set_action(proto::FaultRequest::CLEAR);
  ASSERT_TRUE(c->Fault(clear, &reply).ok());
  EXPECT_NE(load.output.find("requests"), std::string::npos) << load.output;
  // Every session ends at its ~timeout (0.1 s) once the load stops, and its
  // R/3 session with it — at once, not when R/3's own idle limits (minutes
  // of simulated time, seconds of real time here) would clean up.
  EXPECT_TRUE(WaitFor(
      [&] {
        for (const auto& s : Admin(*c, "sessions"))
          if (s["state"] == "active") return false;
        return true;
      },
      2000));
  // A logon still at R/3 when the last agate session ended has an SM04 row
  // for a moment; an orphan (R/3's own limits are off) stays for good.
  std::string left;
  EXPECT_TRUE(WaitFor(
      [&] {
        left = Admin(*c, "sm04").dump();
        return left == "[]";
      },
      3000))
      << "R/3 sessions left behind: " << left;
  EXPECT_TRUE(Admin(*c, "sm12").empty());
  int active = 0, timed_out = 0;
  for (const auto& s : Admin(*c, "sessions")) {
    active += s["state"] == "active";
    timed_out += s["state"] == "timed_out";
  }
  EXPECT_EQ(active, 0);
  EXPECT_GT(timed_out, 0) << "the load should have made sessions time out";
}

TEST(Supervision, SigtermStopsTheClusterWithinFiveSecondsWithProcessesStopped) {
  Itscluster up = StartItscluster("stop");
  ASSERT_FALSE(up.url.empty()) << "itscluster did not get ready";
  pid_t pid = up.pid;
  const std::string& run = up.run_dir;
  auto config = ClusterConfig::Load(run);
  ASSERT_TRUE(config.ok());
  std::vector<int> pids;
  for (const auto& p : admin::ToJson(*admin::Query(*config, "agates")))
    pids.push_back(p["pid"]);
  ASSERT_EQ(pids.size(), 4u);
  // Crash the Mapping Manager of IT1 (its agates live on, adopted by the
  // next one), then stop an agate and the other manager.
  auto mm1 = admin::Fault(*config, {"kill", "mapping_manager", "IT1"});
  ASSERT_TRUE(mm1.ok()) << mm1.status().message();
  ASSERT_TRUE(WaitFor([&] {
    auto list = admin::Query(*config, "processes");
    if (!list.ok()) return false;
    for (const auto& p : admin::ToJson(*list))
      if (p["name"] == "mapping_manager IT1")
        return p["restarts"] == 1 && p["state"] == "running";
    return false;
  }));
  for (const auto& p : admin::ToJson(*admin::Query(*config, "processes")))
    pids.push_back(p["pid"]);
  ASSERT_EQ(kill(pids[0], SIGSTOP), 0);  // an agate
  ASSERT_TRUE(admin::Fault(*config, {"hang", "mapping_manager", "IT2"}).ok());
  auto t0 = std::chrono::steady_clock::now();
  kill(pid, SIGTERM);
  int status;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_TRUE(WaitFor(
      [&] {
        for (int p : pids)
          if (Alive(p)) return false;
        return true;
      },
      1000))
      << "processes of the cluster outlived it";
  std::filesystem::remove_all(run);
}

// A launcher killed outright (SIGKILL; a test binary a timeout killed)
// cannot stop its processes: they get a signal of their own when it dies.
// A wgate left stopped by a hang fault used to stay, stopped, forever (its
// SIGTERM waits for a SIGCONT that never comes).
TEST(Supervision, AKilledLauncherLeavesNoHungWgateOrR3StubBehind) {
  Itscluster up = StartItscluster("killed");
  ASSERT_FALSE(up.url.empty()) << "itscluster did not get ready";
  auto config = ClusterConfig::Load(up.run_dir);
  ASSERT_TRUE(config.ok());
  std::vector<int> pids;
  for (const auto& p : admin::ToJson(*admin::Query(*config, "processes")))
    if (p["name"] == "wgate" || p["name"] == "r3_stub")
      pids.push_back(p["pid"]);
  ASSERT_EQ(pids.size(), 2u);
  ASSERT_TRUE(admin::Fault(*config, {"hang", "wgate"}).ok());
  ASSERT_TRUE(admin::Fault(*config, {"hang", "r3_stub"}).ok());
  ASSERT_EQ(kill(up.pid, SIGKILL), 0);
  waitpid(up.pid, nullptr, 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        for (int p : pids)
          if (Alive(p)) return false;
        return true;
      },
      3000))
      << "a stopped process outlived its launcher";
  // The rest stops by itself (Mapping Managers stop their agates on the
  // SIGTERM they get); what is left is killed so that nothing stays.
  EXPECT_TRUE(
      WaitFor([&] { return launcher::ClusterPids(up.run_dir).empty(); }, 8000));
  // Only what still is one of ours: a number that ended may be another
  // process's by now.
  for (pid_t p : launcher::ClusterPids(up.run_dir)) kill(p, SIGKILL);
  std::filesystem::remove_all(up.run_dir);
}

// A launcher killed outright leaves a Mapping Manager that a hang fault
// stopped, and its agates (a stopped process never acts on the SIGTERM its
// launcher's death sends it). The next launcher on that run directory stops
// them before it starts, so that no slot runs two agates; a launcher started
// on it while the first one runs is refused and changes nothing, also with
// --clean (what deploy/up passes).
TEST(Supervision, ANewLauncherStopsWhatAKilledOneLeftAndASecondIsRefused) {
  Itscluster up = StartItscluster("leftover");
  const std::string link = up.run_dir + "-link";
  // Whatever happens, nothing of the test stays (a failed assertion leaves
  // a stopped manager otherwise).
  struct Cleanup {
    const Itscluster& up;
    const std::string& link;
    ~Cleanup() {
      if (up.pid > 0 && kill(up.pid, SIGKILL) == 0) waitpid(up.pid, nullptr, 0);
      for (pid_t p : launcher::ClusterPids(up.run_dir)) {
        kill(p, SIGKILL);
        kill(p, SIGCONT);
      }
      std::error_code ec;
      std::filesystem::remove(link, ec);
      std::filesystem::remove_all(up.run_dir, ec);
    }
  } cleanup{up, link};
  ASSERT_FALSE(up.url.empty()) << "itscluster did not get ready";
  auto config = ClusterConfig::Load(up.run_dir);
  ASSERT_TRUE(config.ok());
  std::vector<int> first;  // every process of the first cluster
  std::vector<int> left;   // what its killing leaves: IT1's manager, agates
  for (const auto& p : admin::ToJson(*admin::Query(*config, "processes"))) {
    first.push_back(p["pid"]);
    if (p["name"] == "mapping_manager IT1") left.push_back(p["pid"]);
  }
  for (const auto& p : admin::ToJson(*admin::Query(*config, "agates"))) {
    first.push_back(p["pid"]);
    if (p["instance"] == "IT1") left.push_back(p["pid"]);
  }
  ASSERT_EQ(first.size(), 8u);  // R/3, wgate, 2 managers, 4 agates
  ASSERT_EQ(left.size(), 3u);

  // A second launcher on the same run directory.
  ProgramRun second =
      RunProgram("itscluster",
                 Cat("--config ", ITS_SOURCE_DIR, "/deploy/config",
                     " --run-dir ", up.run_dir, " --ephemeral-ports --clean"));
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_NE(second.output.find(Cat("belongs to another itscluster (pid ",
                                   up.pid, ") that still runs")),
            std::string::npos)
      << second.output;
  for (int p : first) EXPECT_TRUE(Alive(p)) << "pid " << p;
  EXPECT_TRUE(std::filesystem::exists(up.run_dir + "/cluster.toml"));
  EXPECT_TRUE(std::filesystem::exists(up.run_dir + "/wgate.log"));
  Browser b(up.url);
  EXPECT_EQ(b.Get(StartUrl("webgui", "DEMO", "&~transaction=FB03")).status,
            200);

  ASSERT_TRUE(admin::Fault(*config, {"hang", "mapping_manager", "IT1"}).ok());
  ASSERT_EQ(kill(up.pid, SIGKILL), 0);
  waitpid(up.pid, nullptr, 0);
  up.pid = -1;  // reaped: the number may be another process's soon
  // Everything else ends; the stopped manager and its agates stay.
  EXPECT_TRUE(WaitFor(
      [&] { return launcher::ClusterPids(up.run_dir).size() == left.size(); },
      8000));
  for (int p : left) EXPECT_TRUE(Alive(p)) << "pid " << p;

  std::ofstream(up.run_dir + "/earlier.log") << "from an earlier run\n";
  // By another path to the same directory.
  std::filesystem::create_directory_symlink(up.run_dir, link);
  Itscluster next = StartItsclusterIn(link, "--clean");
  EXPECT_FALSE(std::filesystem::exists(up.run_dir + "/earlier.log"));
  EXPECT_FALSE(next.url.empty()) << "itscluster did not get ready";
  for (int p : left) EXPECT_FALSE(Alive(p)) << "pid " << p << " was left";
  // One agate per slot: the four of the new cluster.
  int agates = 0;
  for (pid_t p : launcher::ClusterPids(next.run_dir)) {
    auto words = ProcessCommandLine(p);
    agates += !words.empty() && words[0].ends_with("/agate");
  }
  EXPECT_EQ(agates, 4);
  if (!next.url.empty()) {
    Browser again(next.url);
    EXPECT_EQ(
        again.Get(StartUrl("webgui", "DEMO", "&~transaction=FB03")).status,
        200);
  }
  kill(next.pid, SIGTERM);
  waitpid(next.pid, nullptr, 0);
}

// Two launchers started at the same moment on one run directory: one runs,
// the other is refused and names the one that runs (not an earlier run's PID
// still in the lock file, nor none because the winner had not written its
// own yet).
TEST(Supervision, ALauncherThatLosesARaceForTheRunDirectoryNamesTheWinner) {
  const std::string run = TestRunDir("race");
  for (int round = 0; round < 4; ++round) {
    pid_t pids[2];
    const std::string err[2] = {run + ".err0", run + ".err1"};
    for (int i = 0; i < 2; ++i) {
      pids[i] = fork();
      if (pids[i] == 0) {
        int fd = ::open(err[i].c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        int null = ::open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execl(ITS_BIN_DIR "/itscluster", "itscluster", "--config",
              ITS_SOURCE_DIR "/deploy/config", "--run-dir", run.c_str(),
              "--ephemeral-ports", static_cast<char*>(nullptr));
        _exit(127);
      }
    }
    int status = 0;
    pid_t loser = -1;
    for (int tries = 0; tries < 1500 && loser < 0; ++tries) {
      for (pid_t p : pids) {
        if (waitpid(p, &status, WNOHANG) == p) {
          loser = p;
          break;
        }
      }
      if (loser < 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (loser < 0) {
      for (pid_t p : pids) {
        kill(p, SIGTERM);
        waitpid(p, nullptr, 0);
      }
      std::filesystem::remove_all(run);
      FAIL() << "neither launcher was refused";
    }
    const pid_t winner = loser == pids[0] ? pids[1] : pids[0];
    std::ifstream in(loser == pids[0] ? err[0] : err[1]);
    std::string said((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << said;
    EXPECT_NE(said.find(Cat("belongs to another itscluster (pid ", winner,
                            ") that still runs")),
              std::string::npos)
        << "round " << round << ": " << said;
    kill(winner, SIGTERM);
    waitpid(winner, nullptr, 0);
    for (const std::string& e : err) std::filesystem::remove(e);
  }
  std::filesystem::remove_all(run);
}

}  // namespace
}  // namespace its::testing
