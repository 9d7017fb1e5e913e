#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace its::load {

// Every AGate process the wgate knows of, from its /metrics, as
// "instance/process/pid": the form of the X-ITS-AGate response header, so a
// load report can list the processes that answered nothing (idle ones).

// Reads the its_agate_sessions and its_agate_weight samples of Prometheus
// text: labels in any order, quoted values with \\, \" and \n escapes. Each
// process once, in the order of its first sample. An error names the line:
// a sample of these metrics that cannot be read, or one without instance,
// process or pid (a wgate from before the pid label). Pure: unit-tested.
absl::StatusOr<std::vector<std::string>> ParseAgateProcesses(
    std::string_view metrics_text);

// GET /metrics from the wgate at host:port (IPv4) and parse it as above;
// errors say which wgate did not answer or what it answered.
absl::StatusOr<std::vector<std::string>> FetchAgateProcesses(
    const std::string& host, int port, int timeout_ms);

}  // namespace its::load
