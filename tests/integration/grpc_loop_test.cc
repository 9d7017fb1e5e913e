// GrpcLoop and the batched streams on it (common/grpc_loop.h,
// common/async_stream.h, common/dialog_client.h): real gRPC over loopback in
// one test process, no sleeps — every wait is for a condition.
#include "common/grpc_loop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/async_stream.h"
#include "common/dialog_client.h"
#include "common/grpc_util.h"
#include "common/strings.h"
#include "proto/its.grpc.pb.h"
#include "tests/integration/loop_thread.h"

namespace its {
namespace {

using testing::LoopThread;

// Waits (bounded) until pred() holds; pred is read under `mu`.
template <typename Pred>
bool WaitUntil(std::mutex& mu, std::condition_variable& cv, Pred pred) {
  std::unique_lock<std::mutex> l(mu);
  return cv.wait_for(l, std::chrono::seconds(10), pred);
}

// For state another process-side thread changes without notifying: polls.
template <typename Pred>
bool Eventually(Pred pred) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST(GrpcLoop, PostedWorkRunsOnTheLoopThreadInOrderAndDeferredWorkAfterIt) {
  LoopThread t;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> order;
  std::vector<bool> on_loop;
  auto note = [&](const std::string& what) {
    std::lock_guard<std::mutex> l(mu);
    order.push_back(what);
    on_loop.push_back(std::this_thread::get_id() == t.id());
    cv.notify_all();
  };
  // Both posts are queued before the loop runs: they arrive in one wake-up,
  // and what A defers runs once nothing else is ready.
  t.loop().Post([&] {
    note("A");
    t.loop().Defer([&] { note("deferred by A"); });
  });
  t.loop().Post([&] { note("B"); });
  t.Start();
  ASSERT_TRUE(WaitUntil(mu, cv, [&] { return order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<std::string>{"A", "B", "deferred by A"}));
  EXPECT_EQ(on_loop, (std::vector<bool>{true, true, true}));
}

TEST(GrpcLoop, TimersFireCancelledTimersDoNotAndReArmingReplaces) {
  LoopThread t;
  t.Start();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> fired;
  auto fire = [&](const std::string& what) {
    std::lock_guard<std::mutex> l(mu);
    fired.push_back(what);
    cv.notify_all();
  };
  GrpcLoop::Timer cancelled(t.loop()), replaced(t.loop());
  t.loop().Post([&] {
    cancelled.Arm(std::chrono::milliseconds(1), [&] { fire("cancelled"); });
    cancelled.Cancel();
    replaced.Arm(std::chrono::milliseconds(1), [&] { fire("first arm"); });
    replaced.Arm(std::chrono::milliseconds(2), [&] { fire("second arm"); });
    // Fires after both timers' deadlines: by then they had their chance.
    t.loop().After(std::chrono::milliseconds(30), [&] { fire("after"); });
  });
  ASSERT_TRUE(WaitUntil(mu, cv, [&] {
    return std::find(fired.begin(), fired.end(), "after") != fired.end();
  }));
  EXPECT_EQ(fired, (std::vector<std::string>{"second arm", "after"}));
}

TEST(GrpcLoop, ShutdownEndsRunWithTimersPendingAndDropsLaterPosts) {
  LoopThread t;
  t.Start();
  std::atomic<bool> ran{false};
  GrpcLoop::Timer far(t.loop());
  std::promise<void> armed;
  t.loop().Post([&] {
    far.Arm(std::chrono::hours(1), [&] { ran = true; });
    armed.set_value();
  });
  armed.get_future().wait();
  t.Stop();  // returns although an hour-long timer was pending
  t.loop().Post([&] { ran = true; });  // after the end: dropped, not run
  EXPECT_FALSE(ran);
}

// An R/3-shaped echo server on a loop: answers every request of a batch in
// the same burst and counts the batches it received.
class EchoServer {
 public:
  explicit EchoServer(bool answer) : answer_(answer) {}
  ~EchoServer() { Stop(); }

  std::string Start() {
    std::string bound;
    auto server =
        StartGrpcServer("127.0.0.1:0", {&service_}, &bound, &loop_.loop());
    EXPECT_TRUE(server.ok());
    server_ = std::move(*server);
    ServeStreams<proto::R3Up, proto::R3Down>::Start(
        loop_.loop(),
        [this](grpc::ServerContext* ctx, auto* stream, void* tag) {
          service_.RequestDialog(ctx, stream, loop_.loop().cq(),
                                 loop_.loop().server_cq(), tag);
        },
        [this](const AsyncServerStream<proto::R3Up, proto::R3Down>::Ptr& stream,
               proto::R3Up& up) {
          batches_++;
          requests_ += up.requests_size();
          if (!answer_) return;
          for (const auto& req : up.requests()) {
            stream->Send([&](proto::R3Down& down) {
              auto* r = down.add_responses();
              r->set_id(req.id());
              r->set_error(req.step().okcode());  // echo
            });
          }
        });
    loop_.Start();
    return bound;
  }
  void Stop() {
    if (!server_) return;
    server_->Shutdown(DeadlineIn(0));
    loop_.Stop();
    server_.reset();
  }
  int batches() const { return batches_; }
  int requests() const { return requests_; }

 private:
  bool answer_;
  proto::R3::AsyncService service_;
  LoopThread loop_;
  std::unique_ptr<GrpcServer> server_;
  std::atomic<int> batches_{0}, requests_{0};
};

using Client = DialogClient<proto::R3, proto::R3Up, proto::R3Down>;

proto::R3Response Refused(Client::Failure why) {
  proto::R3Response r;
  r.set_code(proto::R3Response::REFUSED);
  r.set_error(why == Client::Failure::kDeadline ? "deadline" : "lost");
  return r;
}

// A DialogClient on a loop of its own, as the agate and the wgate use it.
class BatchedStream : public ::testing::Test {
 protected:
  void SetUp() override { client_loop_.Start(); }
  void TearDown() override {
    client_loop_.RunAndWait([&] { client_.reset(); });
  }
  // Connects to `address` and makes `n` calls in one burst; `answer(i, resp)`
  // runs under mu_ for each response.
  void CallInOneBurst(const std::string& address, int n,
                      std::function<void(int, proto::R3Response&)> answer,
                      std::chrono::milliseconds timeout = {},
                      size_t field_bytes = 0) {
    client_loop_.RunAndWait([&] {
      client_ = std::make_unique<Client>(client_loop_.loop(), address, Refused,
                                         timeout);
      for (int i = 0; i < n; ++i) {
        proto::R3Request req;
        req.mutable_step()->set_okcode(Cat("/", i));
        if (field_bytes > 0)
          (*req.mutable_step()->mutable_fields())["F"] =
              std::string(field_bytes, 'x');
        client_->Call(std::move(req),
                      [this, i, answer](proto::R3Response& resp) {
                        std::lock_guard<std::mutex> l(mu_);
                        answer(i, resp);
                        cv_.notify_all();
                      });
      }
    });
  }

  LoopThread client_loop_;
  std::unique_ptr<Client> client_;
  std::mutex mu_;
  std::condition_variable cv_;
};

TEST_F(BatchedStream, ManyCallsInOneBurstShareAMessageAndEachGetsItsOwnAnswer) {
  EchoServer server(/*answer=*/true);
  std::vector<std::string> answers(200);
  int answered = 0;
  CallInOneBurst(server.Start(), 200, [&](int i, proto::R3Response& resp) {
    answers[i] = resp.error();
    ++answered;
  });
  ASSERT_TRUE(WaitUntil(mu_, cv_, [&] { return answered == 200; }));
  for (int i = 0; i < 200; ++i) EXPECT_EQ(answers[i], Cat("/", i)) << i;
  EXPECT_EQ(server.requests(), 200);
  EXPECT_LE(server.batches(), 2)
      << "one burst of calls should leave in one message";
}

// 80 calls of 1 MiB in one burst: more than a message may carry (64 MiB);
// the batches stay under the cap and the stream carries them all.
TEST_F(BatchedStream, ABurstLargerThanAMessageMayBeLeavesInSeveralBatches) {
  EchoServer server(/*answer=*/true);
  int answered = 0, refused = 0;
  CallInOneBurst(
      server.Start(), 80,
      [&](int, proto::R3Response& resp) {
        ++answered;
        refused += resp.code() == proto::R3Response::REFUSED;
      },
      {}, size_t{1} << 20);
  ASSERT_TRUE(WaitUntil(mu_, cv_, [&] { return answered == 80; }));
  EXPECT_EQ(refused, 0);
  EXPECT_EQ(server.requests(), 80);
  EXPECT_GE(server.batches(), 10);  // at most 8 MiB each
}

TEST_F(BatchedStream, CallsInFlightFailWhenThePeerGoesAway) {
  EchoServer server(/*answer=*/false);
  std::vector<proto::R3Response> failed;
  CallInOneBurst(server.Start(), 3,
                 [&](int, proto::R3Response& resp) { failed.push_back(resp); });
  // The server has them (and never answers); then it goes away.
  ASSERT_TRUE(Eventually([&] { return server.requests() == 3; }));
  server.Stop();
  ASSERT_TRUE(WaitUntil(mu_, cv_, [&] { return failed.size() == 3; }));
  for (const auto& r : failed) {
    EXPECT_EQ(r.code(), proto::R3Response::REFUSED);
    EXPECT_NE(r.error().find("lost"), std::string::npos) << r.error();
  }
}

TEST_F(BatchedStream,
       CallsUnansweredWithinTheTimeoutFailWithoutBreakingTheStream) {
  EchoServer server(/*answer=*/false);
  std::vector<proto::R3Response> failed;
  auto begin = std::chrono::steady_clock::now();
  CallInOneBurst(
      server.Start(), 3,
      [&](int, proto::R3Response& resp) { failed.push_back(resp); },
      std::chrono::milliseconds(200));
  ASSERT_TRUE(WaitUntil(mu_, cv_, [&] { return failed.size() == 3; }));
  auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_GE(took, std::chrono::milliseconds(200));
  for (const auto& r : failed) EXPECT_EQ(r.error(), "deadline");
  // The stream is still the same: a new call reaches the server on it.
  client_loop_.RunAndWait([&] {
    proto::R3Request req;
    client_->Call(std::move(req), [](proto::R3Response&) {});
  });
  EXPECT_TRUE(Eventually([&] { return server.requests() == 4; }));
}

}  // namespace
}  // namespace its
