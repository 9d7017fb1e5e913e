#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace its {

// Simulated time in microseconds since an arbitrary epoch. All timeouts of the
// simulator (~timeout, ~userTimeout, R/3 timeouts) are measured in this time.
using SimMicros = int64_t;

constexpr SimMicros kSimSecond = 1'000'000;
constexpr SimMicros kSimMinute = 60 * kSimSecond;
constexpr SimMicros kSimHour = 60 * kSimMinute;

// Source of simulated time. Production code never reads a system clock
// directly; it asks a Clock, so tests can drive time by hand.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual SimMicros Now() const = 0;
  // Real duration that corresponds to `sim` simulated microseconds.
  virtual std::chrono::microseconds RealDuration(SimMicros sim) const = 0;
  // Simulated seconds per real second.
  virtual double time_scale() const { return 1.0; }
};

// The simulated time at real (Unix) time `real`, when simulated time runs
// `time_scale` times as fast as real time and equals it at `epoch_s` (Unix
// seconds): epoch + (real - epoch) x time_scale. Every process of a cluster
// that uses the same epoch shows the same time (cluster.toml sim_epoch).
SimMicros SimulatedTime(int64_t epoch_s, double time_scale, SimMicros real);

// Steady real time scaled by `time_scale` (simulated seconds per real second).
// Now() starts at SimulatedTime(epoch_s, ...) of the current wall-clock time,
// so the processes of one cluster agree; with `epoch_s` 0 at the current
// wall-clock time itself (each process then has its own simulated time
// unless time_scale is 1).
class ScaledClock final : public Clock {
 public:
  explicit ScaledClock(double time_scale, int64_t epoch_s = 0);
  SimMicros Now() const override;
  std::chrono::microseconds RealDuration(SimMicros sim) const override;
  double time_scale() const override { return scale_; }

 private:
  double scale_;
  std::chrono::steady_clock::time_point start_;
  SimMicros start_sim_;
};

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(SimMicros start = 0) : now_(start) {}
  SimMicros Now() const override { return now_.load(); }
  std::chrono::microseconds RealDuration(SimMicros sim) const override {
    return std::chrono::microseconds(sim);
  }
  void Advance(SimMicros d) { now_ += d; }
  void Set(SimMicros t) { now_ = t; }

 private:
  std::atomic<SimMicros> now_;
};

// "HH:MM:SS" of a simulated time (UTC).
std::string FormatTimeOfDay(SimMicros t);
// "YYYY/MM/DD HH:MM:SS.mmm" of a simulated time (UTC), as ITS logs write it.
std::string FormatDateTime(SimMicros t);
// "2026/11/22 10:15:04 UTC (time scale 60)": what pages and itsadm show.
std::string ClockText(SimMicros t, double time_scale);

}  // namespace its
