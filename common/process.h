#pragma once

#include <functional>

#include <asio.hpp>

namespace its {

// Runs `io` on the calling thread until SIGINT or SIGTERM arrives, then calls
// `stop` on a helper thread (it may block, e.g. in grpc::Server::Shutdown)
// and returns when `io` has stopped. Every server process's main() uses it.
void RunUntilSignal(asio::io_context& io, std::function<void()> stop);

// Path of the directory holding the running executable (for sibling binaries).
std::string ExecutableDir();

}  // namespace its
