#include "common/clock.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <ctime>

namespace its {

SimMicros SimulatedTime(int64_t epoch_s, double time_scale, SimMicros real) {
  if (epoch_s <= 0) return real;
  SimMicros epoch = epoch_s * kSimSecond;
  return epoch + static_cast<SimMicros>(std::llround(
                     static_cast<double>(real - epoch) * time_scale));
}

ScaledClock::ScaledClock(double time_scale, int64_t epoch_s)
    : scale_(time_scale > 0 ? time_scale : 1.0),
      start_(std::chrono::steady_clock::now()),
      start_sim_(
          SimulatedTime(epoch_s, scale_,
                        std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count())) {}

SimMicros ScaledClock::Now() const {
  auto real = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start_)
                  .count();
  return start_sim_ + static_cast<SimMicros>(std::llround(real * scale_));
}

std::chrono::microseconds ScaledClock::RealDuration(SimMicros sim) const {
  return std::chrono::microseconds(
      static_cast<int64_t>(std::ceil(static_cast<double>(sim) / scale_)));
}

std::string FormatTimeOfDay(SimMicros t) {
  int64_t s = t / kSimSecond;
  if (s < 0) s = 0;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d",
                static_cast<int>((s / 3600) % 24),
                static_cast<int>((s / 60) % 60), static_cast<int>(s % 60));
  return buf;
}

std::string FormatDateTime(SimMicros t) {
  time_t secs = static_cast<time_t>(t / kSimSecond);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d/%02d/%02d %02d:%02d:%02d.%03d",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>((t / 1000) % 1000));
  return buf;
}

std::string ClockText(SimMicros t, double time_scale) {
  return fmt::format("{} UTC (time scale {:g})",
                     FormatDateTime(t).substr(0, 19), time_scale);
}

}  // namespace its
