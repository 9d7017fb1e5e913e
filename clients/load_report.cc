#include "clients/load_report.h"

#include <algorithm>
#include <cmath>

#include "common/params.h"
#include "common/strings.h"

namespace its::load {
namespace {

double Ms(int64_t us) { return static_cast<double>(us) / 1000.0; }

nlohmann::json StepJson(const StepStats& s) {
  return {{"requests", s.requests},
          {"errors", s.errors},
          {"latency_ms", LatencyJson(s.latency)}};
}

}  // namespace

nlohmann::json LatencyJson(const Histogram& h) {
  return {{"min", Ms(h.min())},          {"p50", Ms(h.Percentile(50))},
          {"p90", Ms(h.Percentile(90))}, {"p95", Ms(h.Percentile(95))},
          {"p99", Ms(h.Percentile(99))}, {"p999", Ms(h.Percentile(99.9))},
          {"max", Ms(h.max())},          {"mean", h.mean() / 1000.0}};
}

LoadStats::LoadStats(const Scenario& scenario) {
  for (const JourneyDef& j : scenario.journeys) {
    Journey& js = journeys_.emplace_back();
    StepSlots& slots = slots_.emplace_back();
    js.name = j.name;
    auto slot = [&js](const std::string& name) {
      for (size_t i = 0; i < js.slot_names.size(); ++i) {
        if (js.slot_names[i] == name) return static_cast<int>(i);
      }
      js.slot_names.push_back(name);
      return static_cast<int>(js.slot_names.size() - 1);
    };
    slots.logon = slot("logon");
    for (const StepDef& st : j.steps) slots.steps.push_back(slot(st.name));
    if (j.end != JourneyDef::kAbandon) slots.end = slot(EndName(j.end));
    js.slots.resize(js.slot_names.size());
  }
}

void LoadStats::Start(Clock::time_point start) { start_ = start; }

void LoadStats::Request(StepKey key, int status, const std::string& error,
                        const std::string& agate, Clock::time_point intended,
                        Clock::time_point now) {
  int64_t us =
      std::chrono::duration_cast<std::chrono::microseconds>(now - intended)
          .count();
  // `error` with a status: the page failed a check (clients/page_check.h).
  bool ok = status >= 200 && status < 400 && error.empty();
  Journey& j = journeys_[static_cast<size_t>(key.journey)];
  StepStats& s = j.slots[static_cast<size_t>(key.slot)];
  for (StepStats* t : {&all_, &j.all, &s}) {
    ++t->requests;
    t->latency.Record(us);
    if (!ok) ++t->errors;
  }
  ++current_.requests;
  current_latency_.Record(us);
  if (!ok) {
    ++current_.errors;
    ++error_kinds_[status == 0     ? error
                   : error.empty() ? Cat("HTTP ", status)
                   : status >= 400 ? Cat("HTTP ", status, ": ", error)
                                   : error];
  }
  if (status == 0) ++transport_errors_;
  if (!agate.empty()) ++agates_[agate];
}

void LoadStats::JourneyStarted(int journey) {
  ++journeys_[static_cast<size_t>(journey)].counts.started;
  ++current_.arrivals;
}

void LoadStats::JourneyEnded(int journey, Ending how) {
  JourneyCounts& c = journeys_[static_cast<size_t>(journey)].counts;
  switch (how) {
    case Ending::kCompleted:
      ++c.completed;
      break;
    case Ending::kFailed:
      ++c.failed;
      break;
    case Ending::kInterrupted:
      ++c.interrupted;
      break;
  }
}

void LoadStats::BackedOff(double wait_ms) {
  ++backoffs_;
  backoff_wait_s_ += wait_ms / 1000;
}

std::string LoadStats::EndOfSecond(int64_t n, int active, double target) {
  Second s = std::move(current_);
  current_ = Second{};
  s.active = active;
  s.target = target;
  s.buckets = current_latency_.NonEmpty();
  s.min = current_latency_.min();
  s.max = current_latency_.max();
  s.sum = current_latency_.sum();
  std::string line = fmt::format(
      "t={:>3}s rps={:>7} errors={:<5} active={:<6} p50={:.2f}ms "
      "p99={:.2f}ms\n",
      n, s.requests, s.errors, active, Ms(current_latency_.Percentile(50)),
      Ms(current_latency_.Percentile(99)));
  current_latency_.Clear();
  if (timeline_.size() < static_cast<size_t>(n)) {
    timeline_.resize(static_cast<size_t>(n));
  }
  timeline_[static_cast<size_t>(n - 1)] = std::move(s);
  return line;
}

void LoadStats::Finished(double wall_s, double cpu_s) {
  wall_s_ = wall_s;
  cpu_s_ = cpu_s;
}

void LoadStats::Merge(const LoadStats& o) {
  all_.Add(o.all_);
  transport_errors_ += o.transport_errors_;
  backoffs_ += o.backoffs_;
  backoff_wait_s_ += o.backoff_wait_s_;
  dropped_ += o.dropped_;
  logged_off_at_end_ += o.logged_off_at_end_;
  logged_off_after_failure_ += o.logged_off_after_failure_;
  failure_logoff_failed_ += o.failure_logoff_failed_;
  logoff_failed_ += o.logoff_failed_;
  for (size_t i = 0; i < journeys_.size() && i < o.journeys_.size(); ++i) {
    Journey& j = journeys_[i];
    const Journey& oj = o.journeys_[i];
    j.all.Add(oj.all);
    j.counts.Add(oj.counts);
    for (size_t k = 0; k < j.slots.size() && k < oj.slots.size(); ++k) {
      j.slots[k].Add(oj.slots[k]);
    }
  }
  for (const auto& [k, v] : o.agates_) agates_[k] += v;
  for (const auto& [k, v] : o.error_kinds_) error_kinds_[k] += v;
  if (timeline_.size() < o.timeline_.size()) {
    timeline_.resize(o.timeline_.size());
  }
  for (size_t i = 0; i < o.timeline_.size(); ++i) {
    Second& s = timeline_[i];
    const Second& os = o.timeline_[i];
    Histogram h;
    h.Add(s.buckets, s.min, s.max, s.sum);
    h.Add(os.buckets, os.min, os.max, os.sum);
    s.buckets = h.NonEmpty();
    s.min = h.min();
    s.max = h.max();
    s.sum = h.sum();
    s.requests += os.requests;
    s.errors += os.errors;
    s.arrivals += os.arrivals;
    s.active += os.active;
    if (os.target >= 0) s.target = std::max(s.target, 0.0) + os.target;
  }
  // Workers run side by side: the run took as long as the longest, and used
  // the CPU of all.
  wall_s_ = std::max(wall_s_, o.wall_s_);
  cpu_s_ += o.cpu_s_;
}

bool LoadStats::Select(std::string_view journey, std::string_view step,
                       Figures* out) const {
  *out = Figures{};
  bool found = journey.empty() && step.empty();
  for (const Journey& j : journeys_) {
    if (!journey.empty() && j.name != journey) continue;
    if (step.empty()) {
      out->stats.Add(j.all);
      out->journeys.Add(j.counts);
      found = true;
      continue;
    }
    for (size_t k = 0; k < j.slot_names.size(); ++k) {
      if (j.slot_names[k] != step) continue;
      out->stats.Add(j.slots[k]);
      found = true;
    }
  }
  return found;
}

nlohmann::json LoadStats::Report(const std::string& scenario,
                                 bool open_model) const {
  nlohmann::json steps = nlohmann::json::object();
  nlohmann::json by_journey = nlohmann::json::object();
  JourneyCounts total;
  for (const Journey& j : journeys_) {
    total.Add(j.counts);
    nlohmann::json js = nlohmann::json::object();
    for (size_t k = 0; k < j.slots.size(); ++k) {
      js[j.slot_names[k]] = StepJson(j.slots[k]);
      steps[Cat(j.name, "/", j.slot_names[k])] = StepJson(j.slots[k]);
    }
    by_journey[j.name] = {{"started", j.counts.started},
                          {"completed", j.counts.completed},
                          {"failed", j.counts.failed},
                          {"interrupted", j.counts.interrupted},
                          {"requests", j.all.requests},
                          {"errors", j.all.errors},
                          {"latency_ms", LatencyJson(j.all.latency)},
                          {"steps", js}};
  }
  nlohmann::json timeline = nlohmann::json::array();
  Histogram h;
  for (size_t i = 0; i < timeline_.size(); ++i) {
    const Second& s = timeline_[i];
    h.Clear();
    h.Add(s.buckets, s.min, s.max, s.sum);
    nlohmann::json t = {{"t", i + 1},
                        {"requests", s.requests},
                        {"errors", s.errors},
                        {"p50_ms", Ms(h.Percentile(50))},
                        {"p90_ms", Ms(h.Percentile(90))},
                        {"p99_ms", Ms(h.Percentile(99))},
                        {"active", s.active},
                        {"arrivals", s.arrivals}};
    if (s.target >= 0) t["target"] = s.target;
    timeline.push_back(std::move(t));
  }
  const double seconds = wall_s_ > 0 ? wall_s_ : 1;
  return {
      {"scenario", scenario},
      {"model", open_model ? "open" : "closed"},
      {"duration_s", wall_s_},
      {"requests", all_.requests},
      {"errors", all_.errors},
      {"transport_errors", transport_errors_},
      {"backoffs", backoffs_},
      {"backoff_wait_s", backoff_wait_s_},
      {"throughput_rps", static_cast<double>(all_.requests) / seconds},
      {"latency_ms", LatencyJson(all_.latency)},
      {"journeys",
       {{"started", total.started},
        {"completed", total.completed},
        {"failed", total.failed},
        {"interrupted", total.interrupted},
        {"dropped", dropped_},
        {"logged_off_at_end", logged_off_at_end_},
        {"logoff_at_end_failed", logoff_failed_},
        {"logged_off_after_failure", logged_off_after_failure_},
        {"logoff_after_failure_failed", failure_logoff_failed_}}},
      {"by_journey", by_journey},
      {"steps", steps},
      {"agates", agates_},
      {"errors_by_kind", error_kinds_},
      {"itsload_cpu_percent", 100.0 * cpu_s_ / seconds},
      {"itsload_cpu_us_per_request",
       all_.requests > 0 ? cpu_s_ * 1e6 / static_cast<double>(all_.requests)
                         : 0.0},
      {"timeline", timeline},
  };
}

}  // namespace its::load
