#include "clients/load_worker.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <asio.hpp>
#include <cmath>
#include <deque>
#include <exception>
#include <iostream>
#include <memory>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/load_engine.h"
#include "clients/load_stats_codec.h"
#include "clients/scenario.h"
#include "common/grpc_util.h"
#include "common/process.h"
#include "common/strings.h"
#include "proto/itsload.grpc.pb.h"

namespace its::load {
namespace {

// Timeline seconds per result message: ten minutes of a run is a few hundred
// kB, far below gRPC's message limits.
constexpr size_t kSecondsPerPart = 600;

constexpr absl::Duration kLongestWait = absl::Seconds(10);

constexpr char kCoordinatorGone[] =
    "the coordinator cancelled the run (or went away)";

// The stream of one Run call: what the run thread sends, in order, one write
// at a time, then the status. Shared by the call's reactor (gRPC threads)
// and the run thread; the reactor lives until its Finish, this as long as
// either holds it.
class RunStream {
 public:
  explicit RunStream(grpc::ServerWriteReactor<pb::RunUpdate>* reactor)
      : reactor_(reactor) {}

  // Any thread: queues a message (dropped once the coordinator is gone).
  void Push(pb::RunUpdate update) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock l(&mu_);
      if (write_failed_ || finish_pending_) return;
      queue_.push_back(std::move(update));
    }
    Next();
  }
  // Any thread, once, after the last Push: ends the call once the queue is
  // written.
  void Finish(grpc::Status status) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock l(&mu_);
      if (finish_pending_) return;
      finish_pending_ = true;
      status_ = std::move(status);
    }
    Next();
  }
  // The coordinator cancelled the call or went away, or the worker stops:
  // `why` (the first reason given) ends the run.
  void Cancel(const std::string& why) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    if (!cancelled_) why_ = why;
    cancelled_ = true;
  }
  // Why the run is cancelled; "" if it is not.
  std::string cancelled() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    return why_;
  }
  // Waits until `deadline`; true if cancelled before (or meanwhile).
  bool CancelledBefore(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    return mu_.AwaitWithDeadline(absl::Condition(&cancelled_), deadline);
  }
  // The reactor's: a write is done.
  void WriteDone(bool ok) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock l(&mu_);
      writing_ = false;
      if (!ok) {  // the call is over for the other side
        write_failed_ = true;
        if (!cancelled_) why_ = kCoordinatorGone;
        cancelled_ = true;
        queue_.clear();
      }
    }
    Next();
  }

 private:
  // Starts the next write, or the finish, unless one is in progress. gRPC is
  // called outside the lock: a reaction may run on this thread.
  void Next() ABSL_LOCKS_EXCLUDED(mu_) {
    const pb::RunUpdate* write = nullptr;
    bool finish = false;
    grpc::Status status;
    {
      absl::MutexLock l(&mu_);
      if (writing_ || finished_) return;
      if (!queue_.empty()) {
        current_ = std::move(queue_.front());
        queue_.pop_front();
        writing_ = true;
        write = &current_;
      } else if (finish_pending_) {
        finished_ = true;
        finish = true;
        status = status_;
      }
    }
    // No Finish while a write is in progress, so the reactor is alive here;
    // after Finish nothing touches it.
    if (write != nullptr) {
      reactor_->StartWrite(write);
    } else if (finish) {
      reactor_->Finish(status);
    }
  }

  grpc::ServerWriteReactor<pb::RunUpdate>* const reactor_;
  mutable absl::Mutex mu_;
  std::deque<pb::RunUpdate> queue_ ABSL_GUARDED_BY(mu_);
  pb::RunUpdate current_;  // the message being written (writing_)
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::string why_ ABSL_GUARDED_BY(mu_);
  bool finish_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// The reactor of one Run call: hands gRPC's reactions to its RunStream.
class RunReactor final : public grpc::ServerWriteReactor<pb::RunUpdate> {
 public:
  RunReactor() : stream_(std::make_shared<RunStream>(this)) {}
  const std::shared_ptr<RunStream>& stream() const { return stream_; }

  void OnWriteDone(bool ok) override { stream_->WriteDone(ok); }
  void OnCancel() override { stream_->Cancel(kCoordinatorGone); }
  void OnDone() override { delete this; }

 private:
  std::shared_ptr<RunStream> stream_;
};

