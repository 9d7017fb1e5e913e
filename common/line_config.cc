#include "common/line_config.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace its {

absl::StatusOr<std::vector<ConfigLine>> ReadConfigLines(
    std::string_view content, std::string_view filename,
    ConfigSeparator separator) {
  std::vector<ConfigLine> out;
  int number = 0;
  for (std::string_view line : Split(content, '\n')) {
    ++number;
    size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    line = Trim(line);
    if (line.empty()) continue;
    ConfigLine l;
    l.number = number;
    if (separator == ConfigSeparator::kEquals) {
      size_t eq = line.find('=');
      if (eq == std::string_view::npos)
        return ConfigLineError(filename, number, "", "expected 'name = value'");
      l.key = Trim(line.substr(0, eq));
      if (l.key.empty())
        return ConfigLineError(filename, number, "", "parameter name missing");
      l.value = Trim(line.substr(eq + 1));
    } else {
      size_t sp = line.find_first_of(" \t");
      l.key = line.substr(0, sp);
      if (sp != std::string_view::npos) l.value = Trim(line.substr(sp));
    }
    out.push_back(l);
  }
  return out;
}

absl::Status ConfigLineError(std::string_view filename, int line,
                             std::string_view key, std::string_view why) {
  return absl::InvalidArgumentError(
      Cat(filename, ":", line, ": ", key, key.empty() ? "" : ": ", why));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(Cat(path, ": cannot open"));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status WriteFileAtomically(const std::string& path,
                                 std::string_view content) {
  const std::string tmp = Cat(path, ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out.flush()) {
      const int err = errno;
      std::remove(tmp.c_str());
      return absl::InternalError(
          Cat("cannot write ", tmp, ": ", std::strerror(err)));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return absl::InternalError(
        Cat("cannot replace ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace its
