#include "common/link_delays.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <sstream>

#include "common/grpc_util.h"
#include "common/line_config.h"
#include "common/strings.h"
#include "common/toml_parse.h"

namespace its {

uint64_t NextLinkDelayGeneration(uint64_t previous) {
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return std::max(previous + 1, static_cast<uint64_t>(now.count()));
}

std::string LinkDelaysPath(const std::string& config_dir) {
  return Cat(config_dir, "/link-delays.toml");
}

absl::Status WriteLinkDelays(const std::string& path,
                             const LinkDelays& delays) {
  // Written by hand, not by toml++: it prints 0.3 as 0.29999999999999999,
  // and people read this file.
  std::ostringstream text;
  text << "# Written by itscluster (itsadm fault delay); read by every agate.\n"
       << "generation = " << delays.generation << "\n\n[r3_delay_s]\n";
  for (const auto& [instance, seconds] : delays.r3_delay_s) {
    std::string key;
    for (char ch : instance) {
      if (ch == '"' || ch == '\\') key += '\\';
      key += ch;
    }
    std::string value = fmt::format("{}", seconds);  // shortest exact form
    if (value.find_first_of(".e") == std::string::npos) value += ".0";
    text << '"' << key << "\" = " << value << "\n";
  }
  // Consecutive versions differ in size: a reader that compares inode, size
  // and modification time (a reused inode, a coarse clock) still tells them
  // apart.
  if (delays.generation % 2 == 1) text << "\n";
  return WriteFileAtomically(path, text.str());
}

absl::StatusOr<LinkDelays> ParseLinkDelays(std::string_view text,
                                           const std::string& file) {
  auto parsed = ParseToml(text, file);
  if (!parsed.ok()) return parsed.status();
  auto bad = [&](const toml::node& node, const std::string& key,
                 const std::string& what) {
    return absl::InvalidArgumentError(
        Cat(file, ":", node.source().begin.line, ": ", key, ": ", what));
  };
  LinkDelays delays;
  for (const auto& [key, node] : *parsed) {
    if (key == "generation") {
      auto g = node.value<int64_t>();
      if (!g || *g < 0)
        return bad(node, "generation", "expected an integer >= 0");
      delays.generation = static_cast<uint64_t>(*g);
    } else if (key == "r3_delay_s") {
      if (!node.is_table())
        return bad(node, "r3_delay_s", "expected a table of instances");
      for (const auto& [instance, seconds] : *node.as_table()) {
        const std::string name = Cat("r3_delay_s.", instance.str());
        auto s = seconds.value<double>();
        if (!s || !(*s >= 0 && *s <= kMaxLinkDelaySeconds)) {
          return bad(seconds, name,
                     Cat("expected seconds from 0 to ", kMaxLinkDelaySeconds));
        }
        delays.r3_delay_s[std::string(instance.str())] = *s;
      }
    } else {
      return bad(node, std::string(key.str()), "unknown setting");
    }
  }
  return delays;
}

absl::StatusOr<LinkDelays> ReadLinkDelays(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return LinkDelays{};
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseLinkDelays(*text, path);
}

}  // namespace its
