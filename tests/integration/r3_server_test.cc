// The R/3 stub's gRPC front (r3_stub/r3_server.h) in one test process: real
// gRPC over loopback, two agate-like dialog streams, no sleeps — every wait
// is for a condition. What R3System's own tests cannot show: which stream
// owns which user session, what a broken stream ends, and where R/3 sends
// word of the sessions it ends itself.
#include "r3_stub/r3_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/dialog_client.h"
#include "common/grpc_util.h"
#include "r3_stub/r3_system.h"
#include "tests/integration/loop_thread.h"

namespace its::r3 {
namespace {

using Client = DialogClient<proto::R3, proto::R3Up, proto::R3Down>;

proto::R3Response Lost(Client::Failure why) {
  proto::R3Response r;
  r.set_code(proto::R3Response::CONNECTION_LOST);
  r.set_error(why == Client::Failure::kDeadline ? "no answer in 10 s"
                                                : "stream lost");
  return r;
}

class R3ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_loop_.Start();  // first: TearDown runs on it whatever fails here
    ASSERT_NO_FATAL_FAILURE(r3_.Start("127.0.0.1:0", clock_));
    address_ = r3_.address;
    admin_ = proto::R3::NewStub(MakeChannel(address_));
  }
  void TearDown() override {
    client_loop_.RunAndWait([&] { clients_.clear(); });
    client_loop_.Stop();
    r3_.Stop();
    restarted_.Stop();
  }

  // One R/3 stub: its system, its gRPC front and the loop that runs it.
  struct R3 {
    void Start(const std::string& listen, const Clock& clock) {
      std::string dir = std::string(ITS_SOURCE_DIR) + "/deploy/config/r3";
      auto data = MasterData::Load(dir);
      ASSERT_TRUE(data.ok()) << data.status();
      auto profile = Profile::Parse("rdisp/tm_max_no = 10\n", "DEFAULT.PFL");
      ASSERT_TRUE(profile.ok());
      auto timeouts = TimeoutSettings::Load(*profile, "", "sicf.toml");
      ASSERT_TRUE(timeouts.ok()) << timeouts.status();
      system = std::make_unique<R3System>(std::move(*data), std::move(*profile),
                                          std::move(*timeouts), clock);
      server = std::make_unique<R3Server>(*system, loop.loop(), clock);
      auto started =
          StartGrpcServer(listen, {server->service()}, &address, &loop.loop());
      ASSERT_TRUE(started.ok()) << started.status();
      grpc = std::move(*started);
      server->Start();
      loop.Start();
    }
    // As a crash would: every stream ends at once.
    void Stop() {
      if (grpc) grpc->Shutdown(DeadlineIn(0));
      loop.Stop();
    }
    std::unique_ptr<R3System> system;
    testing::LoopThread loop;
    std::unique_ptr<R3Server> server;
    std::unique_ptr<GrpcServer> grpc;
    std::string address;
  };

  // A new agate-like stream; the sessions R/3 says it ended on it are noted.
  int Connect() {
    int n = 0;
    client_loop_.RunAndWait([&] {
      n = static_cast<int>(clients_.size());
      // A call timeout: a request the server never answers fails the test
      // instead of hanging it.
      clients_.push_back(std::make_unique<Client>(
          client_loop_.loop(), address_, Lost, std::chrono::seconds(10)));
      clients_.back()->set_batch_hook([this, n](proto::R3Down& down) {
        std::lock_guard<std::mutex> l(mu_);
        for (const auto& e : down.ended()) ended_[n].insert(e.session());
        cv_.notify_all();
      });
    });
    return n;
  }

  static proto::R3Request LogonRequest(const std::string& user) {
    proto::R3Request req;
    proto::R3Logon* logon = req.mutable_logon();
    logon->set_client("100");
    logon->set_user(user);
    logon->set_password("welcome");
    logon->set_tcode("FB03");
    logon->set_terminal("IT1/0000");
    return req;
  }

  // Logs `user` on over stream `n`: the R/3 user session.
  uint64_t Logon(int n, const std::string& user) {
    std::promise<proto::R3Response> answer;
    client_loop_.RunAndWait([&] {
      clients_[n]->Call(LogonRequest(user), [&](proto::R3Response& resp) {
        answer.set_value(resp);
      });
    });
    proto::R3Response resp = answer.get_future().get();
    EXPECT_EQ(resp.code(), proto::R3Response::OK) << resp.error();
    return resp.session();
  }

  std::set<std::string> UsersInSm04() {
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(5000));
    proto::Sm04Reply reply;
    grpc::Status s = admin_->ListUserSessions(&ctx, proto::Empty(), &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::set<std::string> users;
    for (const auto& row : reply.rows()) users.insert(row.user());
    return users;
  }

  // Polls SM04 (the server ends sessions on its own thread) until `want`.
  bool Sm04Becomes(const std::set<std::string>& want) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (UsersInSm04() != want) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
  }

  void EndSecuritySessionOf(const std::string& user) {
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(5000));
    proto::Sm05Reply sm05;
    ASSERT_TRUE(admin_->ListSecuritySessions(&ctx, proto::Empty(), &sm05).ok());
    uint64_t id = 0;
    for (const auto& row : sm05.rows()) {
      if (row.user() == user) id = row.id();
    }
    ASSERT_NE(id, 0u) << user;
    grpc::ClientContext end_ctx;
    end_ctx.set_deadline(DeadlineIn(5000));
    proto::EndSecuritySessionRequest end;
    end.set_id(id);
    proto::Empty empty;
    ASSERT_TRUE(admin_->EndSecuritySession(&end_ctx, end, &empty).ok());
  }

  FakeClock clock_{1000 * kSimSecond};
  testing::LoopThread client_loop_;
  R3 r3_;
  R3 restarted_;  // on r3_'s address, if a test restarts R/3
  std::string address_;
  std::unique_ptr<proto::R3::Stub> admin_;
  std::vector<std::unique_ptr<Client>> clients_;  // client loop thread
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, std::set<uint64_t>> ended_;  // by stream, under mu_
};

