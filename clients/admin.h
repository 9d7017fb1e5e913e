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
};

// Runs `command` (agates, sessions, sm04, sm12, loadstat) against the cluster
// described by `config`, with a deadline on every call.
absl::StatusOr<Table> Query(const ClusterConfig& config, const std::string& command);

nlohmann::json ToJson(const Table& table);  // a list of objects
std::string ToText(const Table& table);     // aligned columns

}  // namespace its::admin
