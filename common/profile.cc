#include "common/profile.h"

#include "common/line_config.h"
#include "common/strings.h"

namespace its {

absl::StatusOr<Profile> Profile::Parse(std::string_view content,
                                       std::string_view filename) {
  auto lines = ReadConfigLines(content, filename, ConfigSeparator::kEquals);
  if (!lines.ok()) return lines.status();
  Profile p;
  p.filename_ = std::string(filename);
  for (const ConfigLine& l : *lines) {
    std::string name(l.key);
    p.values_[name] = std::string(l.value);
    p.lines_[name] = l.number;
  }
  return p;
}

absl::StatusOr<Profile> Profile::Load(const std::string& path) {
  auto content = ReadFile(path);
  if (!content.ok()) return content.status();
  return Parse(*content, path);
}

std::string Profile::Get(std::string_view name,
                         std::string_view fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::string(fallback) : it->second;
}

absl::StatusOr<int64_t> Profile::GetInt(std::string_view name, int64_t fallback,
                                        int64_t min, int64_t max) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  int64_t v;
  if (!ParseInt(it->second, &v) || v < min || v > max) {
    return ConfigLineError(filename_, lines_.find(name)->second, name,
                           Cat("expected a whole number in [", min, ", ", max,
                               "], got '", it->second, "'"));
  }
  return v;
}

}  // namespace its
