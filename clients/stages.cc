#include "clients/stages.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "common/duration.h"
#include "common/strings.h"

namespace its::load {

absl::StatusOr<Stage> ParseStage(std::string_view text) {
  size_t colon = text.rfind(':');
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        Cat("stage '", text, "': ", why,
            " (expected DURATION:TARGET, e.g. 30s:100)"));
  };
  if (colon == std::string_view::npos) return bad("no colon");
  auto duration = ParseDuration(text.substr(0, colon));
  if (!duration) return bad("not a duration");
  std::string target(text.substr(colon + 1));
  char* end = nullptr;
  double v = std::strtod(target.c_str(), &end);
  if (target.empty() || end != target.c_str() + target.size() ||
      !std::isfinite(v) || v < 0 || v > 1e7) {
    return bad("the target is not a number from 0 to 10000000");
  }
  return Stage{*duration, v};
}

StagePlan::StagePlan(std::vector<Stage> stages) : stages_(std::move(stages)) {
  for (const Stage& s : stages_) {
    duration_s_ += s.duration_s;
    max_target_ = std::max(max_target_, s.target);
  }
}

StagePlan StagePlan::Constant(double target, double duration_s) {
  return StagePlan({{0, target}, {duration_s, target}});
}

StagePlan StagePlan::RampThenHold(double target, double ramp_s,
                                  double duration_s) {
  if (ramp_s <= 0) return Constant(target, duration_s);
  ramp_s = std::min(ramp_s, duration_s);
  return StagePlan({{ramp_s, target}, {duration_s - ramp_s, target}});
}

double StagePlan::Target(double t_s) const {
  double from = 0, start = 0;
  for (const Stage& s : stages_) {
    if (t_s < start + s.duration_s) {
      return from + (s.target - from) * (t_s - start) / s.duration_s;
    }
    from = s.target;
    start += s.duration_s;
  }
  return from;
}

int StagePlan::Users(double t_s) const {
  return static_cast<int>(std::lround(Target(t_s)));
}

double StagePlan::NextUsersChange(double t_s) const {
  constexpr double kNever = std::numeric_limits<double>::infinity();
  // Progress even where rounding puts a change exactly at t_s.
  constexpr double kStep = 1e-6;
  double from = 0, start = 0;
  for (const Stage& s : stages_) {
    double end = start + s.duration_s;
    if (t_s < end) {
      if (s.target == from) return end;
      double v = from + (s.target - from) * (t_s - start) / s.duration_s;
      double users = std::round(v);
      // Users() rounds: it changes where the value crosses a half.
      double half = s.target > from ? users + 0.5 : users - 0.5;
      double at = start + (half - from) / (s.target - from) * s.duration_s;
      return std::clamp(at, t_s + kStep, end);
    }
    from = s.target;
    start = end;
  }
  return kNever;
}

}  // namespace its::load
