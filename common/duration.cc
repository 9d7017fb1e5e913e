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
    double per;   // units per second (ms: divided, so that 2300ms is 2.3,
    double each;  // not 2.3000000000000003); seconds per unit
  };
  // "ms" before "s" and "m": the longest suffix that matches.
  for (const Unit& u : {Unit{"ms", 1000, 1}, Unit{"s", 1, 1}, Unit{"m", 1, 60},
                        Unit{"h", 1, 3600}}) {
    if (text.size() > u.suffix.size() &&
        text.substr(text.size() - u.suffix.size()) == u.suffix) {
      auto v = Number(text.substr(0, text.size() - u.suffix.size()));
      if (!v) return std::nullopt;
      return *v * u.each / u.per;
    }
  }
  auto v = Number(text);
  if (!v) return std::nullopt;
  return *v * plain_unit_s;
}

}  // namespace its
