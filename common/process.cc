#include "common/process.h"

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <thread>

#include "common/log.h"

namespace its {

void RunUntilSignal(asio::io_context& io, std::function<void()> stop) {
  auto guard = asio::make_work_guard(io);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::thread stopper;
  signals.async_wait([&](const asio::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    stopper = std::thread([&] {
      if (stop) stop();
      guard.reset();
      io.stop();
    });
  });
  io.run();
  if (stopper.joinable()) stopper.join();
}

void RunUntilSignal(GrpcLoop& loop, std::function<void()> stop) {
  // Signals are taken on a small Asio thread of their own: the loop thread
  // polls only gRPC.
  asio::io_context signal_io(1);
  asio::signal_set signals(signal_io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    if (stop) stop();
    loop.Shutdown();
  });
  std::thread watcher([&] { signal_io.run(); });
  loop.Run();
  signals.cancel();
  watcher.join();
}

void UseBatchScheduling() {
  sched_param param{};
  param.sched_priority = 0;
  if (sched_setscheduler(0, SCHED_BATCH, &param) != 0) {
    spdlog::warn("SCHED_BATCH not available: {}", std::strerror(errno));
  }
}

int StayOnThisCpu() {
  int cpu = sched_getcpu();
  if (cpu < 0) return -1;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    spdlog::warn("cannot keep the threads on CPU {}: {}", cpu,
                 std::strerror(errno));
    return -1;
  }
  return cpu;
}

std::string ExecutableDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

}  // namespace its
