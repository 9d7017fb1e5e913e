#include "agate/link_delay_watch.h"

#include "common/link_delays.h"
#include "common/log.h"

namespace its::agate {

void LinkDelayWatch::Offer(double seconds, uint64_t generation) {
  if (generation <= generation_) return;  // older news
  generation_ = generation;
  if (seconds == seconds_) return;
  seconds_ = seconds;
  apply_(seconds);
  spdlog::warn("fault injection: calls to R/3 wait {} s", seconds);
}

void LinkDelayWatch::Poll() {
  if (path_.empty()) return;
  struct stat now {};
  if (::stat(path_.c_str(), &now) != 0) now = {};  // no file: nothing new
  const bool same = seen_any_ && now.st_ino == seen_.st_ino &&
                    now.st_size == seen_.st_size &&
                    now.st_mtim.tv_sec == seen_.st_mtim.tv_sec &&
                    now.st_mtim.tv_nsec == seen_.st_mtim.tv_nsec;
  if (same) return;
  if (now.st_ino == 0) {  // gone: nothing new (the launcher writes it)
    seen_ = now;
    seen_any_ = true;
    return;
  }
  auto delays = ReadLinkDelays(path_);
  // A file that could not be read (out of descriptors) is tried again at
  // the next poll; a broken one only once it changes.
  if (delays.ok() ||
      delays.status().code() == absl::StatusCode::kInvalidArgument) {
    seen_ = now;
    seen_any_ = true;
  }
  if (!delays.ok()) {
    spdlog::error("{}", delays.status().message());
    return;
  }
  auto it = delays->r3_delay_s.find(instance_);
  Offer(it == delays->r3_delay_s.end() ? 0 : it->second, delays->generation);
}

}  // namespace its::agate
