#pragma once

// An AGate process's injected agate->r3 delay (itsadm fault delay), from the
// two places it comes from: the launcher's call (AGate.SetLinkDelay) when
// the delay is set, and the run directory's link-delays.toml, which the
// process reads when it starts and whenever the file changes — so that a
// process started, restarted or resumed after the delay was set has it too
// (common/link_delays.h). Loop thread.

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <string>

namespace its::agate {

class LinkDelayWatch {
 public:
  // `apply(seconds)` sets the delay of the calls to R/3; `instance` is this
  // process's AGate instance, `path` the file ("" for none).
  LinkDelayWatch(std::string path, std::string instance,
                 std::function<void(double)> apply)
      : path_(std::move(path)),
        instance_(std::move(instance)),
        apply_(std::move(apply)) {}

  // A delay with its generation: applied if newer than the one applied.
  void Offer(double seconds, uint64_t generation);
  // Reads the file if it changed since the last call (a stat(2) otherwise).
  void Poll();

 private:
  std::string path_;
  std::string instance_;
  std::function<void(double)> apply_;
  uint64_t generation_ = 0;
  double seconds_ = 0;
  struct stat seen_ {};
  bool seen_any_ = false;
};

}  // namespace its::agate
