#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/profile.h"

namespace its::r3 {

// SICF settings of one ITS service (r3/sicf.toml).
struct ServiceTimeout {
  int64_t sicf_s =
      0;  // SICF session timeout; 0 (00:00:00) = use the system value
  bool webgui = false;  // WebGUI-type service: rdisp/gui_auto_logout applies
};

// Which setting gave an application session its idle limit.
enum class LimitSource : uint8_t {
  kNone,
  kPluginAutoLogout,
  kGuiAutoLogout,
  kSicf
};

// R/3-side idle limits in seconds; 0 means "not limited by this setting".
struct TimeoutSettings {
  int64_t plugin_auto_logout =
      1800;  // rdisp/plugin_auto_logout: stateful HTTP sessions
  int64_t gui_auto_logout = 0;  // rdisp/gui_auto_logout: WebGUI (ITS) sessions
  int64_t security_session =
      1800;  // http/security_session_timeout (60..100000)
  std::map<std::string, ServiceTimeout, std::less<>> services;

  // Reads the profile parameters and `sicf_toml` (may be empty: no SICF
  // entries).
  static absl::StatusOr<TimeoutSettings> Load(const Profile& profile,
                                              const std::string& sicf_toml,
                                              const std::string& sicf_file);

  // Idle limit of an application session of `service`: the shortest non-zero
  // of the SICF timeout (which can only shorten the system value),
  // rdisp/plugin_auto_logout and, for WebGUI-type services,
  // rdisp/gui_auto_logout. 0 = none.
  // `source` (optional): which setting it is (the system value first where
  // two agree).
  int64_t ApplicationLimit(std::string_view service,
                           LimitSource* source = nullptr) const;
  // That setting and limit as the message of a session it ended names them:
  // "rdisp/plugin_auto_logout = 120 s", "rdisp/gui_auto_logout = 300 s" or
  // "the service's SICF session timeout 00:10:00".
  static std::string LimitName(LimitSource source, int64_t limit_s);
};

// "hh:mm:ss" to seconds.
absl::StatusOr<int64_t> ParseHms(std::string_view text);

// The shorter of two limits where 0 means "no limit".
inline int64_t ShorterLimit(int64_t a, int64_t b) {
  if (a <= 0) return b > 0 ? b : 0;
  if (b <= 0) return a;
  return a < b ? a : b;
}

}  // namespace its::r3
