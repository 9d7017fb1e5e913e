#include "agate/agate_metrics.h"

#include "common/strings.h"

namespace its::agate {
namespace {

// Outcomes that are no error of the process or its user.
bool IsError(proto::Outcome o) {
  switch (o) {
    case proto::PAGE:
    case proto::SESSION_STARTED:
    case proto::SERVICE_RESTARTED:
    case proto::LOGON_PAGE:
    case proto::TERMINATED:
    case proto::LOGGED_OFF:
    case proto::ALREADY_ENDED:
      return false;
    default:
      return true;
  }
}

}  // namespace

const char* EndReasonLabel(EndReason r) {
  switch (r) {
    case EndReason::kTimeout:
      return "timeout";
    case EndReason::kLogoff:
      return "logoff";
    case EndReason::kNex:
      return "nex";
    case EndReason::kTerminated:
      return "terminated";
    case EndReason::kReplaced:
      return "replaced";
    case EndReason::kR3Ended:
      return "r3_ended";
    case EndReason::kR3Lost:
      return "r3_lost";
    default:
      return "other";
  }
}

AgateMetrics::AgateMetrics(prometheus::Registry& registry,
                           const std::map<std::string, std::string>& labels,
                           int max_sessions, int max_threads,
                           uint32_t incarnation)
    : requests_(prometheus::BuildCounter()
                    .Name("its_agate_requests_total")
                    .Help("Requests received from wgates (starts, dialog "
                          "steps, terminations)")
                    .Labels(labels)
                    .Register(registry)
                    .Add({})),
      starts_(prometheus::BuildCounter()
                  .Name("its_agate_session_starts_total")
                  .Help("Sessions started (logged on at R/3)")
                  .Labels(labels)
                  .Register(registry)
                  .Add({})),
      step_(prometheus::BuildHistogram()
                .Name("its_agate_step_seconds")
                .Help("Dialog step turnaround: from taking a work thread to "
                      "R/3's answer (real seconds)")
                .Labels(labels)
                .Register(registry)
                .Add({}, LatencyBuckets())),
      logon_(prometheus::BuildHistogram()
                 .Name("its_agate_logon_seconds")
                 .Help("Logon turnaround: from taking a work thread to R/3's "
                       "answer (real seconds)")
                 .Labels(labels)
                 .Register(registry)
                 .Add({}, LatencyBuckets())),
      sessions_(prometheus::BuildGauge()
                    .Name("its_agate_sessions")
                    .Help("Active sessions of the process")
                    .Labels(labels)
                    .Register(registry)
                    .Add({})),
      busy_threads_(prometheus::BuildGauge()
                        .Name("its_agate_busy_threads")
                        .Help("Work threads busy (with R/3)")
                        .Labels(labels)
                        .Register(registry)
                        .Add({})),
      queued_(prometheus::BuildGauge()
                  .Name("its_agate_work_queue")
                  .Help("Steps and logons waiting for a free work thread")
                  .Labels(labels)
                  .Register(registry)
                  .Add({})),
      waited_(prometheus::BuildCounter()
                  .Name("its_agate_work_waits_total")
                  .Help("Steps and logons that waited for a free work thread "
                        "(work_threads smaller than the load needs)")
                  .Labels(labels)
                  .Register(registry)
                  .Add({})),
      weight_(prometheus::BuildGauge()
                  .Name("its_agate_weight")
                  .Help("Load weight w of the process, from its own load "
                        "report (docs/architecture.md 1.2)")
                  .Labels(labels)
                  .Register(registry)
                  .Add({})),
      draining_(prometheus::BuildGauge()
                    .Name("its_agate_draining")
                    .Help("1 while the process is drained (itsadm drain): no "
                          "new sessions")
                    .Labels(labels)
                    .Register(registry)
                    .Add({})) {
  auto& ends = prometheus::BuildCounter()
                   .Name("its_agate_session_ends_total")
                   .Help("Sessions ended, by reason")
                   .Labels(labels)
                   .Register(registry);
  for (int i = 0; i < static_cast<int>(EndReason::kCount); ++i)
    ends_[i] =
        &ends.Add({{"reason", EndReasonLabel(static_cast<EndReason>(i))}});
  auto& errors = prometheus::BuildCounter()
                     .Name("its_agate_errors_total")
                     .Help(
                         "Answers that refused or failed a request, by kind "
                         "(the proto Outcome)")
                     .Labels(labels)
                     .Register(registry);
  for (int i = 1; i < proto::Outcome_ARRAYSIZE; ++i) {
    auto o = static_cast<proto::Outcome>(i);
    // Only what an agate answers: the wgate's own outcomes are its own.
    if (!proto::Outcome_IsValid(i) || !IsError(o) ||
        o == proto::AGATE_UNREACHABLE || o == proto::AGATE_TIMEOUT ||
        o == proto::STARTING) {
      continue;
    }
    errors_[i] = &errors.Add({{"kind", ToLower(proto::Outcome_Name(o))}});
  }
  auto gauge = [&](const char* name, const char* help, double v) {
    prometheus::BuildGauge()
        .Name(name)
        .Help(help)
        .Labels(labels)
        .Register(registry)
        .Add({})
        .Set(v);
  };
  gauge("its_agate_max_sessions", "MaxSessions of the process", max_sessions);
  gauge("its_agate_max_threads", "MaxWorkThreads of the process", max_threads);
  gauge("its_agate_incarnation",
        "How often the Mapping Manager started this process slot", incarnation);
}

void AgateMetrics::Answered(proto::Outcome outcome) {
  if (outcome > 0 && outcome < proto::Outcome_ARRAYSIZE && errors_[outcome])
    errors_[outcome]->Increment();
}

}  // namespace its::agate
