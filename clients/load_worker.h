#pragma once

// itsload --worker --listen ADDR: runs shares of loads for a coordinator
// (clients/load_coordinator.h) over gRPC (proto/itsload.proto, service
// Worker), one run at a time. Each run is a LoadEngine on the worker's own
// run thread with its own Asio io_context, started at the wall-clock time the
// coordinator chose; gRPC's callback threads only queue messages.

#include <string>

namespace its::load {

// Serves until SIGINT or SIGTERM; a run in progress is then cut short as an
// abort would (its journeys logged off). First prints "itsload worker
// listening on HOST:PORT" on stdout (the bound port if `listen` asks for
// port 0). Returns the exit status: 0 after a signal, 2 if it cannot listen.
// `quiet`: no line per run on stderr.
int RunWorker(const std::string& listen, bool quiet);

}  // namespace its::load
