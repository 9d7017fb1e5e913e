#include "r3_stub/r3_files.h"

#include <tuple>

#include "common/line_config.h"

namespace its::r3 {

absl::StatusOr<R3Files> R3Files::Load(const std::string& config_dir) {
  auto data = MasterData::Load(config_dir + "/r3");
  if (!data.ok()) return data.status();
  auto profile = Profile::Load(config_dir + "/r3/DEFAULT.PFL");
  if (!profile.ok()) return profile.status();
  // Every profile parameter the stub uses must be valid, or it does not
  // start.
  for (const auto& [name, min, max] :
       {std::tuple{"rdisp/tm_max_no", 1, 10'000'000},
        std::tuple{"rdisp/max_alt_modes", 2, 16},
        std::tuple{"login/fails_to_user_lock", 1, 99}}) {
    if (auto v = profile->GetInt(name, min, min, max); !v.ok())
      return v.status();
  }
  std::string sicf_file = config_dir + "/r3/sicf.toml";
  auto sicf = ReadFile(sicf_file);  // optional
  auto timeouts =
      TimeoutSettings::Load(*profile, sicf.ok() ? *sicf : "", sicf_file);
  if (!timeouts.ok()) return timeouts.status();
  return R3Files{std::move(*data), std::move(*profile), std::move(*timeouts)};
}

}  // namespace its::r3
