#pragma once

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
  std::thread::id id() const { return id_; }

 private:
  GrpcLoop loop_;
  std::thread thread_;
  std::thread::id id_;
};

}  // namespace its::testing