// Why a Run request cannot run ("" if it can).
std::string CheckRequest(const pb::RunRequest& r) {
  asio::error_code ec;
  asio::ip::make_address(r.host(), ec);
  if (ec)
    return Cat("the wgate host must be an IP address, got '", r.host(), "'");
  if (r.port() <= 0 || r.port() > 65535) return Cat("bad port ", r.port());
  if (r.stages_size() == 0) return "no stages";
  double total = 0;
  for (const pb::Stage& s : r.stages()) {
    if (!std::isfinite(s.duration_s()) || !std::isfinite(s.target()) ||
        s.duration_s() < 0 || s.target() < 0 || s.target() > 1e7) {
      return "a stage with a negative or infinite duration, or a target "
             "beyond 0..10,000,000";
    }
    total += s.duration_s();
  }
  if (total <= 0 || total > 86400 * 2) return "the stages last 0 s or > 2 d";
  if (!(r.graceful_stop_s() >= 0 && r.graceful_stop_s() <= 3600))
    return "graceful stop beyond 0..3600 s";
  if (!(r.think_ms() <= 3.6e6)) return "think time beyond an hour";
  if (r.max_active() < 1) return "max_active below 1";
  return "";
}

class Worker final : public pb::Worker::CallbackService {
 public:
  explicit Worker(bool quiet) : quiet_(quiet), thread_([this] { Loop(); }) {}
  ~Worker() override {
    Stop();
    thread_.join();
  }

  // gRPC thread: takes the run if none is in progress, and returns at once.
  grpc::ServerWriteReactor<pb::RunUpdate>* Run(
      grpc::CallbackServerContext* context,
      const pb::RunRequest* request) override {
    auto* reactor = new RunReactor();
    auto refuse = [&](grpc::StatusCode code, const std::string& why) {
      reactor->stream()->Finish(grpc::Status(code, why));
      return reactor;
    };
    if (std::string why = CheckRequest(*request); !why.empty())
      return refuse(grpc::StatusCode::INVALID_ARGUMENT, why);
    auto scenario =
        Scenario::Parse(request->scenario_text(), request->scenario_name());
    if (!scenario.ok()) {
      return refuse(grpc::StatusCode::INVALID_ARGUMENT,
                    std::string(scenario.status().message()));
    }
    auto job = std::make_shared<Job>(Job{*request, std::move(*scenario),
                                         reactor->stream(), context->peer()});
    {
      absl::MutexLock l(&mu_);
      if (stopping_) {
        return refuse(grpc::StatusCode::UNAVAILABLE, "the worker is stopping");
      }
      if (job_ != nullptr) {
        return refuse(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      Cat("this worker is busy with a run for ", job_->peer,
                          " (it runs one at a time)"));
      }
      job_ = job;
      job->number = ++runs_;
    }
    pb::RunUpdate accepted;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    accepted.mutable_accepted()->set_worker(Cat(host, " pid ", getpid()));
    job->stream->Push(std::move(accepted));
    return reactor;
  }

