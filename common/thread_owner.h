#pragma once

// State that one thread owns, made visible to the reader, to clang's
// thread-safety analysis and, in debug builds, to an assertion.
//
// State that several threads share is behind an absl::Mutex and
// ABSL_GUARDED_BY(mu_). State that exactly one thread touches takes no lock;
// it is ABSL_GUARDED_BY(a ThreadOwner) instead, and the ThreadOwner is a
// capability the analysis tracks like a mutex:
//  - an entry point that runs on the owning thread (a public method, a
//    handler, a lambda posted there) calls owner.Check() before it touches
//    the state: from there on the analysis counts the capability as held;
//  - a private helper that only such code calls is
//    ABSL_EXCLUSIVE_LOCKS_REQUIRED(owner), so the analysis checks its
//    callers instead.
// So touching the state from a function that never said which thread it
// runs on fails the clang build (preset clang-tsa), and a Check() on the
// wrong thread fails an assert in debug builds (the ASan/UBSan tests).
//
// Check() passes while no thread is bound: before the owner starts (set-up
// on the thread that creates the object) and after it ended (tear-down after
// a join), when nothing runs concurrently. In Release builds the class is
// empty and Check() compiles to nothing.

#include <atomic>
#include <cassert>
#include <thread>

#include "absl/base/thread_annotations.h"

namespace its {

class ABSL_LOCKABLE ThreadOwner {
 public:
  ThreadOwner() = default;
  ThreadOwner(const ThreadOwner&) = delete;
  ThreadOwner& operator=(const ThreadOwner&) = delete;

  // The calling thread owns the state from now on (e.g. a loop starts).
  void Bind() {
#ifndef NDEBUG
    owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
#endif
  }
  // Nobody owns it any more (e.g. the loop has ended).
  void Release() {
#ifndef NDEBUG
    owner_.store(std::thread::id(), std::memory_order_relaxed);
#endif
  }
  // The caller runs on the owning thread (or none is bound).
  void Check() const ABSL_ASSERT_EXCLUSIVE_LOCK() {
#ifndef NDEBUG
    std::thread::id owner = owner_.load(std::memory_order_relaxed);
    assert(owner == std::thread::id() || owner == std::this_thread::get_id());
#endif
  }

 private:
#ifndef NDEBUG
  std::atomic<std::thread::id> owner_{};
#endif
};

}  // namespace its
