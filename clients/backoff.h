#pragma once

namespace its::load {

// When to try again after transport failures (connection refused, reset,
// closed before a response): exponential back-off, capped, with jitter.
// Pure: no clock, no random engine of its own. The caller passes a uniform
// random number in [0, 1) and sleeps for what comes back, so tests can walk
// the sequence without sleeping.
//
// After the n-th failure in a row the ceiling is
//   min(max_ms, initial_ms * multiplier^(n-1))
// and the delay is drawn from [ceiling * (1 - jitter), ceiling]: the ceiling
// is never exceeded, and jitter spreads users that failed together so they
// do not come back in step. A success (any HTTP response) starts over.
class Backoff {
 public:
  struct Policy {
    double initial_ms = 50;
    double max_ms = 2000;
    double multiplier = 2;
    double jitter = 0.5;  // fraction of the ceiling taken off at random, 0..1
  };

  Backoff() : Backoff(Policy{}) {}
  explicit Backoff(const Policy& policy);

  // The delay before attempt `failures` + 1, after `failures` (>= 1)
  // failures in a row; `unit` in [0, 1). Depends only on its arguments.
  double DelayMs(int failures, double unit) const;

  // One more failure in a row: returns the delay before the next attempt.
  double Failed(double unit);
  // A response arrived: the next failure starts at initial_ms again.
  void Succeeded() { failures_ = 0; }

  int failures() const { return failures_; }
  const Policy& policy() const { return policy_; }

 private:
  Policy policy_;
  int failures_ = 0;
};

}  // namespace its::load
