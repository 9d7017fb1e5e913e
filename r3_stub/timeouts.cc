#include "r3_stub/timeouts.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include "absl/status/status.h"
#include "common/strings.h"
#include "common/toml_parse.h"

namespace its::r3 {

absl::StatusOr<int64_t> ParseHms(std::string_view text) {
  auto parts = Split(text, ':');
  int64_t h, m, s;
  if (parts.size() != 3 || parts[1].size() != 2 || parts[2].size() != 2 ||
      !ParseInt(parts[0], &h) || !ParseInt(parts[1], &m) ||
      !ParseInt(parts[2], &s) || h < 0 || m < 0 || m > 59 || s < 0 || s > 59) {
    return absl::InvalidArgumentError(
        Cat("expected hh:mm:ss, got '", text, "'"));
  }
  return h * 3600 + m * 60 + s;
}

absl::StatusOr<TimeoutSettings> TimeoutSettings::Load(
    const Profile& profile, const std::string& sicf_toml,
    const std::string& sicf_file) {
  TimeoutSettings t;
  auto plugin =
      profile.GetInt("rdisp/plugin_auto_logout", 1800, 0, 100'000'000);
  if (!plugin.ok()) return plugin.status();
  auto gui = profile.GetInt("rdisp/gui_auto_logout", 0, 0, 100'000'000);
  if (!gui.ok()) return gui.status();
  auto security =
      profile.GetInt("http/security_session_timeout", 1800, 60, 100000);
  if (!security.ok()) return security.status();
  t.plugin_auto_logout = *plugin;
  t.gui_auto_logout = *gui;
  t.security_session = *security;
  if (sicf_toml.empty()) return t;
  auto parsed = ParseToml(sicf_toml, sicf_file);
  if (!parsed.ok()) return parsed.status();
  const toml::table& root = *parsed;
  const toml::table* services = root["service"].as_table();
  if (!services) return t;
  for (const auto& [name, node] : *services) {
    const toml::table* entry = node.as_table();
    // clang 14 cannot capture a structured binding in a lambda (C++20).
    std::string_view service = name.str();
    auto err = [&](const toml::node& n, std::string_view key,
                   std::string_view why) {
      return absl::InvalidArgumentError(Cat(sicf_file, ":",
                                            n.source().begin.line, ": service.",
                                            service, key, ": ", why));
    };
    if (!entry) return err(node, "", "expected a table");
    ServiceTimeout st;
    for (const auto& [key, value] : *entry) {
      if (key == "timeout") {
        auto text = value.value<std::string>();
        if (!text) return err(value, ".timeout", "expected \"hh:mm:ss\"");
        auto secs = ParseHms(*text);
        if (!secs.ok())
          return err(value, ".timeout", Cat(secs.status().message()));
        st.sicf_s = *secs;
      } else if (key == "webgui") {
        auto b = value.value<bool>();
        if (!b) return err(value, ".webgui", "expected true or false");
        st.webgui = *b;
      } else {
        return err(value, Cat(".", key.str()), "unknown key");
      }
    }
    t.services.emplace(ToLower(name.str()), st);
  }
  return t;
}

std::string TimeoutSettings::LimitName(LimitSource source, int64_t limit_s) {
  switch (source) {
    case LimitSource::kPluginAutoLogout:
      return Cat("rdisp/plugin_auto_logout = ", limit_s, " s");
    case LimitSource::kGuiAutoLogout:
      return Cat("rdisp/gui_auto_logout = ", limit_s, " s");
    case LimitSource::kSicf:
      return fmt::format("the service's SICF session timeout {:02}:{:02}:{:02}",
                         limit_s / 3600, limit_s / 60 % 60, limit_s % 60);
    case LimitSource::kNone:
      break;
  }
  return Cat(limit_s, " s");
}

int64_t TimeoutSettings::ApplicationLimit(std::string_view service,
                                          LimitSource* source) const {
  int64_t limit = plugin_auto_logout;
  LimitSource from =
      limit > 0 ? LimitSource::kPluginAutoLogout : LimitSource::kNone;
  // A setting that makes the limit shorter (0 = none) gives it.
  auto shorten = [&](int64_t other, LimitSource other_source) {
    int64_t shorter = ShorterLimit(limit, other);
    if (shorter != limit) from = other_source;
    limit = shorter;
  };
  auto it = services.find(ToLower(service));
  if (it != services.end()) {
    shorten(it->second.sicf_s, LimitSource::kSicf);  // 0 = the system value
    if (it->second.webgui)
      shorten(gui_auto_logout, LimitSource::kGuiAutoLogout);
  }
  if (source) *source = from;
  return limit;
}

}  // namespace its::r3