TEST_F(R3ServerTest, ABrokenStreamEndsTheSessionsItOwnsAndNoOthers) {
  int a = Connect(), b = Connect();
  uint64_t a1 = Logon(a, "LOAD00001");
  uint64_t a2 = Logon(a, "LOAD00002");
  uint64_t b1 = Logon(b, "LOAD00003");
  ASSERT_NE(a1, 0u);
  ASSERT_NE(a2, 0u);
  ASSERT_NE(b1, 0u);
  EXPECT_EQ(UsersInSm04(),
            (std::set<std::string>{"LOAD00001", "LOAD00002", "LOAD00003"}));

  // The agate behind stream a goes away (its stream is cancelled).
  client_loop_.RunAndWait([&] { clients_[a].reset(); });
  EXPECT_TRUE(Sm04Becomes({"LOAD00003"}));

  // Stream b's session still answers.
  std::promise<proto::R3Response> answer;
  client_loop_.RunAndWait([&] {
    proto::R3Request req;
    req.mutable_step()->set_session(b1);
    req.mutable_step()->set_okcode("/00");
    clients_[b]->Call(std::move(req),
                      [&](proto::R3Response& resp) { answer.set_value(resp); });
  });
  EXPECT_EQ(answer.get_future().get().code(), proto::R3Response::OK);
}

TEST_F(R3ServerTest, SessionsRThreeEndsAreReportedOnTheirOwnStreamOnly) {
  int a = Connect(), b = Connect();
  uint64_t a1 = Logon(a, "LOAD00001");
  uint64_t b1 = Logon(b, "LOAD00002");
  ASSERT_NE(a1, 0u);
  ASSERT_NE(b1, 0u);

  // SM05 ends one user's security session, and with it the user session.
  ASSERT_NO_FATAL_FAILURE(EndSecuritySessionOf("LOAD00001"));
  {
    std::unique_lock<std::mutex> l(mu_);
    ASSERT_TRUE(cv_.wait_for(l, std::chrono::seconds(10),
                             [&] { return ended_[a].count(a1) > 0; }));
  }
  EXPECT_EQ(UsersInSm04(), std::set<std::string>{"LOAD00002"});
  ASSERT_NO_FATAL_FAILURE(EndSecuritySessionOf("LOAD00002"));
  std::unique_lock<std::mutex> l(mu_);
  ASSERT_TRUE(cv_.wait_for(l, std::chrono::seconds(10),
                           [&] { return ended_[b].count(b1) > 0; }));
  EXPECT_EQ(ended_[a], std::set<uint64_t>{a1});
  EXPECT_EQ(ended_[b], std::set<uint64_t>{b1});
}

// A call a slow link holds back (fault delay agate->r3) when the stream
// breaks meanwhile — R/3 crashed and came back on the same address — is
// lost with that stream, as whatever was in flight on it is: not sent to
// the restarted R/3 over the new stream, where a step or logoff could name
// a session number the new R/3 has given to someone else, and a logon
// would create a session its agate had already been told was lost.
TEST_F(R3ServerTest, ACallTheLinkHeldBackIsLostWithItsStreamNotSentToANewR3) {
  int a = Connect();
  ASSERT_NE(Logon(a, "LOAD00001"), 0u);  // the stream is open
  // Shared with the callbacks: they may run after a failed ASSERT returned.
  auto closed = std::make_shared<bool>(false);  // under mu_
  client_loop_.RunAndWait([&] {
    clients_[a]->set_closed_hook([this, closed] {
      std::lock_guard<std::mutex> l(mu_);
      *closed = true;
      cv_.notify_all();
    });
  });
  auto answer = std::make_shared<std::promise<proto::R3Response>>();
  const auto delay = std::chrono::seconds(3);
  const auto sent = std::chrono::steady_clock::now();
  client_loop_.RunAndWait([&] {
    clients_[a]->CallDelayed(
        delay, LogonRequest("LOAD00002"),
        [answer](proto::R3Response& resp) { answer->set_value(resp); });
  });
  r3_.Stop();
  {
    std::unique_lock<std::mutex> l(mu_);
    ASSERT_TRUE(
        cv_.wait_for(l, std::chrono::seconds(10), [&] { return *closed; }));
  }
  ASSERT_NO_FATAL_FAILURE(restarted_.Start(address_, clock_));
  // Else the held call would find no R/3 at all, and prove nothing.
  ASSERT_LT(std::chrono::steady_clock::now() - sent, delay)
      << "the new R/3 was not up before the delay ended";
  auto future = answer->get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)),
            std::future_status::ready);
  proto::R3Response resp = future.get();
  EXPECT_EQ(resp.code(), proto::R3Response::CONNECTION_LOST) << resp.error();
  EXPECT_EQ(UsersInSm04(), std::set<std::string>{});
}

}  // namespace
}  // namespace its::r3
