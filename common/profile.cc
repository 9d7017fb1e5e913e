#include "common/profile.h"

#include "absl/status/status.h"
#include "common/strings.h"
#include "common/strings.h"
#include "common/service_file.h"

namespace its {

absl::StatusOr<Profile> Profile::Parse(std::string_view content, std::string_view filename) {
  Profile p;
  p.filename_ = std::string(filename);
  int line_no = 0;
  for (std::string_view line : Split(content, '\n')) {
    ++line_no;
    size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    line = Trim(line);
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          Cat(filename, ":", line_no, ": expected 'name = value'"));
    }
    std::string name(Trim(line.substr(0, eq)));
    if (name.empty()) {
      return absl::InvalidArgumentError(
          Cat(filename, ":", line_no, ": parameter name missing"));
    }
    p.values_[name] = std::string(Trim(line.substr(eq + 1)));
    p.lines_[name] = line_no;
  }
  return p;
}

absl::StatusOr<Profile> Profile::Load(const std::string& path) {
  auto content = ReadFile(path);
  if (!content.ok()) return content.status();
  return Parse(*content, path);
}

std::string Profile::Get(std::string_view name, std::string_view fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::string(fallback) : it->second;
}

absl::StatusOr<int64_t> Profile::GetInt(std::string_view name, int64_t fallback, int64_t min,
                                        int64_t max) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  int64_t v;
  if (!ParseInt(it->second, &v) || v < min || v > max) {
    return absl::InvalidArgumentError(Cat(
        filename_, ":", lines_.find(name)->second, ": ", name, ": expected a whole number in [",
        min, ", ", max, "], got '", it->second, "'"));
  }
  return v;
}

}  // namespace its
