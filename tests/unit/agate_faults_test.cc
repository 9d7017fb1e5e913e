// How an AGate process ends sessions when time runs out or R/3 goes away,
// with fake time and a fake R/3, no sockets, no sleeps.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "agate/agate_process.h"
#include "common/clock.h"
#include "common/gusid.h"
#include "common/its_protocol.h"
#include "common/metrics_http.h"
#include "common/service_file.h"
#include "common/strings.h"

namespace its::agate {
namespace {

// Records every call; the test answers them when it likes.
class FakeR3 final : public R3Link {
 public:
  struct Pending {
    proto::R3Request request;
    Done done;
  };
  void Call(proto::R3Request request, Done done) override {
    calls.push_back(Pending{std::move(request), std::move(done)});
  }
  // Answers call `i` (in the order made).
  void Answer(size_t i, proto::R3Response resp) {
    ASSERT_LT(i, calls.size());
    ASSERT_TRUE(calls[i].done) << "answered twice";
    auto done = std::move(calls[i].done);
    calls[i].done = nullptr;
    done(resp);
  }
  std::vector<uint64_t> Logoffs() const {
    std::vector<uint64_t> out;
    for (const auto& c : calls)
      if (c.request.has_logoff()) out.push_back(c.request.logoff().session());
    return out;
  }
  std::vector<Pending> calls;
};

proto::R3Response LoggedOn(uint64_t session) {
  proto::R3Response r;
  r.set_session(session);
  r.mutable_screen()->set_tcode("FB03");
  r.mutable_screen()->set_title("Display Document");
  return r;
}

class AgateFaults : public ::testing::Test {
 protected:
  AgateFaults()
      : services_(*ServiceCatalog::Load(std::string(ITS_SOURCE_DIR) +
                                        "/deploy/config/services")) {}

  void MakeProcess(int work_threads, const std::string& access_log = "",
                   SimMicros r3_pool_keep = 0, SimMicros unclaimed_grace = 0) {
    AGateOptions o;
    o.r3_pool_keep = r3_pool_keep;
    o.unclaimed_grace = unclaimed_grace;
    o.instance = "IT1";
    o.process = 0;
    o.incarnation = 1;
    o.work_threads = work_threads;
    o.access_log = access_log;
    process_.emplace(
        o, clock_,
        [this](std::function<void()> fn) {
          deferred_.push_back(std::move(fn));
        },
        services_, r3_);
  }

  // Runs what the process deferred (the loop's end of burst).
  void RunDeferred() {
    while (!deferred_.empty()) {
      auto fn = std::move(deferred_.front());
      deferred_.pop_front();
      fn();
    }
  }

  // Sends a request; the returned index names its answer in replies_.
  size_t Send(proto::AGateRequest::Kind kind, const std::string& session,
              std::vector<std::pair<std::string, std::string>> params) {
    proto::AGateRequest req;
    req.set_kind(kind);
    req.set_service("webgui");
    req.set_session(session);
    Params parsed;
    for (auto& [n, v] : params) {
      auto* p = req.add_params();
      p->set_name(n);
      p->set_value(v);
      parsed.Set(n, v);
    }
    req.set_command(ParseSessionCommand(parsed));  // as the wgate does
    size_t index = replies_.size();
    replies_.emplace_back();
    process_->Handle(req, [this, index](proto::AGateResponse&& r) {
      EXPECT_FALSE(replies_[index].has_value()) << "answered twice";
      replies_[index] = std::move(r);
    });
    return index;
  }

  // Logs a user on with ~timeout 1 (minute); returns the GUSID.
  std::string LogOn(
      uint64_t r3_session,
      std::vector<std::pair<std::string, std::string>> extra = {}) {
    size_t calls = r3_.calls.size();
    std::vector<std::pair<std::string, std::string>> params = {
        {"~client", "100"},
        {"~login", "DEMO"},
        {"~password", "welcome"},
        {"~transaction", "FB03"},
        {"~timeout", "1"}};
    params.insert(params.end(), extra.begin(), extra.end());
    size_t i = Send(proto::AGateRequest::START, "", params);
    EXPECT_EQ(r3_.calls.size(), calls + 1);
    r3_.Answer(calls, LoggedOn(r3_session));
    EXPECT_TRUE(replies_[i].has_value());
    EXPECT_EQ(replies_[i]->outcome(), proto::SESSION_STARTED);
    return replies_[i]->set_session();
  }

