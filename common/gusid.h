#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace its {

// Global unique session ID (docs/architecture.md §3):
//   <instance>-A:<host>:<pppp>.<ssssssss>.<random>
// pppp: process number (4 hex digits), ssssssss: session slot (8 hex digits;
// the top byte is the incarnation of the AGate process, the rest a counter),
// random: 32 lower-case hex digits (128 bits) from the OS CSPRNG.
struct Gusid {
  std::string instance;
  std::string host;
  uint32_t process = 0;
  uint32_t slot = 0;
  std::string random;

  uint32_t incarnation() const { return slot >> 24; }
  // The full ID, as it travels in the cookie.
  std::string ToString() const;
  // The ID without its random part: safe to log and show in admin tables.
  std::string PublicId() const;
};

constexpr size_t kGusidRandomHex = 32;
constexpr size_t kGusidMaxLength = 160;

// Parses a GUSID; rejects anything that is not exactly the format above
// (instance [A-Z0-9]{1,8}, host [A-Za-z0-9.-]{1,64}).
absl::StatusOr<Gusid> ParseGusid(std::string_view text);
// Parses the ID without its random part (Gusid::PublicId()); `random` stays
// empty.
absl::StatusOr<Gusid> ParsePublicId(std::string_view text);

// 128 random bits from getrandom(2), as 32 hex digits.
std::string NewSessionRandom();

// Compares two strings in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace its
