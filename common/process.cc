#include "common/process.h"

#include <unistd.h>

#include <csignal>
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

std::string ExecutableDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

}  // namespace its
