#pragma once

#include <unistd.h>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "agate/access_log.h"
#include "agate/agate_metrics.h"
#include "agate/r3_client.h"
#include "agate/session_ids.h"
#include "agate/session_table.h"
#include "agate/work_threads.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/service_file.h"
#include "common/strings.h"
#include "common/trace.h"
#include "proto/its.pb.h"

namespace its::agate {

struct AGateOptions {
  std::string instance = "IT1";
  int process = 0;           // process number (slot) in the instance
  uint32_t incarnation = 0;  // how often that slot was started
  int max_sessions = 1000;
  int work_threads = 8;            // as [[agate_instance]] work_threads
  std::string host = "127.0.0.1";  // AGate host part of the GUSID (--advertise)
  std::string access_log;  // path of the instance's access.log ("" = none)
  std::vector<std::string>
      exit_url_hosts;  // hosts an absolute ~exitURL may name
  // How long an R/3 connection stays in this process's connection pool after
  // its session was logged off, aborted or timed out (seed 000): the R/3
  // user session is reset (transaction ended, locks released) but not logged
  // off, so SM04 shows it as a reference until then. 0: logged off at once.
  SimMicros r3_pool_keep = 0;
  // Where the 128-bit random parts of session IDs and SISP termination
  // tokens come from: 32 lower-case hex digits a call. NewSessionRandom
  // (the OS CSPRNG) unless set; tests and fuzzing set a replayable one.
  std::function<std::string()> random;
  // How long a new session whose wgate went before confirming it waits for
  // a request from its browser (EndUnclaimed, kStreamClosed); 0: ended at
  // once. [agate] unclaimed_grace_s in simulated time.
  SimMicros unclaimed_grace = 0;
};

// One AGate process: session contexts, dialog steps against R/3, expiry.
// Everything here runs on the process's logic (GrpcLoop) thread. Its member
// functions live in three files, one job each: agate_process.cc (lookup and
// dispatch, R/3 events, listing, load), logon.cc (Start, Tombstone) and
// session_steps.cc (Step, EndSession, EndPage, RunNextWaiting, Tick).
class AGateProcess {
 public:
  using Reply = std::function<void(proto::AGateResponse&&)>;
  // Runs work later on the logic thread, after the current event (the
  // loop's Defer).
  using Defer = std::function<void(std::function<void()>)>;

  AGateProcess(const AGateOptions& options, const Clock& clock, Defer defer,
               const ServiceCatalog& services, R3Link& r3);

  // Handles one request from a wgate; calls `reply` exactly once.
  void Handle(proto::AGateRequest& request, Reply reply);
  // Expires sessions whose ~timeout passed and flushes the access log
  // (called by a periodic timer).
  // Returns false while more sessions are due: call again at once.
  bool Tick();

  // From the R/3 stream: sessions R/3 ended on its own (pushed).
  void R3Ended(const proto::R3Down& down);
  // The R/3 stream broke: R/3 ends the sessions logged on over it, so do we.
  void R3ConnectionLost();
  // An answer R/3 gave after its call's deadline: a logon that succeeded
  // after all is logged off again, so no R/3 session is left behind.
  void LateR3Answer(const proto::R3Response& resp);

  // Tracing (docs/architecture.md §7.1). BeginSpan records step 4 of a
  // traced request as it arrives and makes it the parent of the request's
  // R/3 call (req.parent_span); EndSpan finishes it with the answer.
  struct SpanRef {
    size_t index = 0;
    uint64_t id = 0;  // 0: not traced
  };
  SpanRef BeginSpan(proto::AGateRequest& req);
  void EndSpan(SpanRef ref, const proto::AGateResponse& resp);

  // A new session its browser may never have received, so that nobody
  // would ever present its ID; `session_public`: the response's. Instead of
  // holding its R/3 session and locks until ~timeout it is logged off:
  // - kNoStream: its answer found no stream back to its wgate (crashed, or
  //   the stream broke, while the logon ran): now;
  // - kNotDelivered: the wgate said the browser did not get it (gone, or
  //   the answer came after the wgate's deadline): now;
  // - kStreamClosed: the wgate's stream closed before it said whether the
  //   browser got it (it crashed in between, maybe right after the browser
  //   had it): after unclaimed_grace unless a request comes with it first.
  enum class Unclaimed { kNoStream, kNotDelivered, kStreamClosed };
  void EndUnclaimed(const std::string& session_public, Unclaimed why);
  // A wgate says the browser of `session_public` has it: no closed stream
  // ends it as unclaimed.
  void Claim(const std::string& session_public);
  proto::TraceReply Trace(const proto::TraceQuery& query) const;

  proto::SessionsReply ListSessions() const;
  proto::LoadReport Load();

