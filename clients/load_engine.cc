#include "clients/load_engine.h"

#include <sys/resource.h>

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
      journeys_(scenario_, options_, rng_, stats_),
      tick_(io),
      arrivals_(io),
      drain_(io) {}

LoadEngine::~LoadEngine() = default;

std::shared_ptr<VirtualUser> LoadEngine::NewUser(bool open_model) {
  auto vu = std::make_shared<VirtualUser>();
  vu->open_model = open_model;
  vu->conn = std::make_shared<LoadConnection>(io_, endpoint_);
  vu->timer = std::make_unique<asio::steady_timer>(io_);
  if (!open_model) vu->backoff = Backoff(options_.backoff);
  return vu;
}

void LoadEngine::ScheduleArrival() {
  double gap_s = std::exponential_distribution<double>(options_.rate)(rng_);
  next_arrival_ += std::chrono::microseconds(static_cast<int64_t>(gap_s * 1e6));
  arrivals_.expires_at(next_arrival_);
  arrivals_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopping_) return;
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

void LoadEngine::Tick() {
  ++ticks_;
  tick_.expires_at(stats_.start() + std::chrono::seconds(ticks_));
  tick_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    std::string line = stats_.EndOfSecond(ticks_, journeys_.active());
    if (options_.progress) std::cerr << line;
    if (Clock::now() >= stats_.end()) {
      Finish();
      return;
    }
    Tick();
  });
}

void LoadEngine::Finish() {
  stopping_ = true;
  journeys_.Stop();
  arrivals_.cancel();
  for (auto& vu : users_) vu->timer->cancel();
  drain_deadline_ =
      Clock::now() + std::chrono::seconds(5);  // for requests in flight
  Drain();
}

void LoadEngine::Drain() {
  if (journeys_.in_flight() == 0 || Clock::now() > drain_deadline_) {
    for (auto& vu : users_) vu->conn->Close();
    io_.stop();
    return;
  }
  drain_.expires_after(std::chrono::milliseconds(10));
  drain_.async_wait([this](const asio::error_code&) { Drain(); });
}

void LoadEngine::Run() {
  stats_.Start(Clock::now(), options_.duration_s);
  double cpu0 = CpuSeconds();
  endpoint_ = asio::ip::tcp::endpoint(asio::ip::make_address(options_.host),
                                      static_cast<uint16_t>(options_.port));
  if (options_.rate > 0) {
    next_arrival_ = stats_.start();
    ScheduleArrival();
  } else {
    for (int i = 0; i < options_.users; ++i) {
      auto vu = NewUser(/*open_model=*/false);
      users_.push_back(vu);
      double delay_ms = options_.users > 1
                            ? options_.ramp_up_s * 1000.0 * i / options_.users
                            : 0;
      journeys_.StartAfter(vu, delay_ms);
    }
  }
  Tick();
  io_.run();
  double wall_s =
      std::chrono::duration<double>(Clock::now() - stats_.start()).count();
  stats_.Finished(wall_s, CpuSeconds() - cpu0);
}

nlohmann::json LoadEngine::Report() const {
  return stats_.Report(scenario_.name, options_.rate > 0, options_.users,
                       options_.rate, options_.duration_s);
}

}  // namespace its::load
