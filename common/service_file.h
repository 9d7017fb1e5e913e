#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/line_config.h"  // ReadFile, which users of this header use
#include "common/params.h"

namespace its {

// Parses one ITS service file: one `~parameter value` per line, `#` starts a
// comment, blank lines are ignored. Errors name `filename`, the line and the
// parameter ("services/ess.srvc:4: ~timeout: expected minutes, got 'x'").
absl::StatusOr<Params> ParseServiceFile(std::string_view content,
                                        std::string_view filename);

// Longest service name the ITS accepts.
constexpr size_t kMaxServiceName = 14;
bool IsValidServiceName(std::string_view name);

// The services of a configuration directory: `global.srvc` holds defaults that
// each `<name>.srvc` overrides.
class ServiceCatalog {
 public:
  // Loads every *.srvc file of `dir`.
  static absl::StatusOr<ServiceCatalog> Load(const std::string& dir);
  // Effective parameters of `service` (case-insensitive), or nullptr.
  const Params* Find(std::string_view service) const;
  const std::map<std::string, Params>& services() const { return services_; }

 private:
  std::map<std::string, Params> services_;
};

}  // namespace its
