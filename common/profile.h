#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace its {

// SAP instance profile (DEFAULT.PFL): `name = value` lines, `#` comments.
class Profile {
 public:
  static absl::StatusOr<Profile> Parse(std::string_view content,
                                       std::string_view filename);
  static absl::StatusOr<Profile> Load(const std::string& path);

  // Value of `name`, or `fallback` when absent.
  std::string Get(std::string_view name, std::string_view fallback) const;
  // Integer value of `name` within [min, max]; `fallback` when absent.
  absl::StatusOr<int64_t> GetInt(std::string_view name, int64_t fallback,
                                 int64_t min, int64_t max) const;
  const std::map<std::string, std::string, std::less<>>& values() const {
    return values_;
  }

 private:
  std::string filename_;
  std::map<std::string, std::string, std::less<>> values_;
  std::map<std::string, int, std::less<>> lines_;
};

}  // namespace its
