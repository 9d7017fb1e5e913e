#pragma once

// std::mutex with clang's thread-safety annotations, for state that code
// under ThreadSanitizer shares (the wgate's GrpcLoop). Elsewhere shared
// state is behind absl::Mutex; but Debian's abseil is not built with
// ThreadSanitizer, which therefore cannot see absl::Mutex order accesses and
// reports races on everything it guards. TSan sees std::mutex (pthread).
// Usage as with absl: `its::Mutex mu_; T x_ ABSL_GUARDED_BY(mu_);` and
// `its::MutexLock l(&mu_);`.

#include <mutex>

#include "absl/base/thread_annotations.h"

namespace its {

class ABSL_LOCKABLE Mutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mu_;
};

}  // namespace its
