// New sessions nobody received (docs/faults.md, "Unclaimed sessions"): an
// AGate process holds a new session as unclaimed until the wgate says its
// browser got the answer (proto::Delivery). If the wgate says the browser
// did not get it, the agate logs the session off at once; if the wgate's
// stream closes first (it crashed with the answer in hand), after
// unclaimed_grace_s unless a request comes with the session meanwhile: no
// R/3 session and no lock waits for ~timeout behind a session nobody can
// reach, and a browser that got its answer just before the crash keeps it.
//
// The first tests play the wgate's part over the agate's real Dialog stream;
// the last two go through the real wgate: a browser that goes away during
// its logon, and a logon answered after the wgate's deadline.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/grpc_util.h"
#include "proto/its.grpc.pb.h"
#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

// A cluster whose agates wait 3 s for an unclaimed session's browser, and
// whose deadlines are short enough to pass in a test.
class Delivery : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ =
        StartCluster([](toml::table& t) {
          t["wgate"].as_table()->insert_or_assign("step_timeout_s", 1.5);
          t.insert_or_assign("agate", toml::table{{"r3_timeout_s", 1.0},
                                                  {"unclaimed_grace_s", 3.0}});
        }).release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(cluster_, nullptr); }

  // A wgate's stream to an agate.
  struct FakeWgate {
    explicit FakeWgate(const std::string& address)
        : stub(proto::AGate::NewStub(MakeChannel(address))),
          stream(stub->Dialog(&context)) {}
    // One batch; the answers to its requests.
    std::vector<proto::AGateResponse> Send(const proto::AGateUp& up) {
      EXPECT_TRUE(stream->Write(up));
      std::vector<proto::AGateResponse> answers;
      while (answers.size() < static_cast<size_t>(up.requests_size())) {
        proto::AGateDown down;
        if (!stream->Read(&down)) {
          ADD_FAILURE() << "the stream broke";
          break;
        }
        for (auto& r : *down.mutable_responses()) answers.push_back(r);
      }
      return answers;
    }
    // Starts a session of `user`; its answer.
    proto::AGateResponse Start(const std::string& user,
                               const std::string& extra_param = "") {
      proto::AGateUp up;
      proto::AGateRequest* req = up.add_requests();
      req->set_id(++id);
      req->set_kind(proto::AGateRequest::START);
      req->set_service("webgui");
      for (auto [n, v] : {std::pair<std::string, std::string>{"~client", "100"},
                          {"~login", user},
                          {"~password", "welcome"},
                          {"~language", "EN"},
                          {extra_param, "0"}}) {
        if (n.empty()) continue;
        auto* p = req->add_params();
        p->set_name(n);
        p->set_value(v);
      }
      auto answers = Send(up);
      return answers.size() == 1 ? answers[0] : proto::AGateResponse();
    }
    // A dialog step or a logoff by the session's full ID.
    proto::AGateResponse Request(const std::string& gusid,
                                 proto::AGateRequest::Kind kind) {
      proto::AGateUp up;
      proto::AGateRequest* req = up.add_requests();
      req->set_id(++id);
      req->set_kind(kind);
      req->set_service("webgui");
      req->set_session(gusid);
      if (kind == proto::AGateRequest::TERMINATE)
        req->set_command(proto::LOGOFF);
      auto answers = Send(up);
      return answers.size() == 1 ? answers[0] : proto::AGateResponse();
    }
    void Tell(const std::string& session_public, bool delivered) {
      proto::AGateUp up;
      proto::Delivery* d = up.add_deliveries();
      d->set_session_public(session_public);
      d->set_delivered(delivered);
      EXPECT_TRUE(stream->Write(up));
    }
    // What a crash does to the stream: it breaks, nothing more is said.
    void Crash() { context.TryCancel(); }

    grpc::ClientContext context;
    std::unique_ptr<proto::AGate::Stub> stub;
    std::unique_ptr<grpc::ClientReaderWriter<proto::AGateUp, proto::AGateDown>>
        stream;
    uint64_t id = 0;
  };

  // The agate that is up in IT1 with the highest process number.
  static nlohmann::json AnAgate() {
    nlohmann::json best;
    for (const auto& a : Admin(*cluster_, "agates")) {
      if (a["instance"] == "IT1" && a["state"] == "up" &&
          (best.is_null() || a["process"] > best["process"]))
        best = a;
    }
    EXPECT_FALSE(best.is_null()) << "no agate of IT1 is up";
    return best;
  }
  static std::string AnAgateAddress() {
    auto a = AnAgate();
    return a.is_null() ? "" : a["address"].get<std::string>();
  }

  // Live sessions of `user` the agates hold.
  static int HeldFor(const std::string& user) {
    int n = 0;
    for (const auto& s : Admin(*cluster_, "sessions"))
      n += s["user"] == user && s["state"] == "active";
    return n;
  }
  // Live sessions of `user` in the agates and in SM04.
  static bool Gone(const std::string& user) {
    return HeldFor(user) == 0 && UsersNamed(*cluster_, user) == 0;
  }
  static bool Alive(const std::string& user) {
    return HeldFor(user) == 1 && UsersNamed(*cluster_, user) == 1;
  }

  static uint64_t WgateMetric(const std::string& name) {
    return WgateCounter(cluster_->url(), name);
  }

  static inline launcher::Cluster* cluster_ = nullptr;
};

