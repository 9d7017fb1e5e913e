#include "clients/load_stats_codec.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "common/strings.h"

namespace its::load {
namespace {

constexpr uint64_t kBuckets =
    static_cast<uint64_t>(Histogram::kMaxExp + 1) * Histogram::kSub;

void EncodeBuckets(const Histogram::Buckets& buckets, int64_t min, int64_t max,
                   double sum, pb::Histogram* out) {
  out->mutable_index()->Reserve(static_cast<int>(buckets.size()));
  out->mutable_count()->Reserve(static_cast<int>(buckets.size()));
  for (const auto& [i, c] : buckets) {
    out->add_index(i);
    out->add_count(c);
  }
  out->set_min_us(min);
  out->set_max_us(max);
  out->set_sum_us(sum);
}

void EncodeHistogram(const Histogram& h, pb::Histogram* out) {
  EncodeBuckets(h.NonEmpty(), h.min(), h.max(), h.sum(), out);
}

void EncodeStep(const StepStats& s, pb::StepStats* out) {
  out->set_requests(s.requests);
  out->set_errors(s.errors);
  EncodeHistogram(s.latency, out->mutable_latency());
}

// The buckets of `in`, and how many values they hold; `what` names the
// histogram in the error.
absl::Status DecodeBuckets(const pb::Histogram& in, const std::string& what,
                           Histogram::Buckets* out, uint64_t* values) {
  if (in.index_size() != in.count_size()) {
    return absl::DataLossError(Cat(what, ": ", in.index_size(),
                                   " bucket indices but ", in.count_size(),
                                   " counts"));
  }
  out->clear();
  out->reserve(static_cast<size_t>(in.index_size()));
  *values = 0;
  bool any = false;
  for (int k = 0; k < in.index_size(); ++k) {
    if (in.index(k) >= kBuckets) {
      return absl::DataLossError(
          Cat(what, ": bucket ", in.index(k), " out of range"));
    }
    *values += in.count(k);
    any |= in.count(k) > 0;
    out->emplace_back(in.index(k), in.count(k));
  }
  // Every latency (never negative) is in the sum and within the extremes: a
  // sum that is not a number or more than count × maximum, a minimum above
  // the maximum, is corruption, not a figure (found by
  // tests/fuzz/load_stats_fuzz.cc: a NaN or huge sum made the report's mean
  // NaN or infinite).
  const double most =
      static_cast<double>(in.max_us()) * static_cast<double>(*values);
  if (!std::isfinite(in.sum_us()) || in.sum_us() < 0 || in.min_us() < 0 ||
      (any &&
       (in.min_us() > in.max_us() || in.sum_us() > most * (1 + 1e-9) + 1))) {
    return absl::DataLossError(Cat(what, ": latency sum ", in.sum_us(),
                                   ", min ", in.min_us(), " us, max ",
                                   in.max_us(), " us"));
  }
  return absl::OkStatus();
}

absl::Status DecodeStep(const pb::StepStats& in, const std::string& what,
                        StepStats* out) {
  Histogram::Buckets buckets;
  uint64_t values = 0;
  if (auto s = DecodeBuckets(in.latency(), what, &buckets, &values); !s.ok())
    return s;
  // Every request has its latency recorded (LoadStats::Request).
  if (values != in.requests() || in.errors() > in.requests()) {
    return absl::DataLossError(Cat(what, ": ", in.requests(), " requests, ",
                                   in.errors(), " errors, ", values,
                                   " latencies"));
  }
  out->requests = in.requests();
  out->errors = in.errors();
  out->latency.Add(buckets, in.latency().min_us(), in.latency().max_us(),
                   in.latency().sum_us());
  return absl::OkStatus();
}

}  // namespace

void LoadStatsCodec::ToProto(const LoadStats& stats, pb::LoadStats* out) {
  out->Clear();
  EncodeStep(stats.all_, out->mutable_all());
  out->set_transport_errors(stats.transport_errors_);
  out->set_backoffs(stats.backoffs_);
  out->set_backoff_wait_s(stats.backoff_wait_s_);
  out->set_dropped(stats.dropped_);
  out->set_logged_off_at_end(stats.logged_off_at_end_);
  out->set_logoff_failed(stats.logoff_failed_);
  out->set_logged_off_after_failure(stats.logged_off_after_failure_);
  out->set_failure_logoff_failed(stats.failure_logoff_failed_);
  for (const LoadStats::Journey& j : stats.journeys_) {
    pb::Journey* pj = out->add_journeys();
    pj->set_name(j.name);
    for (const std::string& n : j.slot_names) pj->add_slot_names(n);
    for (const StepStats& s : j.slots) EncodeStep(s, pj->add_slots());
    EncodeStep(j.all, pj->mutable_all());
    pj->set_started(j.counts.started);
    pj->set_completed(j.counts.completed);
    pj->set_failed(j.counts.failed);
    pj->set_interrupted(j.counts.interrupted);
  }
  for (const auto& [k, v] : stats.agates_) (*out->mutable_agates())[k] = v;
  for (const auto& [k, v] : stats.error_kinds_)
    (*out->mutable_error_kinds())[k] = v;
  out->set_first_second(0);
  for (const LoadStats::Second& s : stats.timeline_) {
    pb::Second* ps = out->add_timeline();
    ps->set_requests(s.requests);
    ps->set_errors(s.errors);
    ps->set_arrivals(s.arrivals);
    ps->set_active(s.active);
    ps->set_target(s.target);
    EncodeBuckets(s.buckets, s.min, s.max, s.sum, ps->mutable_latency());
  }
  out->set_cpu_s(stats.cpu_s_);
  out->set_wall_s(stats.wall_s_);
}

std::vector<pb::LoadStats> LoadStatsCodec::ToParts(const LoadStats& stats,
                                                   size_t seconds_per_part) {
  pb::LoadStats all;
  ToProto(stats, &all);
  seconds_per_part = std::max<size_t>(seconds_per_part, 1);
  const size_t n = static_cast<size_t>(all.timeline_size());
  std::vector<pb::LoadStats> parts;
  // Every part but the last: a slice of the timeline.
  size_t first = 0;
  for (; n - first > seconds_per_part; first += seconds_per_part) {
    pb::LoadStats& part = parts.emplace_back();
    part.set_first_second(static_cast<int64_t>(first));
    for (size_t i = first; i < first + seconds_per_part; ++i) {
      part.add_timeline()->Swap(all.mutable_timeline(static_cast<int>(i)));
    }
  }
  // The last: the rest of the timeline and everything else.
  all.mutable_timeline()->DeleteSubrange(0, static_cast<int>(first));
  all.set_first_second(static_cast<int64_t>(first));
  parts.push_back(std::move(all));
  return parts;
}

absl::StatusOr<LoadStats> LoadStatsCodec::FromProto(const pb::LoadStats& in,
                                                    const Scenario& scenario) {
  LoadStats out(scenario);
  // Of the same scenario: the same journeys with the same step slots.
  if (static_cast<size_t>(in.journeys_size()) != out.journeys_.size()) {
    return absl::FailedPreconditionError(
        Cat("figures of another scenario: ", in.journeys_size(),
            " journeys, not ", out.journeys_.size()));
  }
  for (size_t i = 0; i < out.journeys_.size(); ++i) {
    LoadStats::Journey& j = out.journeys_[i];
    const pb::Journey& pj = in.journeys(static_cast<int>(i));
    if (pj.name() != j.name) {
      return absl::FailedPreconditionError(
          Cat("figures of another scenario: journey ", i, " is '", pj.name(),
              "', not '", j.name, "'"));
    }
    if (static_cast<size_t>(pj.slot_names_size()) != j.slot_names.size() ||
        !std::equal(j.slot_names.begin(), j.slot_names.end(),
                    pj.slot_names().begin())) {
      std::string theirs;
      for (const std::string& n : pj.slot_names())
        theirs += (theirs.empty() ? "" : ", ") + n;
      return absl::FailedPreconditionError(
          Cat("figures of another scenario: the steps of journey '", j.name,
              "' are ", theirs.empty() ? "none" : theirs));
    }
    if (pj.slots_size() != pj.slot_names_size()) {
      return absl::DataLossError(
          Cat("journey '", j.name, "': ", pj.slots_size(), " step figures for ",
              pj.slot_names_size(), " steps"));
    }
    for (size_t k = 0; k < j.slots.size(); ++k) {
      if (auto s = DecodeStep(pj.slots(static_cast<int>(k)),
                              Cat(j.name, "/", j.slot_names[k]), &j.slots[k]);
          !s.ok())
        return s;
    }
    if (auto s = DecodeStep(pj.all(), j.name, &j.all); !s.ok()) return s;
    j.counts.started = pj.started();
    j.counts.completed = pj.completed();
    j.counts.failed = pj.failed();
    j.counts.interrupted = pj.interrupted();
  }
  if (auto s = DecodeStep(in.all(), "all requests", &out.all_); !s.ok())
    return s;
  for (double d : {in.backoff_wait_s(), in.cpu_s(), in.wall_s()}) {
    if (!std::isfinite(d))
      return absl::DataLossError("a time that is not a finite number");
  }
  out.transport_errors_ = in.transport_errors();
  out.backoffs_ = in.backoffs();
  out.backoff_wait_s_ = in.backoff_wait_s();
  out.dropped_ = in.dropped();
  out.logged_off_at_end_ = in.logged_off_at_end();
  out.logoff_failed_ = in.logoff_failed();
  out.logged_off_after_failure_ = in.logged_off_after_failure();
  out.failure_logoff_failed_ = in.failure_logoff_failed();
  for (const auto& [k, v] : in.agates()) out.agates_[k] = v;
  for (const auto& [k, v] : in.error_kinds()) out.error_kinds_[k] = v;
  if (in.first_second() < 0 ||
      in.first_second() > kMaxSeconds - in.timeline_size()) {
    return absl::DataLossError(Cat("a timeline of ", in.timeline_size(),
                                   " seconds after second ", in.first_second(),
                                   " (at most ", kMaxSeconds, " in all)"));
  }
  out.timeline_.resize(
      static_cast<size_t>(in.first_second() + in.timeline_size()));
  for (int i = 0; i < in.timeline_size(); ++i) {
    const pb::Second& ps = in.timeline(i);
    const int64_t n = in.first_second() + i;
    LoadStats::Second& s = out.timeline_[static_cast<size_t>(n)];
    uint64_t values = 0;
    if (auto st = DecodeBuckets(ps.latency(), Cat("second ", n + 1), &s.buckets,
                                &values);
        !st.ok())
      return st;
    // Journeys in progress: a merge adds them up (int).
    if (ps.active() < 0 || ps.active() > (1 << 24)) {
      return absl::DataLossError(
          Cat("second ", n + 1, ": ", ps.active(), " journeys in progress"));
    }
    if (!std::isfinite(ps.target())) {
      return absl::DataLossError(
          Cat("second ", n + 1, ": a target that is not a finite number"));
    }
    if (values != ps.requests() || ps.errors() > ps.requests()) {
      return absl::DataLossError(Cat("second ", n + 1, ": ", ps.requests(),
                                     " requests, ", ps.errors(), " errors, ",
                                     values, " latencies"));
    }
    s.requests = ps.requests();
    s.errors = ps.errors();
    s.arrivals = ps.arrivals();
    s.active = ps.active();
    s.target = ps.target();
    s.min = ps.latency().min_us();
    s.max = ps.latency().max_us();
    s.sum = ps.latency().sum_us();
  }
  out.cpu_s_ = in.cpu_s();
  out.wall_s_ = in.wall_s();
  return out;
}

}  // namespace its::load
