#pragma once

// String helpers that accept std::string_view. Debian's abseil 20220623 has
// its own absl::string_view type, so absl::StrCat/SimpleAtoi do not take
// std::string_view arguments.

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"

// Debian's absl::string_view is its own type; let fmt (and so spdlog and Cat)
// print it like std::string_view.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(absl::string_view s, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(
        std::string_view(s.data(), s.size()), ctx);
  }
};

namespace its {

namespace internal {
// Appends one argument: text as it is, integers by to_chars, others by fmt.
template <typename T>
void AppendOne(std::string& out, const T& v) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    out.append(std::string_view(v));
  } else if constexpr (std::is_same_v<T, char>) {
    out.push_back(v);
  } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}
}  // namespace internal

// Appends the text form of every argument to *out.
template <typename... Args>
void Append(std::string* out, const Args&... args) {
  (internal::AppendOne(*out, args), ...);
}

// Concatenates the text form of every argument. (Text and integers are
// appended directly: Cat is on every page of the dialog hot path.)
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (internal::AppendOne(out, args), ...);
  return out;
}

// Parses a whole decimal integer (optional leading '-'); nothing else allowed.
template <typename Int>
bool ParseInt(std::string_view s, Int* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Splits on `sep`; keeps empty pieces unless `skip_empty`.
std::vector<std::string_view> Split(std::string_view s, char sep,
                                    bool skip_empty = false);
// Without leading and trailing spaces, tabs, CR and LF.
std::string_view Trim(std::string_view s);
std::string ToLower(std::string_view s);
// `s` with every `from` replaced by `to` (`from` not empty).
std::string ReplaceAll(std::string_view s, std::string_view from,
                       std::string_view to);
std::string ToUpper(std::string_view s);
// "1 row", "0 rows", "2 rows": the count and the noun that fits it.
std::string Counted(uint64_t n, std::string_view one, std::string_view many);
inline bool IsAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

}  // namespace its