TEST_F(Delivery, AStreamThatClosesUnconfirmedLeavesOnlyWhatABrowserHas) {
  const std::string agate = AnAgateAddress();
  FakeWgate wgate(agate);
  // Four logons answered. The wgate said the first reached its browser; the
  // second's browser took a step; then the wgate crashed without a word on
  // the third and fourth (~cookies=0: its ID travels in the page's URLs).
  proto::AGateResponse told = wgate.Start("LOAD00411");
  proto::AGateResponse stepped = wgate.Start("LOAD00412");
  proto::AGateResponse comes_back = wgate.Start("LOAD00413");
  proto::AGateResponse lost = wgate.Start("LOAD00414", "~cookies");
  proto::AGateResponse told_late = wgate.Start("LOAD00419");
  for (const auto* a : {&told, &stepped, &comes_back, &lost, &told_late})
    ASSERT_EQ(a->outcome(), proto::SESSION_STARTED) << a->body();
  ASSERT_TRUE(lost.set_session().empty()) << "~cookies=0 sets no cookie";
  ASSERT_FALSE(lost.session_public().empty());
  wgate.Tell(told.session_public(), true);
  // (Also a round trip: the word before it has arrived.)
  EXPECT_EQ(
      wgate.Request(stepped.set_session(), proto::AGateRequest::STEP).outcome(),
      proto::PAGE);
  wgate.Crash();
  // The third's browser had its answer after all and comes back with it,
  // through the restarted wgate, within the grace (3 s).
  FakeWgate next(agate);
  EXPECT_EQ(next.Request(comes_back.set_session(), proto::AGateRequest::STEP)
                .outcome(),
            proto::PAGE);
  // The fifth's word comes on the new stream (its link broke, the wgate
  // lived on): it counts there too.
  next.Tell(told_late.session_public(), true);

  EXPECT_TRUE(Alive("LOAD00414")) << "ended before the grace";
  EXPECT_TRUE(WaitFor([] { return Gone("LOAD00414"); }, 10000))
      << "a session nobody received is still held after the grace";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (const char* user : {"LOAD00411", "LOAD00412", "LOAD00413", "LOAD00419"})
    EXPECT_TRUE(Alive(user)) << user << ": a session its browser has ended";

  for (const auto* a : {&told, &stepped, &comes_back, &told_late})
    next.Request(a->set_session(), proto::AGateRequest::TERMINATE);
  for (const char* user : {"LOAD00411", "LOAD00412", "LOAD00413", "LOAD00419"})
    EXPECT_TRUE(Gone(user)) << user;
  next.Crash();
}

