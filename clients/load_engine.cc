#include "clients/load_engine.h"

#include <sys/resource.h>

#include <csignal>
#include <iostream>

namespace its::load {
namespace {

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

LoadEngine::LoadEngine(asio::io_context& io, const Scenario& scenario,
                       const LoadOptions& options)
    : io_(io),
      scenario_(scenario),
      options_(options),
      rng_(options.seed),
      stats_(scenario),
      journeys_(scenario_, options_, rng_, stats_),
      tick_(io),
      arrivals_(io),
      plan_(io),
      drain_(io),
      signals_(io, SIGINT, SIGTERM) {}

LoadEngine::~LoadEngine() = default;

double LoadEngine::Elapsed(Clock::time_point t) const {
  return std::chrono::duration<double>(t - stats_.start()).count();
}

std::shared_ptr<VirtualUser> LoadEngine::NewUser(bool open_model) {
  auto vu = std::make_shared<VirtualUser>();
  vu->open_model = open_model;
  vu->conn = std::make_shared<LoadConnection>(io_, endpoint_);
  vu->timer = std::make_unique<asio::steady_timer>(io_);
  if (!open_model) vu->backoff = Backoff(options_.backoff);
  return vu;
}

void LoadEngine::ScheduleArrival() {
  // Arrivals at the plan's rate over time: a Poisson process at the highest
  // rate, each arrival kept with the probability rate(t) / highest (thinning;
  // at a constant rate every one is kept, no draw spent).
  const StagePlan& plan = options_.plan;
  const double most = plan.max_target();
  if (most <= 0) return;
  for (;;) {
    double gap_s = std::exponential_distribution<double>(most)(rng_);
    next_arrival_ +=
        std::chrono::microseconds(static_cast<int64_t>(gap_s * 1e6));
    if (next_arrival_ >= end_) return;
    double rate = plan.Target(Elapsed(next_arrival_));
    if (rate >= most ||
        std::uniform_real_distribution<double>(0, most)(rng_) < rate) {
      break;
    }
  }
  arrivals_.expires_at(next_arrival_);
  arrivals_.async_wait([this](const asio::error_code& ec) {
    if (ec || phase_ != kRunning) return;
    Clock::time_point intended =
        next_arrival_;  // the arrival, even if we are late
    if (journeys_.active() >= options_.max_active) {
      stats_.JourneyDropped();
    } else {
      journeys_.Start(NewUser(/*open_model=*/true), intended);
    }
    ScheduleArrival();
  });
}

void LoadEngine::FollowPlan() {
  const double t = Elapsed(Clock::now());
  SetUsers(options_.plan.Users(t));
  const double next = options_.plan.NextUsersChange(t);
  if (next >= options_.plan.duration_s()) return;  // held to the end
  plan_.expires_at(stats_.start() +
                   std::chrono::microseconds(static_cast<int64_t>(next * 1e6)));
  plan_.async_wait([this](const asio::error_code& ec) {
    if (!ec && phase_ == kRunning) FollowPlan();
  });
}

void LoadEngine::SetUsers(int n) {
  const size_t want = static_cast<size_t>(std::max(n, 0));
  while (live_ < want) {
    if (live_ == users_.size()) users_.push_back(NewUser(/*open_model=*/false));
    const auto& vu = users_[live_++];
    vu->retire = false;  // if still in its last journey, it goes on
    if (!vu->looping) {
      vu->looping = true;
      journeys_.StartAfter(vu, 0);
    }
  }
  // Fewer: the last ones stop after the journey they are in.
  while (live_ > want) users_[--live_]->retire = true;
}

void LoadEngine::Tick() {
  ++ticks_;
  tick_.expires_at(stats_.start() + std::chrono::seconds(ticks_));
  tick_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    const double t = static_cast<double>(ticks_);
    double target = -1;
    if (phase_ == kRunning) {
      target = options_.open_model ? options_.plan.Target(t)
                                   : options_.plan.Users(t);
    }
    std::string line = stats_.EndOfSecond(ticks_, journeys_.active(), target);
    seconds_ended_ = ticks_;
    if (options_.monitor) {
      std::string abort;
      std::string more = options_.monitor(stats_, t, &abort);
      if (!more.empty()) line.insert(line.size() - 1, " " + more);
      if (!abort.empty() && phase_ == kRunning) {
        aborted_ = abort;
        Finish();
      }
    }
    if (options_.progress) std::cerr << line;
    if (phase_ != kDone) Tick();
  });
}

