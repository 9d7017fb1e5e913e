#include "clients/thresholds.h"

#include <cmath>
#include <cstdlib>

#include "absl/status/status.h"
#include "common/strings.h"

namespace its::load {
namespace {

bool Number(std::string_view text, double* out) {
  std::string s(text);
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && std::isfinite(*out);
}

bool IsLatency(Threshold::Metric m) {
  return m == Threshold::kPercentile || m == Threshold::kMin ||
         m == Threshold::kMax || m == Threshold::kMean;
}

}  // namespace

absl::StatusOr<Threshold> ParseThreshold(std::string_view text) {
  Threshold t;
  t.text = std::string(text);
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        Cat("threshold '", text, "': ", why,
            " (e.g. p99<50ms, errors<1%, step:enter-document:p95<20ms)"));
  };
  std::string_view rest = text;
  for (std::string_view scope : {"step:", "journey:"}) {
    if (rest.substr(0, scope.size()) != scope) continue;
    rest.remove_prefix(scope.size());
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return bad(Cat("no name after ", scope));
    std::string_view name = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
    if (scope == "journey:") {
      t.journey = std::string(name);
    } else if (size_t slash = name.find('/'); slash != std::string_view::npos) {
      t.journey = std::string(name.substr(0, slash));
      t.step = std::string(name.substr(slash + 1));
      if (t.journey.empty() || t.step.empty())
        return bad("step scope is STEP or JOURNEY/STEP");
    } else {
      t.step = std::string(name);
    }
    break;
  }
  size_t op = rest.find_first_of("<>=");
  if (op == std::string_view::npos || op == 0)
    return bad("expected METRIC<VALUE, METRIC>VALUE, <=, >= or ==");
  std::string_view metric = rest.substr(0, op);
  std::string_view value = rest.substr(op);
  for (auto [sym, o] :
       {std::pair{"<=", Threshold::kLe}, std::pair{">=", Threshold::kGe},
        std::pair{"==", Threshold::kEq}, std::pair{"<", Threshold::kLt},
        std::pair{">", Threshold::kGt}}) {
    std::string_view s(sym);
    if (value.substr(0, s.size()) == s) {
      t.op = o;
      value.remove_prefix(s.size());
      break;
    }
  }
  if (value.empty() || value.find_first_of("<>=") == 0)
    return bad("no value after the comparison");
  if (metric == "min") {
    t.metric = Threshold::kMin;
  } else if (metric == "max") {
    t.metric = Threshold::kMax;
  } else if (metric == "mean" || metric == "avg") {
    t.metric = Threshold::kMean;
  } else if (metric == "errors") {
    t.metric = Threshold::kErrors;
  } else if (metric == "failed") {
    t.metric = Threshold::kFailed;
  } else if (metric == "rps") {
    t.metric = Threshold::kRps;
  } else if (metric == "requests") {
    t.metric = Threshold::kRequests;
  } else if (metric.size() > 1 && metric[0] == 'p' &&
             Number(metric.substr(1), &t.percentile) && t.percentile > 0 &&
             t.percentile <= 100) {
    t.metric = Threshold::kPercentile;
  } else {
    return bad(Cat("unknown metric '", metric,
                   "' (p50, p90, p95, p99, p99.9, any pN, min, max, mean, "
                   "errors, failed, rps, requests)"));
  }
  if (t.metric == Threshold::kFailed && !t.step.empty())
    return bad("failed counts journeys: it has no step scope");
  double scale = 1;
  std::string_view number = value;
  if (IsLatency(t.metric)) {
    for (auto [unit, ms] : {std::pair{"us", 0.001}, std::pair{"ms", 1.0},
                            std::pair{"s", 1000.0}, std::pair{"m", 60000.0}}) {
      std::string_view u(unit);
      if (value.size() > u.size() &&
          value.substr(value.size() - u.size()) == u &&
          !std::isalpha(
              static_cast<unsigned char>(value[value.size() - u.size() - 1]))) {
        scale = ms;
        number = value.substr(0, value.size() - u.size());
        break;
      }
    }
    // A plain number is milliseconds.
  } else if (value.back() == '%') {
    if (t.metric != Threshold::kErrors && t.metric != Threshold::kFailed)
      return bad("only errors and failed take a %");
    t.percent = true;
    number = value.substr(0, value.size() - 1);
  }
  if (!Number(number, &t.limit) || t.limit < 0)
    return bad(Cat("'", value, "' is not a number (with a unit for latency)"));
  t.limit *= scale;
  return t;
}

ThresholdResult Evaluate(const Threshold& t, const LoadStats& stats,
                         double elapsed_s) {
  ThresholdResult r;
  LoadStats::Figures f;
  if (!stats.Select(t.journey, t.step, &f)) {
    r.no_data = true;
    return r;
  }
  const StepStats& s = f.stats;
  auto ms = [](int64_t us) { return static_cast<double>(us) / 1000.0; };
  auto share = [&](uint64_t part, uint64_t whole) {
    if (whole == 0) r.no_data = true;
    return whole == 0
               ? 0.0
               : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  };
  r.unit = IsLatency(t.metric) ? "ms" : t.percent ? "%" : "";
  if (IsLatency(t.metric) && s.requests == 0) r.no_data = true;
  const uint64_t ended =
      f.journeys.completed + f.journeys.failed + f.journeys.interrupted;
  switch (t.metric) {
    case Threshold::kPercentile:
      r.value = ms(s.latency.Percentile(t.percentile));
      break;
    case Threshold::kMin:
      r.value = ms(s.latency.min());
      break;
    case Threshold::kMax:
      r.value = ms(s.latency.max());
      break;
    case Threshold::kMean:
      r.value = s.latency.mean() / 1000.0;
      break;
    case Threshold::kErrors:
      r.value = t.percent ? share(s.errors, s.requests)
                          : static_cast<double>(s.errors);
      break;
    case Threshold::kFailed:
      r.value = t.percent ? share(f.journeys.failed, ended)
                          : static_cast<double>(f.journeys.failed);
      break;
    case Threshold::kRps:
      r.unit = "/s";
      r.value = elapsed_s > 0 ? static_cast<double>(s.requests) / elapsed_s : 0;
      break;
    case Threshold::kRequests:
      r.value = static_cast<double>(s.requests);
      break;
  }
  switch (t.op) {
    case Threshold::kLt:
      r.ok = r.value < t.limit;
      break;
    case Threshold::kLe:
      r.ok = r.value <= t.limit;
      break;
    case Threshold::kGt:
      r.ok = r.value > t.limit;
      break;
    case Threshold::kGe:
      r.ok = r.value >= t.limit;
      break;
    case Threshold::kEq:
      r.ok = r.value == t.limit;
      break;
  }
  if (r.no_data) r.ok = false;
  return r;
}

std::string Describe(const Threshold& t, const ThresholdResult& r) {
  if (r.no_data) return Cat(t.text, " (nothing measured)");
  std::string unit = r.unit == "%" || r.unit.empty() || r.unit == "/s"
                         ? r.unit
                         : Cat(" ", r.unit);
  return Cat(t.text, " (", fmt::format("{:.4g}", r.value), unit, ")");
}

}  // namespace its::load
