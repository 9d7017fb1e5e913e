#pragma once

// What every configuration reader promises about a file it refuses: the
// error names the file and the line ("cluster.toml:21: key: why") — or
// another file of the same configuration that the first one led to.

#include <initializer_list>
#include <string_view>

#include "absl/status/status.h"
#include "tests/fuzz/fuzz.h"

namespace its::fuzz {

inline void CheckNamesAFile(const absl::Status& status,
                            std::initializer_list<std::string_view> files) {
  if (status.ok()) return;
  const std::string_view message(status.message().data(),
                                 status.message().size());
  bool named = false;
  for (std::string_view file : files) {
    if (!message.starts_with(file)) continue;
    std::string_view rest = message.substr(file.size());
    // "FILE:LINE: ..." or "FILE: ..." (a whole-file error: empty, no rows).
    named =
        rest.starts_with(": ") || (rest.starts_with(":") && rest.size() > 1 &&
                                   rest[1] >= '0' && rest[1] <= '9');
    if (named) break;
  }
  FUZZ_CHECK_SAW(named, message);
  FUZZ_CHECK_SAW(status.code() == absl::StatusCode::kInvalidArgument ||
                     status.code() == absl::StatusCode::kNotFound,
                 status.ToString());
}

}  // namespace its::fuzz
