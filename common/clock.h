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
};

// Steady real time scaled by `time_scale` (simulated seconds per real second).
// Now() starts at the current wall-clock time so log lines look plausible.
class ScaledClock final : public Clock {
 public:
  explicit ScaledClock(double time_scale);
  SimMicros Now() const override;
  std::chrono::microseconds RealDuration(SimMicros sim) const override;
  double time_scale() const { return scale_; }

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

}  // namespace its
