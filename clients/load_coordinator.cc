#include "clients/load_coordinator.h"

#include <grpcpp/grpcpp.h>

#include <asio.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "clients/load_stats_codec.h"
#include "common/cluster_config.h"
#include "common/grpc_util.h"
#include "common/line_config.h"
#include "common/strings.h"
#include "proto/itsload.grpc.pb.h"

namespace its::load {
namespace {

using SystemClock = std::chrono::system_clock;

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
      return "cancelled";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "invalid argument";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "deadline exceeded";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "busy";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "not an itsload worker";
    case grpc::StatusCode::UNAVAILABLE:
      return "unavailable";
    default:
      return Cat("status ", static_cast<int>(code));
  }
}

std::string Describe(const grpc::Status& s) {
  return Cat(s.error_message(), " (", CodeName(s.error_code()), ")");
}

// "" once `channel` is connected, else why it is not by `deadline`.
std::string Connect(grpc::Channel& channel, SystemClock::time_point deadline,
                    double timeout_s) {
  for (;;) {
    grpc_connectivity_state s = channel.GetState(/*try_to_connect=*/true);
    switch (s) {
      case GRPC_CHANNEL_READY:
        return "";
      case GRPC_CHANNEL_TRANSIENT_FAILURE:
        return "cannot connect (nothing listens there, or the host is "
               "unreachable)";
      case GRPC_CHANNEL_SHUTDOWN:
        return "its channel shut down";
      default:
        break;
    }
    if (!channel.WaitForStateChange(s, deadline))
      return Cat("did not answer within ", timeout_s, " s");
  }
}

// One worker's call. Its thread reads the stream; the main thread waits for
// the calls under the coordinator's lock.
struct WorkerCall {
  std::string address;
  int index = 0;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::Worker::Stub> stub;
  grpc::ClientContext context;
  std::thread thread;
  // Under Coordinator::mu_.
  bool accepted = false;
  bool ended = false;  // the call is over
  bool got_result = false;
  std::string error;      // why the call failed ("" if it did not)
  pb::LoadStats figures;  // the parts so far, then all
  std::string aborted;
};

class Coordinator {
 public:
  Coordinator(const Scenario& scenario, const LoadOptions& options,
              const CoordinatorOptions& c)
      : scenario_(scenario), options_(options), c_(c) {}