  size_t Step(const std::string& gusid) {
    return Send(proto::AGateRequest::STEP, gusid,
                {{"~okcode", "/00"}, {"RF05L-BELNR", "1"}});
  }

  FakeClock clock_{1'000 * kSimSecond};
  ServiceCatalog services_;
  FakeR3 r3_;
  std::deque<std::function<void()>> deferred_;
  std::optional<AGateProcess> process_;
  std::vector<std::optional<proto::AGateResponse>> replies_;
};

TEST_F(AgateFaults,
       ABusySessionEndsAtItsTimeoutAndEveryWaitingRequestIsAnswered) {
  MakeProcess(/*work_threads=*/4);
  std::string gusid = LogOn(77);
  size_t at_r3 = Step(gusid);   // with R/3
  size_t queued = Step(gusid);  // a double submit, queued behind it
  ASSERT_EQ(r3_.calls.size(), 2u);
  EXPECT_FALSE(replies_[at_r3].has_value());
  EXPECT_FALSE(replies_[queued].has_value());

  clock_.Advance(61 * kSimSecond);  // ~timeout 1 passed
  process_->Tick();
  EXPECT_EQ(r3_.Logoffs(), std::vector<uint64_t>{77})
      << "R/3 logoff at the timeout";
  RunDeferred();
  ASSERT_TRUE(replies_[queued].has_value()) << "the queued request is answered";
  EXPECT_EQ(replies_[queued]->outcome(), proto::SESSION_ENDED);
  EXPECT_NE(replies_[queued]->body().find("Session timed out"),
            std::string::npos);
  EXPECT_TRUE(replies_[queued]->clear_session());

  // R/3's late answer to the step finds the session ended.
  proto::R3Response step;
  step.set_session(77);
  r3_.Answer(1, step);
  ASSERT_TRUE(replies_[at_r3].has_value());
  EXPECT_EQ(replies_[at_r3]->outcome(), proto::SESSION_ENDED);
  EXPECT_NE(replies_[at_r3]->body().find("Session timed out"),
            std::string::npos);
  EXPECT_EQ(process_->Load().sessions(), 0);
}

TEST_F(AgateFaults, ASessionQueuedForAWorkThreadEndsAtItsTimeout) {
  MakeProcess(/*work_threads=*/1);
  std::string a = LogOn(1);
  std::string b = LogOn(2);
  size_t step_a = Step(a);  // holds the only work thread
  size_t step_b = Step(b);  // waits for it
  ASSERT_EQ(r3_.calls.size(), 3u) << "b's step must not reach R/3 yet";

  clock_.Advance(61 * kSimSecond);
  process_->Tick();
  auto logoffs = r3_.Logoffs();
  std::sort(logoffs.begin(), logoffs.end());
  EXPECT_EQ(logoffs, (std::vector<uint64_t>{1, 2}));
  RunDeferred();
  r3_.Answer(2, LoggedOn(1));  // a's step comes back; the thread goes to b
  RunDeferred();
  ASSERT_TRUE(replies_[step_a].has_value());
  ASSERT_TRUE(replies_[step_b].has_value());
  EXPECT_EQ(replies_[step_b]->outcome(), proto::SESSION_ENDED);
  for (const auto& c : r3_.calls) {
    EXPECT_FALSE(c.request.has_step() && c.request.step().session() == 2)
        << "an ended session's step must not go to R/3";
  }
  EXPECT_EQ(process_->busy_threads(), 0);
}

TEST_F(AgateFaults, AnIdleSessionEndsAtItsTimeoutWithItsLogoff) {
  MakeProcess(4);
  std::string gusid = LogOn(5);
  clock_.Advance(59 * kSimSecond);
  process_->Tick();
  EXPECT_TRUE(r3_.Logoffs().empty()) << "not yet";
  clock_.Advance(2 * kSimSecond);
  process_->Tick();
  EXPECT_EQ(r3_.Logoffs(), std::vector<uint64_t>{5});
  size_t i = Step(gusid);
  ASSERT_TRUE(replies_[i].has_value());
  EXPECT_EQ(replies_[i]->outcome(), proto::SESSION_ENDED);
}

// ~userTimeout keeps the logon data after a timeout only (for
// ~serviceRestart): the agate's ~timeout or R/3's idle limit. A closed window
// (USR_ABORT), a logoff or an R/3 end that is no timeout (SM05, displacement)
// keeps just the end page, for a simulated hour. `itsadm sessions` shows when
// each record goes.
TEST_F(AgateFaults, OnlyATimeoutKeepsTheLogonDataForUserTimeout) {
  MakeProcess(4);
  const std::vector<std::pair<std::string, std::string>> two_hours = {
      {"~userTimeout", "2"}};
  std::string aborted = LogOn(61, two_hours);
  std::string logged_off = LogOn(62, two_hours);
  std::string timed_out = LogOn(63, two_hours);
  LogOn(64, two_hours);
  LogOn(65, two_hours);
  Send(proto::AGateRequest::TERMINATE, aborted,
       {{"~SAPSessionCmd", "USR_ABORT"}});
  Send(proto::AGateRequest::STEP, logged_off, {{"~command", "logoff"}});
  proto::R3Down down;
  auto* sm05 = down.add_ended();
  sm05->set_session(64);
  sm05->set_reason("security session ended (SM05)");
  auto* idle = down.add_ended();
  idle->set_session(65);
  idle->set_reason("R/3 session timed out (idle longer than 120 s)");
  idle->set_timeout(true);
  process_->R3Ended(down);
  clock_.Advance(30 * kSimSecond);
  Step(timed_out);
  r3_.Answer(r3_.calls.size() - 1, LoggedOn(63));
  clock_.Advance(61 * kSimSecond);
  process_->Tick();
  std::map<std::string, int> states;
  const proto::SessionsReply list = process_->ListSessions();
  ASSERT_EQ(list.rows_size(), 5);
  for (const auto& row : list.rows()) ++states[row.state()];
  EXPECT_EQ(states["aborted"], 1);
  EXPECT_EQ(states["logged_off"], 1);
  EXPECT_EQ(states["timed_out"], 1);
  EXPECT_EQ(states["ended"], 2);
  for (const auto& row : list.rows()) {
    const std::string& s = row.state();
    if (s == "aborted" || s == "logged_off") {
      EXPECT_DOUBLE_EQ(row.expires_in_s(), 3600 - 91) << s;
    } else if (s == "timed_out") {
      EXPECT_NEAR(row.expires_in_s(), 7200, 1);
    }
  }
  // The two R/3 ends, told apart by how long their records stay.
  std::vector<double> ended;
  for (const auto& row : list.rows())
    if (row.state() == "ended") ended.push_back(row.expires_in_s());
  std::sort(ended.begin(), ended.end());
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_DOUBLE_EQ(ended[0], 3600 - 91);  // SM05: no logon data kept
  EXPECT_DOUBLE_EQ(ended[1], 7200 - 91);  // R/3's idle limit: kept 2 h
}

TEST_F(AgateFaults, ABrokenR3ConnectionEndsEverySessionAndSaysSo) {
  MakeProcess(4);
  std::string a = LogOn(1);
  std::string b = LogOn(2);
  size_t in_flight = Step(a);
  process_->R3ConnectionLost();
  // R/3 ends the sessions of a broken stream itself: no logoff to send.
  EXPECT_TRUE(r3_.Logoffs().empty());
  proto::R3Response lost = R3Failure(R3Client::Failure::kConnectionLost);
  r3_.Answer(2, lost);
  ASSERT_TRUE(replies_[in_flight].has_value());
  EXPECT_NE(replies_[in_flight]->body().find(
                "connection to the R/3 system was broken"),
            std::string::npos)
      << replies_[in_flight]->body();
  size_t next = Step(b);
  ASSERT_TRUE(replies_[next].has_value());
  EXPECT_EQ(replies_[next]->outcome(), proto::SESSION_ENDED);
  EXPECT_NE(
      replies_[next]->body().find("connection to the R/3 system was broken"),
      std::string::npos);
  EXPECT_EQ(replies_[next]->body().find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(process_->Load().sessions(), 0);
}

TEST_F(AgateFaults, AStepR3DidNotAnswerInTimeKeepsTheSession) {
  MakeProcess(4);
  std::string a = LogOn(1);
  size_t slow = Step(a);
  r3_.Answer(1, R3Failure(R3Client::Failure::kDeadline));
  ASSERT_TRUE(replies_[slow].has_value());
  EXPECT_EQ(replies_[slow]->outcome(), proto::R3_TIMEOUT);
  EXPECT_FALSE(replies_[slow]->clear_session());
  EXPECT_TRUE(r3_.Logoffs().empty());
  size_t next = Step(a);  // the session is still there
  ASSERT_EQ(r3_.calls.size(), 3u);
  r3_.Answer(2, LoggedOn(1));
  ASSERT_TRUE(replies_[next].has_value());
  EXPECT_EQ(replies_[next]->outcome(), proto::PAGE);
}

TEST_F(AgateFaults, ALogonAnsweredAfterItsDeadlineIsLoggedOffAgain) {
  MakeProcess(4);
  size_t i =
      Send(proto::AGateRequest::START, "",
           {{"~client", "100"}, {"~login", "DEMO"}, {"~password", "welcome"}});
  r3_.Answer(0, R3Failure(R3Client::Failure::kDeadline));
  ASSERT_TRUE(replies_[i].has_value());
  EXPECT_EQ(replies_[i]->outcome(), proto::R3_TIMEOUT);
  process_->LateR3Answer(LoggedOn(42));  // R/3 logged the user on after all
  EXPECT_EQ(r3_.Logoffs(), std::vector<uint64_t>{42});
  std::string held = LogOn(43);
  process_->LateR3Answer(LoggedOn(43));  // a late step answer of a live session
  EXPECT_EQ(r3_.Logoffs(), std::vector<uint64_t>{42});
  proto::R3Response logged_off;  // a logoff's answer, late: nothing more
  logged_off.set_session(44);
  process_->LateR3Answer(logged_off);
  EXPECT_EQ(r3_.Logoffs(), std::vector<uint64_t>{42});
}

// A session command for another process's session (a balancer without
// affinity, routing "naive") ends nothing, and the receiving process says so
// in the access log: entry type 'm', the owner and the receiver.
TEST_F(AgateFaults, AMisroutedSessionCommandIsLoggedAndEndsNothing) {
  std::string log = ::testing::TempDir() + "/misrouted-access.log";
  std::filesystem::remove(log);
  MakeProcess(4, log);
  std::string mine = LogOn(51);
  Gusid other{"IT2", "localhost", 1, (1u << 24) | 1, ""};
  size_t i = Send(proto::AGateRequest::TERMINATE, other.PublicId(),
                  {{"~SAPSessionCmd", "USR_ABORT"}});
  ASSERT_TRUE(replies_[i].has_value());
  EXPECT_EQ(replies_[i]->outcome(), proto::SESSION_NOT_FOUND);
  EXPECT_TRUE(r3_.Logoffs().empty()) << "nothing ended";
  size_t step = Step(mine);  // this process's own session goes on
  EXPECT_FALSE(replies_[step].has_value()) << "with R/3";
  process_->Tick();  // flushes the access log
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::string lines = text.str();
  EXPECT_NE(lines.find("\nm "), std::string::npos) << lines;
  EXPECT_NE(lines.find("IT2-A:localhost:0001.01000001 session command "
                       "misrouted: owner IT2/1, received by IT1/0 (pid "),
            std::string::npos)
      << lines;
  EXPECT_NE(lines.find("nothing ended"), std::string::npos);
  std::filesystem::remove(log);
}

// The connection pool (seed 000): a logoff or ~timeout returns the R/3
// connection to the pool - reset with "/n" (transaction ended, locks
// released), not logged off - and it is logged off once kept long enough.
TEST_F(AgateFaults, APooledConnectionIsResetAndLoggedOffWhenKeptLongEnough) {
  MakeProcess(4, "", 60 * kSimSecond);
  std::string gusid = LogOn(71);
  size_t calls = r3_.calls.size();
  size_t i = Send(proto::AGateRequest::STEP, gusid, {{"~command", "logoff"}});
  ASSERT_TRUE(replies_[i].has_value());
  EXPECT_EQ(replies_[i]->outcome(), proto::LOGGED_OFF);
  ASSERT_EQ(r3_.calls.size(), calls + 1);
  ASSERT_TRUE(r3_.calls[calls].request.has_step());
  EXPECT_EQ(r3_.calls[calls].request.step().session(), 71u);
  EXPECT_EQ(r3_.calls[calls].request.step().okcode(), "/n");
  EXPECT_TRUE(r3_.Logoffs().empty()) << "kept in the pool";
  process_->LateR3Answer(LoggedOn(71));  // the reset answered late
  EXPECT_TRUE(r3_.Logoffs().empty()) << "a pooled session is held";
  clock_.Advance(59 * kSimSecond);
  process_->Tick();
  EXPECT_TRUE(r3_.Logoffs().empty()) << "not yet";
  clock_.Advance(2 * kSimSecond);
  process_->Tick();
  EXPECT_EQ(r3_.Logoffs(), std::vector<uint64_t>{71});
  process_->Tick();
  EXPECT_EQ(r3_.Logoffs(), std::vector<uint64_t>{71}) << "once";
}

TEST_F(AgateFaults, APooledConnectionR3EndedFirstIsNotLoggedOff) {
  MakeProcess(4, "", 60 * kSimSecond);
  LogOn(72);
  clock_.Advance(61 * kSimSecond);  // ~timeout 1 minute
  process_->Tick();
  EXPECT_TRUE(r3_.Logoffs().empty()) << "timed out into the pool";
  proto::R3Down down;
  auto* ended = down.add_ended();
  ended->set_session(72);
  ended->set_reason("rdisp/plugin_auto_logout");
  process_->R3Ended(down);
  clock_.Advance(61 * kSimSecond);
  process_->Tick();
  EXPECT_TRUE(r3_.Logoffs().empty());
}

// R/3 answers a logon after its processing time but pushes the ends of
// sessions at once: an SM05 end can overtake the logon's answer (found by
// tests/fuzz/session_fuzz.cc). The logon fails; no session is started on an
// R/3 session that no longer exists, and nothing is logged off.
TEST_F(AgateFaults, AnR3EndThatOvertakesItsLogonsAnswerFailsTheLogon) {
  MakeProcess(4);
  size_t i = Send(proto::AGateRequest::START, "",
                  {{"~client", "100"},
                   {"~login", "DEMO"},
                   {"~password", "welcome"},
                   {"~transaction", "FB03"}});
  ASSERT_EQ(r3_.calls.size(), 1u);
  proto::R3Down down;
  auto* ended = down.add_ended();
  ended->set_session(74);
  ended->set_reason("security session ended (SM05)");
  process_->R3Ended(down);
  r3_.Answer(0, LoggedOn(74));
  ASSERT_TRUE(replies_[i].has_value());
  EXPECT_EQ(replies_[i]->outcome(), proto::LOGON_REFUSED);
  EXPECT_NE(replies_[i]->body().find("security session ended (SM05)"),
            std::string::npos);
  EXPECT_EQ(process_->Load().sessions(), 0);
  EXPECT_TRUE(r3_.Logoffs().empty());
  // The next logon with that user works as ever.
  LogOn(75);
}

// The wgate's stream closed before it said whether these new sessions
// reached their browsers (docs/faults.md, "Unclaimed sessions").
TEST_F(AgateFaults, UnclaimedSessionsOfAClosedStreamWaitForTheirBrowser) {
  // A grace well within the sessions' ~timeout (1 minute).
  MakeProcess(4, "", 0, /*unclaimed_grace=*/20 * kSimSecond);
  std::string comes = LogOn(81);
  std::string never = LogOn(82);
  std::string stepped = LogOn(83);
  Step(stepped);  // its browser had it before the crash
  r3_.Answer(r3_.calls.size() - 1, LoggedOn(83));
  auto public_id = [](const std::string& gusid) {
    return ParseGusid(gusid)->PublicId();
  };
  using U = AGateProcess::Unclaimed;
  for (const std::string& g : {comes, never, stepped})
    process_->EndUnclaimed(public_id(g), U::kStreamClosed);
  EXPECT_TRUE(r3_.Logoffs().empty()) << "nobody ends before the grace";

  clock_.Advance(10 * kSimSecond);
  Step(comes);  // its browser comes back within the grace
  r3_.Answer(r3_.calls.size() - 1, LoggedOn(81));
  process_->Tick();
  EXPECT_TRUE(r3_.Logoffs().empty());

  clock_.Advance(11 * kSimSecond);
  process_->Tick();
  EXPECT_EQ(r3_.Logoffs(), std::vector<uint64_t>{82})
      << "only the session nobody came with ends, with its R/3 session";
  EXPECT_EQ(process_->Load().sessions(), 2);
}

TEST_F(AgateFaults, WithoutAGraceAnUnclaimedSessionEndsWhenItsStreamCloses) {
  MakeProcess(4);  // unclaimed_grace 0
  std::string gusid = LogOn(87);
  process_->EndUnclaimed(ParseGusid(gusid)->PublicId(),
                         AGateProcess::Unclaimed::kStreamClosed);
  EXPECT_EQ(r3_.Logoffs(), std::vector<uint64_t>{87});
}

TEST_F(AgateFaults, AnUndeliveredOrStreamlessNewSessionEndsAtOnce) {
  MakeProcess(4, "", 0, /*unclaimed_grace=*/60 * kSimSecond);
  std::string undelivered = LogOn(84);
  std::string streamless = LogOn(85);
  process_->EndUnclaimed(ParseGusid(undelivered)->PublicId(),
                         AGateProcess::Unclaimed::kNotDelivered);
  process_->EndUnclaimed(ParseGusid(streamless)->PublicId(),
                         AGateProcess::Unclaimed::kNoStream);
  EXPECT_EQ(r3_.Logoffs(), (std::vector<uint64_t>{84, 85}));
  // A word on another process's session, or a forged one, ends nothing.
  std::string kept = LogOn(86);
  Gusid other = *ParseGusid(kept);
  other.process = 7;
  process_->EndUnclaimed(other.PublicId(),
                         AGateProcess::Unclaimed::kNotDelivered);
  process_->EndUnclaimed("IT1-A:127.0.0.1:0000.zz",
                         AGateProcess::Unclaimed::kNotDelivered);
  EXPECT_EQ(r3_.Logoffs(), (std::vector<uint64_t>{84, 85}));
  EXPECT_EQ(process_->Load().sessions(), 1);
}

TEST_F(AgateFaults, WithoutAPoolTheConnectionIsLoggedOffAtOnce) {
  MakeProcess(4);
  std::string gusid = LogOn(73);
  Send(proto::AGateRequest::STEP, gusid, {{"~command", "logoff"}});
  EXPECT_EQ(r3_.Logoffs(), std::vector<uint64_t>{73});
}

}  // namespace
}  // namespace its::agate

namespace its::agate {
namespace {

// Every way a session ends is counted once, by its reason, and a step's
// turnaround lands in the histogram (agate/agate_metrics.h).
TEST_F(AgateFaults, EveryEndIsCountedByItsReason) {
  MakeProcess(4);
  prometheus::Registry registry;
  AgateMetrics metrics(registry, {{"instance", "IT1"}}, 1000, 4, 1);
  process_->set_metrics(&metrics);
  std::string timed_out = LogOn(1), nex = LogOn(2), aborted = LogOn(3),
              logoff = LogOn(4), r3_ended = LogOn(5), lost = LogOn(6);
  size_t step = Step(nex);
  clock_.Advance(2 * kSimSecond);
  r3_.Answer(r3_.calls.size() - 1, LoggedOn(2));
  ASSERT_TRUE(replies_[step].has_value());
  Send(proto::AGateRequest::STEP, nex, {{"~okcode", "/nex"}});
  Send(proto::AGateRequest::STEP, aborted, {{"~SAPSessionCmd", "USR_ABORT"}});
  Send(proto::AGateRequest::STEP, logoff, {{"~command", "logoff"}});
  proto::R3Down down;
  down.add_ended()->set_session(5);
  process_->R3Ended(down);
  clock_.Advance(30 * kSimSecond);
  size_t touch = Step(lost);  // `lost` stays young
  r3_.Answer(r3_.calls.size() - 1, LoggedOn(6));
  ASSERT_TRUE(replies_[touch].has_value());
  clock_.Advance(29 * kSimSecond);  // timed_out's ~timeout (1 min) passes
  process_->Tick();
  process_->R3ConnectionLost();  // ends the last one, `lost`
  Send(proto::AGateRequest::STEP, "IT1-A:x:0000.01000099.00", {});  // unknown
  RunDeferred();
  std::string t = MetricsHttpServer::Exposition(registry);
  for (const char* reason :
       {"timeout", "nex", "terminated", "logoff", "r3_ended", "r3_lost"}) {
    EXPECT_NE(t.find(Cat("its_agate_session_ends_total{instance=\"IT1\","
                         "reason=\"",
                         reason, "\"} 1\n")),
              std::string::npos)
        << reason << "\n"
        << t;
  }
  EXPECT_NE(t.find("its_agate_session_starts_total{instance=\"IT1\"} 6\n"),
            std::string::npos);
  EXPECT_NE(
      t.find("its_agate_step_seconds_bucket{instance=\"IT1\",le=\"1\"} 1\n"),
      std::string::npos)
      << t;
  EXPECT_NE(
      t.find("its_agate_step_seconds_bucket{instance=\"IT1\",le=\"2.5\"} 2\n"),
      std::string::npos);
  EXPECT_NE(t.find("its_agate_errors_total{instance=\"IT1\",kind=\"session_"
                   "not_found\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace its::agate
