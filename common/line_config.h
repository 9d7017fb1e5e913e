#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace its {

// One `key value` line of a line-oriented configuration file.
struct ConfigLine {
  int number = 0;  // from 1
  std::string_view key;
  std::string_view value;
};

// How a line splits into key and value.
enum class ConfigSeparator {
  kEquals,      // `name = value` (SAP profiles): the first '='
  kWhitespace,  // `~name value` (ITS service files): the first space or tab
};

// Reads a line-oriented configuration: `#` starts a comment, blank lines are
// skipped, key and value are trimmed. The lines' views point into `content`.
// Errors name the file and the line ("DEFAULT.PFL:3: expected 'name =
// value'"). A line without a value is an error with kEquals only.
absl::StatusOr<std::vector<ConfigLine>> ReadConfigLines(
    std::string_view content, std::string_view filename,
    ConfigSeparator separator);

// How every error of such a file reads: "file:line: key: why", without
// "key: " when `key` is empty.
absl::Status ConfigLineError(std::string_view filename, int line,
                             std::string_view key, std::string_view why);

// Reads a whole file; the error names the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Replaces `path` with `content` at once (a temporary file beside it, then a
// rename): a reader sees the old file or the new one, never half of one.
// The error names the file and the system's reason; no temporary file stays.
absl::Status WriteFileAtomically(const std::string& path,
                                 std::string_view content);

}  // namespace its
