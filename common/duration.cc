#include "common/duration.h"

#include <cstdlib>
#include <string>

namespace its {
namespace {

std::optional<double> Number(std::string_view text) {
  std::string number(text);
  char* end = nullptr;
  double v = std::strtod(number.c_str(), &end);
  if (number.empty() || end == number.c_str() || *end != '\0' || !(v >= 0))
    return std::nullopt;
  return v;
}

}  // namespace

std::optional<double> ParseDuration(std::string_view text,
                                    double plain_unit_s) {
  struct Unit {
    std::string_view suffix;
    // seconds = value * num / den: "2300ms" is 2300 / 1000 = 2.3, where
    // 2300 * 0.001 would be 2.3000000000000003.
    double num, den;
  };
  // "ms" before "s" and "m": the longest suffix that matches.
  for (const Unit& u : {Unit{"ms", 1, 1000}, Unit{"s", 1, 1}, Unit{"m", 60, 1},
                        Unit{"h", 3600, 1}}) {
    if (text.size() > u.suffix.size() &&
        text.substr(text.size() - u.suffix.size()) == u.suffix) {
      auto v = Number(text.substr(0, text.size() - u.suffix.size()));
      if (!v) return std::nullopt;
      return *v * u.num / u.den;
    }
  }
  auto v = Number(text);
  if (!v) return std::nullopt;
  return *v * plain_unit_s;
}

}  // namespace its