  RunOutcome Run() {
    RunOutcome out;
    out.workers = static_cast<int>(c_.workers.size());
    for (const std::string& address : c_.workers) {
      std::string host;
      int port = 0;
      if (!ParseHostPort(address, &host, &port).ok() || port == 0) {
        out.error = Cat("--workers: '", address, "' is not HOST:PORT");
        return out;
      }
    }
    auto text = ReadFile(c_.scenario_file);
    if (!text.ok()) {
      out.error = std::string(text.status().message());
      return out;
    }
    // Every worker answers before any starts.
    const auto connect_deadline =
        SystemClock::now() + std::chrono::microseconds(static_cast<int64_t>(
                                 c_.connect_timeout_s * 1e6));
    for (size_t i = 0; i < c_.workers.size(); ++i) {
      auto& call = calls_.emplace_back(std::make_unique<WorkerCall>());
      call->address = c_.workers[i];
      call->index = static_cast<int>(i);
      call->channel = MakeChannel(call->address);
      call->channel->GetState(/*try_to_connect=*/true);
      call->stub = pb::Worker::NewStub(call->channel);
    }
    for (auto& call : calls_) {
      std::string why =
          Connect(*call->channel, connect_deadline, c_.connect_timeout_s);
      if (!why.empty()) {
        out.error = Cat("worker ", call->address, ": ", why);
        return out;
      }
    }
    // They start together, at a moment of the wall clock: the same on every
    // host whose clock is synchronised.
    const auto start =
        SystemClock::now() +
        std::chrono::microseconds(static_cast<int64_t>(c_.start_delay_s * 1e6));
    const double longest = options_.plan.duration_s() +
                           options_.graceful_stop_s + 5 /* logoffs */ + 60;
    const int n = static_cast<int>(calls_.size());
    for (auto& call : calls_) {
      pb::RunRequest r;
      r.set_scenario_text(*text);
      r.set_scenario_name(
          std::filesystem::absolute(c_.scenario_file).lexically_normal());
      r.set_host(options_.host);
      r.set_port(options_.port);
      r.set_open_model(options_.open_model);
      const StagePlan share =
          SharePlan(options_.plan, options_.open_model, call->index, n);
      for (const Stage& s : share.stages()) {
        pb::Stage* ps = r.add_stages();
        ps->set_duration_s(s.duration_s);
        ps->set_target(s.target);
      }
      r.set_think_ms(options_.think_ms);
      r.set_graceful_stop_s(options_.graceful_stop_s);
      r.set_seed(options_.seed + static_cast<uint64_t>(call->index));
      r.set_max_active(
          std::max(1, ShareOf(options_.max_active, call->index, n)));
      r.set_start_unix_us(std::chrono::duration_cast<std::chrono::microseconds>(
                              start.time_since_epoch())
                              .count());
      r.set_index(call->index);
      r.set_workers(n);
      call->context.set_deadline(
          start +
          std::chrono::microseconds(static_cast<int64_t>(longest * 1e6)));
      WorkerCall* c = call.get();
      call->thread =
          std::thread([this, c, r = std::move(r)] { Follow(*c, r); });
    }
    // Each takes the run, or none runs.
    {
      absl::MutexLock l(&mu_);
      auto answered = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        for (const auto& call : calls_) {
          if (!call->accepted && !call->ended) return false;
        }
        return true;
      };
      mu_.AwaitWithTimeout(absl::Condition(&answered),
                           absl::Seconds(c_.connect_timeout_s));
      for (const auto& call : calls_) {
        if (call->accepted) continue;
        out.error = Cat(
            "worker ", call->address, " did not take the run: ",
            call->ended ? call->error
                        : Cat("no answer within ", c_.connect_timeout_s, " s"));
        break;
      }
    }
    if (!out.error.empty()) {
      {
        absl::MutexLock l(&mu_);
        cancelling_ = true;
      }
      for (auto& call : calls_) call->context.TryCancel();
      for (auto& call : calls_) call->thread.join();
      return out;
    }
    for (auto& call : calls_) call->thread.join();
    // The figures of those that ran to the end, merged.
    out.stats = std::make_unique<LoadStats>(scenario_);
    for (auto& call : calls_) {
      if (call->error.empty()) {
        call->figures.set_first_second(0);
        auto stats = LoadStatsCodec::FromProto(call->figures, scenario_);
        if (stats.ok()) {
          out.stats->Merge(*stats);
        } else {
          call->error = Cat("its figures: ", stats.status().message());
        }
      }
      if (!call->error.empty()) {
        out.lost.push_back(Cat(call->address, ": ", call->error));
      } else if (!call->aborted.empty()) {
        // Stopped during the run: its figures until then are in, but its
        // share of the load was not run to the end.
        out.aborted += Cat(out.aborted.empty() ? "" : "; ", "worker ",
                           call->address, ": ", call->aborted);
        out.lost.push_back(Cat(call->address, ": ", call->aborted,
                               " (its figures until then are in)"));
      }
    }
    return out;
  }

 private:
  // A worker's thread: reads its stream to the end.
  void Follow(WorkerCall& c, const pb::RunRequest& request) {
    std::unique_ptr<grpc::ClientReader<pb::RunUpdate>> reader =
        c.stub->Run(&c.context, request);
    pb::RunUpdate u;
    std::string error;
    while (reader->Read(&u)) {
      absl::MutexLock l(&mu_);
      switch (u.update_case()) {
        case pb::RunUpdate::kAccepted:
          c.accepted = true;
          break;
        case pb::RunUpdate::kProgress:
          AddProgress(u.progress());
          break;
        case pb::RunUpdate::kPart:
        case pb::RunUpdate::kResult: {
          const pb::LoadStats& part = u.has_part() ? u.part() : u.result();
          if (part.first_second() != c.figures.timeline_size() ||
              c.got_result) {
            error = "its figures came out of order";
            c.context.TryCancel();
            break;
          }
          c.figures.MergeFrom(part);
          if (u.has_result()) {
            c.got_result = true;
            c.aborted = u.aborted();
          }
          break;
        }
        default:
          break;
      }
    }
    grpc::Status status = reader->Finish();
    absl::MutexLock l(&mu_);
    c.ended = true;
    if (!error.empty()) {
      c.error = error;
    } else if (!status.ok()) {
      c.error = Describe(status);
    } else if (!c.got_result) {
      c.error = "its call ended without its figures";
    }
    if (!c.error.empty() && c.accepted && !cancelling_ && c_.progress) {
      std::cerr << "itsload: lost worker " << c.address << ": " << c.error
                << "\n";
    }
    FlushProgress();
  }

  // A second of a worker's: once every worker still running reported that
  // second, its line.
  void AddProgress(const pb::Progress& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (p.second() < next_second_) return;
    Second& s = seconds_[p.second()];
    ++s.reported;
    s.requests += p.requests();
    s.errors += p.errors();
    s.active += p.active();
    FlushProgress();
  }
  void FlushProgress() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int running = 0;
    for (const auto& call : calls_) running += call->ended ? 0 : 1;
    while (!seconds_.empty() && seconds_.begin()->second.reported >= running) {
      const auto& [n, s] = *seconds_.begin();
      if (c_.progress) {
        std::cerr << fmt::format(
            "t={:>3}s rps={:>7} errors={:<5} active={:<6} workers={}\n", n,
            s.requests, s.errors, s.active, s.reported);
      }
      next_second_ = n + 1;
      seconds_.erase(seconds_.begin());
    }
  }

  struct Second {
    int reported = 0;
    uint64_t requests = 0, errors = 0;
    int64_t active = 0;
  };

  const Scenario& scenario_;
  const LoadOptions& options_;
  const CoordinatorOptions& c_;
  // The vector is filled before any thread starts; the calls' shared fields
  // are under mu_.
  std::vector<std::unique_ptr<WorkerCall>> calls_;
  absl::Mutex mu_;
  std::map<int64_t, Second> seconds_ ABSL_GUARDED_BY(mu_);
  int64_t next_second_ ABSL_GUARDED_BY(mu_) = 1;
  bool cancelling_ ABSL_GUARDED_BY(mu_) = false;  // the run is given up
};

}  // namespace

