#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/admin_table.h"
#include "common/cluster_config.h"
#include "common/duration.h"

namespace its::admin {

// One admin listing: the table (column keys are the JSON keys) and what
// could not be listed (e.g. a Mapping Manager that does not answer).
struct Table {
  admin_table::Table table;
  std::vector<std::string> warnings;
};

// Runs `command` (agates, sessions, sm04, sm05, sm12, loadstat, processes,
// time) against the cluster described by `config`, with a deadline on every
// call.
absl::StatusOr<Table> Query(const ClusterConfig& config,
                            const std::string& command);

// Fault injection through the cluster launcher: `words` as typed after
// "itsadm fault", e.g. {"kill", "agate", "IT1/1"}, {"hang", "r3_stub", "20s"},
// {"delay", "IT2", "agate->r3", "200ms"}, {"resume", "wgate"}, {"clear"}.
// Returns what was done, in words.
absl::StatusOr<std::string> Fault(const ClusterConfig& config,
                                  const std::vector<std::string>& words);

// itsadm drain / undrain: `target` is an instance ("IT2") or one of its
// processes ("IT1/1"). Draining, it takes no new sessions and serves those it
// has until they end. Returns what is so now, in words ("IT1/1 (pid 4242)
// draining: 3 sessions left"); with `wait_s` > 0 (drain only) waits up to
// that long for the last session to end (DeadlineExceeded if it does not).
absl::StatusOr<std::string> Drain(const ClusterConfig& config,
                                  const std::string& target, bool drain,
                                  double wait_s = 0);

// Ends HTTP security session `id` (SM05) and its linked application sessions.
absl::Status EndSecuritySession(const ClusterConfig& config, uint64_t id);

// The cluster's simulated time at real (Unix) time `real_us`, from its
// configuration (time_scale, sim_epoch): one row of simulated_time
// ("YYYY/MM/DD HH:MM:SS", UTC; "" when unknown: no sim_epoch and a
// time_scale other than 1, so every process has its own), time_scale and
// sim_epoch. What `itsadm time` prints.
Table TimeTable(const ClusterConfig& config, int64_t real_us);
// The same as the line itsadm prints under every text listing.
std::string ClockLine(const ClusterConfig& config, int64_t real_us);

// itsadm trace ID: the trace the wgate gathers (GET /trace/<ID>.json at
// [wgate] listen, docs/architecture.md §7.1) as a table, one row per span:
// step (0: the request), process, pid, at_ms (start after the request's),
// duration_ms, decided; the processes that did not answer as warnings.
// InvalidArgument for an ID that is not 32 lower-case hex digits, NotFound
// for a trace the wgate does not have.
absl::StatusOr<Table> Trace(const ClusterConfig& config, const std::string& id,
                            std::string* steps = nullptr);

nlohmann::json ToJson(const Table& table);  // a list of objects
std::string ToText(const Table& table);     // aligned columns

}  // namespace its::admin
