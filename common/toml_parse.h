#pragma once

// Parsing a TOML file so that a syntax error reads like every other
// configuration error: file, line and key ("cluster.toml:12: wgate.max_body:
// ..."). toml++ reports where a syntax error is, not which setting it broke;
// TomlKeyAt() finds that from the text.

#include <toml++/toml.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace its {

// Parses `content`, read from `file`. A syntax error comes back as
// INVALID_ARGUMENT "<file>:<line>: <key>: <what toml++ says>" (no key when
// the error is in a table header or outside any setting).
absl::StatusOr<toml::table> ParseToml(std::string_view content,
                                      const std::string& file);

// The setting that line `line` (1-based) of `content` belongs to, as the
// configuration errors name it: "key", "table.key", "table[2].key" for the
// third [[table]]. A value spanning lines (an array, a multi-line string)
// belongs to the key that began it; a line without "=" names its first word,
// the key it was meant to set. Empty for a table header, a comment or a line
// past the end.
std::string TomlKeyAt(std::string_view content, int line);

}  // namespace its
