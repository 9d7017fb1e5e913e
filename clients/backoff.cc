#include "clients/backoff.h"

#include <algorithm>
#include <cmath>

namespace its::load {

Backoff::Backoff(const Policy& policy) : policy_(policy) {
  // Nonsense in, something sane out: never a negative or growing-forever wait.
  policy_.initial_ms = std::max(0.0, policy_.initial_ms);
  policy_.max_ms = std::max(policy_.initial_ms, policy_.max_ms);
  policy_.multiplier = std::max(1.0, policy_.multiplier);
  policy_.jitter = std::clamp(policy_.jitter, 0.0, 1.0);
}

double Backoff::DelayMs(int failures, double unit) const {
  if (failures <= 0) return 0;
  // The exponent is bounded so the power stays finite; the cap is reached
  // long before for any multiplier > 1 that makes sense.
  int exponent = std::min(failures - 1, 1000);
  double ceiling =
      std::min(policy_.max_ms,
               policy_.initial_ms * std::pow(policy_.multiplier, exponent));
  unit = std::clamp(unit, 0.0, 1.0);
  return ceiling * (1.0 - policy_.jitter * unit);
}

double Backoff::Failed(double unit) {
  if (failures_ < 1000) ++failures_;
  return DelayMs(failures_, unit);
}

}  // namespace its::load
