#pragma once

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace its::load {

// One stage of a load plan: over `duration_s` the target (virtual users in
// the closed model, journeys per second in the open model) goes linearly
// from where the previous stage ended to `target`.
struct Stage {
  double duration_s = 0;
  double target = 0;
};

// "30s:100" (a duration with its unit, a colon, the target).
absl::StatusOr<Stage> ParseStage(std::string_view text);

// The targets of a run over time, k6-style: the first stage starts from 0.
// A stage of 0 s jumps. Pure: times are seconds from the run's start.
class StagePlan {
 public:
  StagePlan() = default;
  explicit StagePlan(std::vector<Stage> stages);
  // A constant load from the start: `target` for `duration_s`.
  static StagePlan Constant(double target, double duration_s);
  // `target` reached linearly over `ramp_s`, then held until `duration_s`.
  static StagePlan RampThenHold(double target, double ramp_s,
                                double duration_s);

  double duration_s() const { return duration_s_; }
  double max_target() const { return max_target_; }
  const std::vector<Stage>& stages() const { return stages_; }

  // The target at `t_s` (after the end: the last stage's).
  double Target(double t_s) const;
  // Virtual users at `t_s`: the target rounded to the nearest whole.
  int Users(double t_s) const;
  // The first time after `t_s` when Users() may change; a time past
  // duration_s() if it will not.
  double NextUsersChange(double t_s) const;

 private:
  std::vector<Stage> stages_;
  double duration_s_ = 0;
  double max_target_ = 0;
};

}  // namespace its::load
