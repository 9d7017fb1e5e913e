#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "common/strings.h"  // fmt support for absl::string_view

namespace its {

// Structured-enough logging: every line names the component and its PID.
// Logs go to stderr; level from ITS_LOG_LEVEL (trace..off), default info.
void InitLogging(const std::string& component);

// Lines of one kind at most `per_second` a second. At training rates every
// event keeps its line; a load test's thousands a second do not cost a write
// (a system call: stderr is unbuffered and flushed per line) each. What was
// left out is counted, for the caller to report in one line: with the first
// line of a later second, or from a timer (LeftOut) when no line comes.
// Pure logic: the caller passes the time.
class LogBudget {
 public:
  using Time = std::chrono::steady_clock::time_point;
  explicit LogBudget(int per_second) : per_second_(per_second) {}

  // True if a line may be written at `now`. *left_out: how many lines were
  // left out in earlier seconds and not reported yet (then reported: 0 the
  // next time).
  bool Take(Time now, int64_t* left_out) {
    *left_out = 0;
    if (!started_ || now - window_ >= std::chrono::seconds(1)) {
      started_ = true;
      window_ = now;
      used_ = 0;
      *left_out = left_out_;
      left_out_ = 0;
    }
    if (used_ < per_second_) {
      ++used_;
      return true;
    }
    ++left_out_;
    return false;
  }

  // What was left out in seconds that are over, not reported yet (then
  // reported: 0 the next time). For a timer: after a burst no further
  // line may come to carry the count.
  int64_t LeftOut(Time now) {
    if (left_out_ == 0 || now - window_ < std::chrono::seconds(1)) return 0;
    const int64_t n = left_out_;
    left_out_ = 0;
    return n;
  }

 private:
  const int per_second_;
  bool started_ = false;
  Time window_{};
  int used_ = 0;
  int64_t left_out_ = 0;
};

}  // namespace its