TEST_F(Delivery, ANewSessionItsBrowserDidNotGetEndsAtOnce) {
  FakeWgate wgate(AnAgateAddress());
  FakeWgate other(AnAgateAddress());
  proto::AGateResponse started = wgate.Start("LOAD00415");
  ASSERT_EQ(started.outcome(), proto::SESSION_STARTED) << started.body();
  // Only the stream that carried the answer may say it was not delivered.
  other.Tell(started.session_public(), false);
  other.Start("LOAD00416");  // a round trip: the word has arrived
  EXPECT_TRUE(Alive("LOAD00415")) << "another stream's word ended a session";
  wgate.Tell(started.session_public(), false);
  EXPECT_TRUE(WaitFor([] { return Gone("LOAD00415"); }));
  wgate.Crash();
  other.Crash();
}

// A raw connection that sends a logon and goes away (RST) before the answer:
// the wgate's write fails, it tells the agate, the session ends.
TEST_F(Delivery, ABrowserGoneDuringItsLogonLeavesNoSession) {
  const uint64_t undelivered =
      WgateMetric("its_wgate_undelivered_sessions_total");
  const uint64_t assigned = WgateMetric("its_wgate_assign_calls_total");
  // A slow link to R/3 holds the logon while the browser goes.
  proto::FaultRequest delay;
  delay.set_action(proto::FaultRequest::DELAY);
  delay.set_target("agate->r3");
  delay.set_seconds(0.5);
  proto::FaultReply reply;
  ASSERT_TRUE(cluster_->Fault(delay, &reply).ok());
  struct Clear {
    ~Clear() {
      proto::FaultRequest clear;
      clear.set_action(proto::FaultRequest::CLEAR);
      proto::FaultReply r;
      EXPECT_TRUE(cluster_->Fault(clear, &r).ok());
    }
  } clear;
  std::string host;
  int port = 0;
  ASSERT_TRUE(ParseHostPort(cluster_->url().substr(7), &host, &port).ok());
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &sa.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  const std::string req = Cat("GET ", StartUrl("webgui", "LOAD00417"),
                              " HTTP/1.1\r\nHost: its\r\n\r\n");
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(req.size()));
  // The wgate read it once it asked a Mapping Manager; R/3 is slow.
  EXPECT_TRUE(WaitFor(
      [&] { return WgateMetric("its_wgate_assign_calls_total") > assigned; }));
  linger reset{1, 0};  // close with RST: the wgate's write fails
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(fd);

  ASSERT_TRUE(WaitFor([&] {
    return WgateMetric("its_wgate_undelivered_sessions_total") > undelivered;
  })) << "the wgate did not notice the answer reached nobody";
  EXPECT_TRUE(WaitFor([] { return Gone("LOAD00417"); }))
      << "the session nobody received lives on";
}

// A logon its agate answers after the wgate's deadline (the browser had a
// 504): the wgate tells the agate, which ends the session.
TEST_F(Delivery, ALogonAnsweredAfterTheDeadlineLeavesNoSession) {
  const auto agate = AnAgate();
  ASSERT_FALSE(agate.is_null());
  const uint64_t undelivered =
      WgateMetric("its_wgate_undelivered_sessions_total");
  ASSERT_EQ(kill(agate["pid"].get<int>(), SIGSTOP), 0);
  struct Resume {
    int pid;
    ~Resume() { kill(pid, SIGCONT); }
  } resume{agate["pid"].get<int>()};
  Browser b(cluster_->url());
  auto r =
      b.Get(StartUrl("webgui", "LOAD00418",
                     Cat("&~agate_routing=IT1:", agate["process"].get<int>())));
  EXPECT_EQ(r.status, 504) << r.body;  // step_timeout_s 1.5
  kill(agate["pid"].get<int>(), SIGCONT);
  ASSERT_TRUE(WaitFor([&] {
    return WgateMetric("its_wgate_undelivered_sessions_total") > undelivered;
  })) << "the wgate did not see the late answer";
  EXPECT_TRUE(WaitFor([] { return Gone("LOAD00418"); }))
      << "the session started after the deadline lives on";
}

}  // namespace
}  // namespace its::testing