  int busy_threads() const { return threads_.busy(); }
  // The process's metrics (none in unit tests that do not ask).
  void set_metrics(AgateMetrics* metrics) { metrics_ = metrics; }

 private:
  // `previous`: kept logon data of a timed-out session (~serviceRestart).
  void Start(proto::AGateRequest& req, const Reply& reply,
             std::shared_ptr<const SessionContext> previous = nullptr);
  void Step(SessionContext& s, proto::AGateRequest& req, const Reply& reply);
  void Tombstone(SessionContext& s, proto::AGateRequest& req,
                 const Reply& reply);
  // Ends an active session: R/3 logoff (unless R/3 ended it already), the
  // tombstone, and every request queued behind it gets the end page.
  // `client_ip` and `trace` name the request that ended it, if one did (the
  // access-log line and the R/3 logoff carry them; `parent_span` is this
  // process's span of that request). True if R/3 was called (step 5).
  bool EndSession(SessionContext& s, SessionContext::State why,
                  const std::string& reason, std::string_view client_ip = "-",
                  TraceId trace = {}, uint64_t parent_span = 0);
  // The page for a request of a session that has ended (no restart).
  proto::AGateResponse EndPage(const SessionContext& s) const;
  void RunNextWaiting(SessionContext& s);
  // The connection pool (AGateOptions::r3_pool_keep): keeps `r3_session`
  // after its session ended; ClosePooled() logs off what was kept long enough.
  void KeepInPool(uint64_t r3_session, TraceId trace = {},
                  uint64_t parent_span = 0);
  void ClosePooled();

  proto::AGateResponse Response(proto::Outcome outcome, std::string body) const;
  proto::AGateResponse Message(proto::Outcome outcome, const std::string& title,
                               const std::string& text, bool clear_cookie,
                               const std::string& extra_html = "") const;
  const std::string& AgateName() const;  // instance/process/PID
  // ClockText of now, formatted once per simulated second (every page
  // shows it).
  const std::string& ClockNow();
  // 32 hex digits from options_.random (or the OS CSPRNG).
  std::string NewRandom() const {
    return options_.random ? options_.random() : NewSessionRandom();
  }
  // Real seconds since `started` (simulated time), for the histograms.
  double RealSecondsSince(SimMicros started) const {
    return static_cast<double>(clock_.Now() - started) / kSimSecond /
           clock_.time_scale();
  }

  AGateOptions options_;
  const int pid_ = getpid();  // getpid(2) is a system call every time
  const std::string agate_name_ =
      Cat(options_.instance, "/", options_.process, "/", pid_);
  const Clock& clock_;
  Defer defer_;
  const ServiceCatalog& services_;
  R3Link& r3_;
  const SessionIds ids_;  // the one builder of this process's session IDs
  SessionTable table_;
  // Sessions left unclaimed by a closed stream, oldest first (one grace
  // for all: FIFO is deadline order).
  struct Orphan {
    uint32_t slot;
    std::array<char, kGusidRandomHex> random;  // which session of the slot
    SimMicros deadline;
  };
  std::deque<Orphan> orphans_;
  // Ends at most kExpiryBudget due orphans; false while more are due.
  bool EndOrphans();
  // The session (any state) this process's public ID names, or nullptr.
  SessionContext* FindByPublicId(const std::string& session_public);
  // Logs off a new session nobody received; `how` says how it was lost.
  void EndLost(SessionContext& s, std::string_view how);
  WorkThreads threads_;
  uint64_t requests_ = 0;
  uint64_t starts_ =
      0;  // START requests received (the Mapping Manager's assignments)
  std::unordered_map<uint64_t, uint32_t> by_r3_session_;  // R/3 session -> slot
  // Pooled R/3 sessions, and when each is closed (in that order: the keep
  // time is the same for all). R/3 may end one first (pushed).
  std::unordered_set<uint64_t> pooled_;
  std::deque<std::pair<SimMicros, uint64_t>> pool_closes_;
  // R/3 sessions R/3 ended before this process knew them: an end pushed
  // while the logon's answer was still on its way (R/3 answers after its
  // processing time, pushes at once). The logon then fails instead of
  // starting a session R/3 no longer has. The last kEndedUnknownKept only
  // (most are sessions this process ended itself meanwhile).
  static constexpr size_t kEndedUnknownKept = 256;
  std::unordered_map<uint64_t, std::string> ended_unknown_;  // -> reason
  std::deque<uint64_t> ended_unknown_order_;
  AccessLogWriter access_;  // this process's lines of the access.log
  SpanStore spans_;
  AgateMetrics* metrics_ = nullptr;
  int64_t clock_second_ = -1;
  std::string clock_text_;
};

}  // namespace its::agate
