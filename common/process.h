#pragma once

#include <asio.hpp>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/grpc_loop.h"
#include "common/log.h"

namespace its {

// Runs `io` on the calling thread until SIGINT or SIGTERM arrives, then calls
// `stop` on a helper thread (it may block, e.g. in grpc::Server::Shutdown)
// and returns when `io` has stopped. Every server process's main() uses it.
void RunUntilSignal(asio::io_context& io, std::function<void()> stop);

// The same for a process driven by a GrpcLoop: runs `loop` on the calling
// thread; on SIGINT or SIGTERM calls `stop` on a helper thread (e.g. the
// server's Shutdown with a deadline, while the loop still serves), then shuts
// the loop down and returns when it has drained.
void RunUntilSignal(GrpcLoop& loop, std::function<void()> stop);

// The value, or: log the error (it names file, line and key) and exit(2).
// For start-up configuration in main().
template <typename T>
T ValueOrExit(absl::StatusOr<T> v) {
  if (!v.ok()) {
    spdlog::error("{}", v.status().message());
    std::exit(2);
  }
  return std::move(*v);
}

// Puts the calling thread, and every thread it creates from now on, under
// SCHED_BATCH: a woken thread does not preempt the running one, so a process
// that has just been handed work runs when the CPU is free and finds more of
// it. Call at the start of main(), before gRPC starts threads. Logs and goes
// on if the system refuses.
void UseBatchScheduling();

// Keeps the calling thread and every thread it creates from now on on the
// CPU it runs on now. Returns that CPU (-1 if it could not).
int StayOnThisCpu();

// What a process's /proc file says ("" if it cannot be read: the process
// may end at any moment, even halfway through the read). Never throws.
std::string ReadProcFile(int pid, const char* name);
// Whether `pid` is stopped by a signal (SIGSTOP, SIGTSTP: state T in
// /proc/PID/stat, or t under a tracer); false if it cannot be read.
bool IsStopped(int pid);
// Whether `pid` has ended: gone, or a zombie its parent has not reaped yet
// (a pidfd still signals a zombie without error).
bool HasEnded(int pid);
// The command line of `pid`, one word per argument (empty if unreadable).
std::vector<std::string> ProcessCommandLine(int pid);
// The word after `name` in a command line ("--config", "DIR": "DIR"); ""
// if `name` is not there.
std::string CommandLineOption(const std::vector<std::string>& words,
                              std::string_view name);
// Every PID /proc lists now.
std::vector<int> ListPids();

// Path of the directory holding the running executable (for sibling binaries).
std::string ExecutableDir();

}  // namespace its