void LoadEngine::Finish() {
  if (phase_ != kRunning) return;
  phase_ = kGraceful;
  journeys_.StopStarting();
  arrivals_.cancel();
  plan_.cancel();
  // Users between journeys (backing off) start no other.
  for (const auto& vu : users_) {
    if (!vu->in_journey) vu->timer->cancel();
  }
  // An abort does not wait: the journeys are cut short at once.
  drain_deadline_ =
      Clock::now() + (aborted_.empty()
                          ? std::chrono::microseconds(static_cast<int64_t>(
                                options_.graceful_stop_s * 1e6))
                          : std::chrono::microseconds(0));
  Drain();
}

void LoadEngine::Drain() {
  if (journeys_.active() == 0 && journeys_.in_flight() == 0) {
    Done();
    return;
  }
  if (Clock::now() >= drain_deadline_) {
    if (phase_ != kGraceful) {  // logoffs that never came back
      Done();
      return;
    }
    phase_ = kInterrupting;
    journeys_.Interrupt();
    drain_deadline_ = Clock::now() + std::chrono::seconds(5);
  }
  drain_.expires_after(std::chrono::milliseconds(10));
  drain_.async_wait([this](const asio::error_code& ec) {
    if (!ec) Drain();
  });
}

void LoadEngine::WaitForSignal() {
  signals_.async_wait([this](const asio::error_code& ec, int signo) {
    if (ec) return;
    if (stopped_by_.empty())
      stopped_by_ = signo == SIGINT ? "SIGINT" : "SIGTERM";
    switch (phase_) {
      case kRunning:
        Finish();
        break;
      case kGraceful:
        drain_deadline_ = Clock::now();  // the next Drain cuts them short
        break;
      case kInterrupting:
        Done();
        return;
      case kDone:
        return;
    }
    WaitForSignal();
  });
}

void LoadEngine::Done() {
  phase_ = kDone;
  signals_.cancel();
  tick_.cancel();
  drain_.cancel();
  // Requests that never came back are failures with the latency they had
  // reached; their journeys were interrupted.
  journeys_.AbandonInFlight();
  // The second in progress, as far as it went.
  if (Elapsed(Clock::now()) > static_cast<double>(seconds_ended_)) {
    stats_.EndOfSecond(seconds_ended_ + 1, journeys_.active(), -1);
  }
  for (const auto& vu : users_) vu->conn->Close();
  io_.stop();
}

void LoadEngine::Run() {
  stats_.Start(Clock::now());
  end_ = stats_.start() + std::chrono::microseconds(static_cast<int64_t>(
                              options_.plan.duration_s() * 1e6));
  double cpu0 = CpuSeconds();
  endpoint_ = asio::ip::tcp::endpoint(asio::ip::make_address(options_.host),
                                      static_cast<uint16_t>(options_.port));
  if (options_.open_model) {
    next_arrival_ = stats_.start();
    ScheduleArrival();
  } else {
    FollowPlan();
  }
  drain_.expires_at(end_);
  drain_.async_wait([this](const asio::error_code& ec) {
    if (!ec) Finish();
  });
  if (options_.handle_signals) WaitForSignal();
  Tick();
  io_.run();
  double wall_s =
      std::chrono::duration<double>(Clock::now() - stats_.start()).count();
  stats_.Finished(wall_s, CpuSeconds() - cpu0);
}

}  // namespace its::load
