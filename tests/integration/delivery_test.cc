// New sessions nobody received (docs/faults.md): an AGate process holds a
// new session as unclaimed until the wgate says its browser got the answer
// (proto::Delivery). If the wgate's stream closes first (it crashed with the
// answer in hand) or the wgate says the browser did not get it, the agate
// logs the session off at once: no R/3 session and no lock waits for
// ~timeout behind a session nobody can reach.
//
// The first tests play the wgate's part over the agate's real Dialog stream;
// the last has a browser go away during its logon, through the real wgate.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

#include "common/grpc_util.h"
#include "proto/its.grpc.pb.h"
#include "tests/integration/test_cluster.h"

namespace its::testing {
namespace {

class Delivery : public SharedClusterTest {
 protected:
  // A wgate's stream to the agate that is up with the highest PID.
  struct FakeWgate {
    explicit FakeWgate(const std::string& address)
        : stub(proto::AGate::NewStub(MakeChannel(address))),
          stream(stub->Dialog(&context)) {}
    // Starts a session of `user`; its answer.
    proto::AGateResponse Start(const std::string& user) {
      proto::AGateUp up;
      proto::AGateRequest* req = up.add_requests();
      req->set_id(++id);
      req->set_kind(proto::AGateRequest::START);
      req->set_service("webgui");
      for (auto [n, v] : {std::pair<const char*, std::string>{"~client", "100"},
                          {"~login", user},
                          {"~password", "welcome"},
                          {"~language", "EN"}}) {
        auto* p = req->add_params();
        p->set_name(n);
        p->set_value(v);
      }
      EXPECT_TRUE(stream->Write(up));
      proto::AGateDown down;
      EXPECT_TRUE(stream->Read(&down));
      EXPECT_EQ(down.responses_size(), 1);
      return down.responses_size() == 1 ? down.responses(0)
                                        : proto::AGateResponse();
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

  static std::string AnAgate() {
    for (const auto& a : Admin(*cluster_, "agates"))
      if (a["state"] == "up") return a["address"].get<std::string>();
    ADD_FAILURE() << "no agate is up";
    return "";
  }

  // Live sessions of `user` the agates hold.
  static int HeldFor(const std::string& user) {
    int n = 0;
    for (const auto& s : Admin(*cluster_, "sessions"))
      n += s["user"] == user && s["state"] == "active";
    return n;
  }

  static uint64_t Undelivered() {
    auto r = HttpGet(cluster_->url(), "/metrics");
    EXPECT_TRUE(r.ok());
    std::smatch m;
    std::regex re("\nits_wgate_undelivered_sessions_total ([0-9]+)\n");
    if (r.ok() && std::regex_search(r->body, m, re)) return std::stoull(m[1]);
    ADD_FAILURE() << "no its_wgate_undelivered_sessions_total";
    return 0;
  }
};

TEST_F(Delivery, ANewSessionLostWithItsWgateEndsWhenTheStreamCloses) {
  FakeWgate wgate(AnAgate());
  // Two logons answered; the browser of the first got its answer, the
  // wgate crashed before it could say so of the second.
  proto::AGateResponse kept = wgate.Start("LOAD00411");
  proto::AGateResponse lost = wgate.Start("LOAD00412");
  ASSERT_EQ(kept.outcome(), proto::SESSION_STARTED) << kept.body();
  ASSERT_EQ(lost.outcome(), proto::SESSION_STARTED) << lost.body();
  EXPECT_EQ(UsersNamed(*cluster_, "LOAD00412"), 1);
  wgate.Tell(kept.session_public(), true);
  wgate.Crash();

  // Both words were handled when the stream closed, in one go.
  EXPECT_TRUE(WaitFor([] { return UsersNamed(*cluster_, "LOAD00412") == 0; }))
      << "the R/3 session of a session nobody received is still in SM04";
  EXPECT_EQ(HeldFor("LOAD00412"), 0);
  EXPECT_EQ(HeldFor("LOAD00411"), 1) << "a delivered session ended";
  EXPECT_EQ(UsersNamed(*cluster_, "LOAD00411"), 1);

  // The delivered one lives on: its holder logs it off.
  FakeWgate next(AnAgate());
  proto::AGateUp up;
  proto::AGateRequest* off = up.add_requests();
  off->set_id(1);
  off->set_kind(proto::AGateRequest::TERMINATE);
  off->set_service("webgui");
  off->set_session(kept.set_session());
  off->set_command(proto::LOGOFF);
  ASSERT_TRUE(next.stream->Write(up));
  proto::AGateDown down;
  ASSERT_TRUE(next.stream->Read(&down));
  EXPECT_EQ(UsersNamed(*cluster_, "LOAD00411"), 0);
  next.Crash();
}

TEST_F(Delivery, ANewSessionItsBrowserDidNotGetEndsAtOnce) {
  FakeWgate wgate(AnAgate());
  proto::AGateResponse started = wgate.Start("LOAD00413");
  ASSERT_EQ(started.outcome(), proto::SESSION_STARTED) << started.body();
  // A word on a session this stream did not start changes nothing.
  wgate.Tell("IT1-A:127.0.0.1:0000.01000001", false);
  wgate.Tell(started.session_public(), false);
  EXPECT_TRUE(WaitFor([] { return UsersNamed(*cluster_, "LOAD00413") == 0; }));
  EXPECT_EQ(HeldFor("LOAD00413"), 0);
  wgate.Crash();
}

// A raw connection that sends a logon and goes away (RST) before the answer:
// the wgate's write fails, it tells the agate, the session ends.
TEST_F(Delivery, ABrowserGoneDuringItsLogonLeavesNoSession) {
  const uint64_t before = Undelivered();
  // A slow link to R/3 holds the logon while the browser goes.
  proto::FaultRequest delay;
  delay.set_action(proto::FaultRequest::DELAY);
  delay.set_target("agate->r3");
  delay.set_seconds(0.4);
  proto::FaultReply reply;
  ASSERT_TRUE(cluster_->Fault(delay, &reply).ok());
  std::string host;
  int port = 0;
  ASSERT_TRUE(ParseHostPort(cluster_->url().substr(7), &host, &port).ok());
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &sa.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  const std::string req = Cat("GET ", StartUrl("webgui", "LOAD00414"),
                              " HTTP/1.1\r\nHost: its\r\n\r\n");
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(req.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // it reads
  linger reset{1, 0};  // close with RST: the wgate's write fails
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(fd);
  proto::FaultRequest clear;
  clear.set_action(proto::FaultRequest::CLEAR);
  ASSERT_TRUE(cluster_->Fault(clear, &reply).ok());

  ASSERT_TRUE(WaitFor([&] { return Undelivered() > before; }))
      << "the wgate did not notice the answer reached nobody";
  EXPECT_TRUE(WaitFor([] {
    return HeldFor("LOAD00414") == 0 && UsersNamed(*cluster_, "LOAD00414") == 0;
  })) << "the session nobody received lives on";
}

}  // namespace
}  // namespace its::testing
