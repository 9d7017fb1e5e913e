#pragma once

#include <optional>
#include <string_view>

namespace its {

// A duration as people type it: "500ms", "20s", "2m", "1h", "1.5s"; a plain
// number counts in `plain_unit_s` seconds (1: seconds, 0.001: milliseconds).
// Returns seconds, or nullopt if `text` is not a duration >= 0.
std::optional<double> ParseDuration(std::string_view text,
                                    double plain_unit_s = 1.0);

}  // namespace its