  // Any thread: no more runs; the one in progress is cut short.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    stopping_ = true;
    if (job_ != nullptr) job_->stream->Cancel("the worker was stopped");
  }

 private:
  struct Job {
    pb::RunRequest request;
    Scenario scenario;
    std::shared_ptr<RunStream> stream;
    std::string peer;
    int number = 0;
  };

  // The run thread: one job after the other, until Stop().
  void Loop() ABSL_LOCKS_EXCLUDED(mu_) {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        absl::MutexLock l(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || (job_ != nullptr && !job_taken_);
        };
        mu_.Await(absl::Condition(&ready));
        if (job_ == nullptr || job_taken_) return;  // stopping, no job
        job = job_;
        job_taken_ = true;
      }
      try {
        Execute(*job);
      } catch (const std::exception& e) {
        job->stream->Finish(grpc::Status(grpc::StatusCode::INTERNAL,
                                         Cat("the run failed: ", e.what())));
      }
      absl::MutexLock l(&mu_);
      job_ = nullptr;
      job_taken_ = false;
      if (stopping_) return;
    }
  }

  void Log(const std::string& line) const {
    if (!quiet_) std::cerr << "itsload worker: " << line << "\n";
  }

  // The run thread: waits for the start, runs the engine, sends the figures.
  void Execute(Job& job) {
    const pb::RunRequest& r = job.request;
    absl::Time start = absl::FromUnixMicros(r.start_unix_us());
    // Coordinators start their workers within a second or so; a start much
    // later means clocks that differ, not a plan to wait.
    if (start - absl::Now() > kLongestWait) {
      Log(
          fmt::format("run {}: the start is {:.1f} s away: are the clocks of "
                      "this host and {} synchronised? Starting in {} s",
                      job.number, absl::ToDoubleSeconds(start - absl::Now()),
                      job.peer, absl::ToInt64Seconds(kLongestWait)));
      start = absl::Now() + kLongestWait;
    }
    std::vector<Stage> stages;
    for (const pb::Stage& s : r.stages())
      stages.push_back({s.duration_s(), s.target()});
    LoadOptions o;
    o.host = r.host();
    o.port = r.port();
    o.open_model = r.open_model();
    o.plan = StagePlan(std::move(stages));
    o.graceful_stop_s = r.graceful_stop_s();
    o.think_ms = r.think_ms();
    o.max_active = r.max_active();
    o.seed = r.seed();
    o.progress = false;
    Log(fmt::format(
        "run {} for {} (worker {} of {}): up to {} {} for {} s, starts in "
        "{:.2f} s",
        job.number, job.peer, r.index() + 1, r.workers(), o.plan.max_target(),
        r.open_model() ? "journeys/s" : "users", o.plan.duration_s(),
        absl::ToDoubleSeconds(start - absl::Now())));
    if (job.stream->CancelledBefore(start)) {
      Log(fmt::format("run {} cancelled before its start", job.number));
      job.stream->Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                                      "cancelled before the start"));
      return;
    }
    // Every second: that second's figures to the coordinator; a cancelled
    // call ends the run as an abort does (open journeys logged off).
    uint64_t requests = 0, errors = 0;
    o.monitor = [&](const LoadStats& stats, double elapsed_s,
                    std::string* abort) -> std::string {
      LoadStats::Figures f;
      stats.Select("", "", &f);
      pb::RunUpdate u;
      pb::Progress* p = u.mutable_progress();
      p->set_second(std::llround(elapsed_s));
      p->set_requests(f.stats.requests - requests);
      p->set_errors(f.stats.errors - errors);
      p->set_active(static_cast<int64_t>(f.journeys.started) -
                    static_cast<int64_t>(f.journeys.completed +
                                         f.journeys.failed +
                                         f.journeys.interrupted));
      requests = f.stats.requests;
      errors = f.stats.errors;
      job.stream->Push(std::move(u));
      *abort = job.stream->cancelled();
      return "";
    };
    asio::io_context io(1);
    LoadEngine engine(io, job.scenario, o);
    engine.Run();
    const LoadStats& stats = engine.stats();
    std::vector<pb::LoadStats> parts =
        LoadStatsCodec::ToParts(stats, kSecondsPerPart);
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      pb::RunUpdate u;
      u.mutable_part()->Swap(&parts[i]);
      job.stream->Push(std::move(u));
    }
    pb::RunUpdate last;
    last.mutable_result()->Swap(&parts.back());
    last.set_aborted(engine.aborted());
    job.stream->Push(std::move(last));
    // Said before the call ends: once it has, the coordinator may be gone.
    LoadStats::Figures all;
    stats.Select("", "", &all);
    Log(fmt::format(
        "run {} done: {} requests, {} errors in {:.1f} s{}", job.number,
        all.stats.requests, all.stats.errors, stats.elapsed_s(),
        engine.aborted().empty() ? "" : "; aborted: " + engine.aborted()));
    job.stream->Finish(grpc::Status::OK);
  }

  const bool quiet_;
  absl::Mutex mu_;
  std::shared_ptr<Job> job_ ABSL_GUARDED_BY(mu_);  // waiting or running
  bool job_taken_ ABSL_GUARDED_BY(mu_) = false;    // by the run thread
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int runs_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;  // last: starts once the rest is there
};

}  // namespace

int RunWorker(const std::string& listen, bool quiet) {
  Worker worker(quiet);
  std::string bound;
  auto server = StartGrpcServer(listen, {&worker}, &bound);
  if (!server.ok()) {
    std::cerr << "itsload: " << server.status().message() << "\n";
    return 2;
  }
  std::cout << "itsload worker listening on " << bound << std::endl;
  asio::io_context io(1);
  RunUntilSignal(io, [&] {
    // The run in progress ends as an abort would (its journeys logged off:
    // a few seconds at most); then the server's calls are done.
    worker.Stop();
    (*server)->Shutdown(DeadlineIn(30000));
  });
  return 0;
}

}  // namespace its::load