RunOutcome RunHere(const Scenario& scenario, const LoadOptions& options) {
  asio::io_context io(1);
  LoadEngine engine(io, scenario, options);
  engine.Run();
  RunOutcome out;
  out.stats = std::make_unique<LoadStats>(engine.stats());
  out.aborted = engine.aborted();
  out.stopped_by = engine.stopped_by();
  return out;
}

RunOutcome RunOnWorkers(const Scenario& scenario, const LoadOptions& options,
                        const CoordinatorOptions& coordinator) {
  if (coordinator.workers.empty()) {
    RunOutcome out;
    out.error = "no workers";
    return out;
  }
  return Coordinator(scenario, options, coordinator).Run();
}

int ShareOf(int total, int index, int n) {
  if (n <= 0 || index < 0 || index >= n) return 0;
  return total / n + (index < total % n ? 1 : 0);
}

StagePlan SharePlan(const StagePlan& plan, bool open_model, int index, int n) {
  std::vector<Stage> stages;
  for (const Stage& s : plan.stages()) {
    double target =
        open_model ? s.target / std::max(n, 1)
                   : ShareOf(static_cast<int>(std::lround(s.target)), index, n);
    stages.push_back({s.duration_s, target});
  }
  return StagePlan(std::move(stages));
}

}  // namespace its::load
