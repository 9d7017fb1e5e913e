#pragma once

#include <spdlog/spdlog.h>

#include <string>

#include "common/strings.h"  // fmt support for absl::string_view

namespace its {

// Structured-enough logging: every line names the component and its PID.
// Logs go to stderr; level from ITS_LOG_LEVEL (trace..off), default info.
void InitLogging(const std::string& component);

}  // namespace its
