#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/cluster_config.h"
#include "wgate/directory.h"

namespace its::wgate {

// The cluster as the topology page at / shows it (/topology.json): the
// wgate, each instance's Mapping Manager and AGate processes with their load
// figures, the R/3 stub; the settings that decide where a session goes; and
// where the next new session would go and why — step 1 (each instance's
// chance, by free capacity) and step 3 (the Mapping Manager's rule, as
// mapping_manager/assignment.h words it). Counts only: however many sessions
// there are, the answer stays small. Pure: from the config and the
// directory.
nlohmann::json TopologyJson(const ClusterConfig& config,
                            const ProcessDirectory& directory,
                            const std::vector<std::string>& services,
                            ProcessDirectory::Clock::time_point now);

// The page: a shell whose script polls /topology.json once a second and
// draws it (hits/s are the difference of two polls' request counts).
const std::string& TopologyPage();

}  // namespace its::wgate
