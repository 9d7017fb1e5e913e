#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "common/cluster_config.h"

namespace its::admin {

// One admin listing: column keys (snake_case, as in the JSON) and rows of
// JSON values.
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<nlohmann::json>> rows;
  // What could not be listed (e.g. a Mapping Manager that does not answer).
  std::vector<std::string> warnings;
};

// Runs `command` (agates, sessions, sm04, sm05, sm12, loadstat) against the cluster
// described by `config`, with a deadline on every call.
absl::StatusOr<Table> Query(const ClusterConfig& config, const std::string& command);

// Ends HTTP security session `id` (SM05) and its linked application sessions.
absl::Status EndSecuritySession(const ClusterConfig& config, uint64_t id);

nlohmann::json ToJson(const Table& table);  // a list of objects
std::string ToText(const Table& table);     // aligned columns

}  // namespace its::admin
