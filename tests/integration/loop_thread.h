#pragma once

#include <functional>
#include <future>
#include <thread>

#include "common/grpc_loop.h"

namespace its::testing {

// Runs a GrpcLoop on a thread of its own for a test's lifetime.
class LoopThread {
 public:
  LoopThread() = default;
  ~LoopThread() { Stop(); }
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  void Start() {
    thread_ = std::thread([this] {
      id_ = std::this_thread::get_id();
      loop_.Run();
    });
  }
  void Stop() {
    if (!thread_.joinable()) return;
    loop_.Shutdown();
    thread_.join();
  }
  GrpcLoop& loop() { return loop_; }
  // Runs `fn` on the loop thread (started) and waits until it ran.
  void RunAndWait(const std::function<void()>& fn) {
    std::promise<void> done;
    loop_.Post([&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }
  std::thread::id id() const { return id_; }

 private:
  GrpcLoop loop_;
  std::thread thread_;
  std::thread::id id_;
};

}  // namespace its::testing
