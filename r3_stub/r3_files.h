#pragma once

// Everything the R/3 stub reads from a configuration directory's r3/: users
// and transactions, the profile (DEFAULT.PFL) with the parameters the stub
// uses checked, and the timeouts (profile and sicf.toml). Loaded by the stub
// at start, and by the cluster launcher before it copies the directory, so
// that an error names the file the user edited.

#include <string>

#include "absl/status/statusor.h"
#include "common/profile.h"
#include "r3_stub/r3_data.h"
#include "r3_stub/timeouts.h"

namespace its::r3 {

struct R3Files {
  MasterData data;
  Profile profile;
  TimeoutSettings timeouts;

  // `config_dir`: the directory that holds r3/.
  static absl::StatusOr<R3Files> Load(const std::string& config_dir);
};

}  // namespace its::r3
