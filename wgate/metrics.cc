#include "wgate/metrics.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <string>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "wgate/outcome.h"

namespace its::wgate {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily& Family(std::vector<MetricFamily>* out, std::string name,
                     std::string help, MetricType type) {
  out->push_back(MetricFamily{std::move(name), std::move(help), type, {}});
  return out->back();
}

void AddCounter(std::vector<MetricFamily>* out, const char* name,
                const char* help, uint64_t v) {
  ClientMetric c;
  c.counter.value = static_cast<double>(v);
  Family(out, name, help, MetricType::Counter).metric.push_back(std::move(c));
}

ClientMetric Labelled(std::vector<ClientMetric::Label> labels) {
  ClientMetric c;
  c.label = std::move(labels);
  return c;
}

}  // namespace

std::string MetricsText(const Metrics& m, const ProcessDirectory& directory) {
  std::vector<MetricFamily> f;
  auto counter = [&f](const char* name, const char* help, uint64_t v) {
    AddCounter(&f, name, help, v);
  };
  counter("its_wgate_requests_total", "HTTP requests received", m.requests);
  counter("its_wgate_new_sessions_total",
          "New sessions sent to an AGate (steps 1-5)", m.new_sessions);
  counter("its_wgate_dialog_steps_total",
          "Requests of existing sessions (steps 1,4,5)", m.dialog_steps);
  counter("its_wgate_logon_pages_total", "Logon pages served without a session",
          m.logon_pages);
  counter("its_wgate_assign_calls_total", "Assign calls to Mapping Managers",
          m.assign_calls);
  counter("its_wgate_no_capacity_total",
          "New sessions refused: no free capacity (503)", m.no_capacity);
  counter("its_wgate_bad_session_total",
          "Requests with an unusable session ID (400)",
          m.no_session + m[proto::SESSION_NOT_FOUND] + m[proto::SESSION_LOST] +
              m[proto::SESSION_ENDED]);
  counter("its_wgate_bad_request_total",
          "Requests with malformed parameters (400)", m.bad_request);
  counter(
      "its_wgate_agate_unreachable_total",
      "Requests whose AGate process could not be reached (503)",
      m.start_unreachable + m[proto::AGATE_UNREACHABLE] + m[proto::STARTING]);
  counter("its_wgate_agate_timeouts_total",
          "Requests whose AGate process did not answer within step_timeout_s "
          "(504)",
          m.start_timeouts + m[proto::AGATE_TIMEOUT]);
  counter("its_wgate_undelivered_sessions_total",
          "New sessions whose answer reached no browser (the connection was "
          "gone, or the answer came after step_timeout_s); their AGate "
          "process ends them",
          m.undelivered_sessions);
  counter("its_dsm_requests_total", "DSM Terminator requests", m.dsm_requests);
  counter("its_dsm_terminated_total", "Sessions the DSM Terminator ended",
          m.dsm_terminated);
  counter("its_dsm_missed_total",
          "Terminator targets that ended nothing (not the owner, already "
          "ended, wrong token, or no answer in time)",
          m.dsm_missed);
  counter("its_dsm_unanswered_total",
          "Of the missed: the owning process did not answer in time (hung or "
          "unreachable; it may still end the session when it runs again)",
          m.dsm_unanswered);
  counter("its_wgate_terminations_held_total",
          "Session terminations kept because the owning AGate process could "
          "not be reached (its instance's directory not yet here, not "
          "registered, stream broken), to be sent once it can be",
          m.terminations_held);
  counter("its_wgate_terminations_given_up_total",
          "Kept session terminations dropped: the owner stayed unreachable "
          "for 10 minutes, or 16,384 were kept for its instance already",
          m.terminations_given_up);
  {
    ClientMetric g;
    g.gauge.value = static_cast<double>(m.terminations_kept);
    Family(&f, "its_wgate_terminations_kept",
           "Session terminations kept now for unreachable AGate processes",
           MetricType::Gauge)
        .metric.push_back(std::move(g));
  }
  counter("its_dsm_rejected_total",
          "Terminator targets refused: not this cluster's session URLs",
          m.dsm_rejected);
  counter("its_portal_refused_total", "Portal launch URLs refused",
          m.portal_refused);
  counter("its_wgate_misrouted_commands_total",
          "Session commands sent to a process other than the session's owner "
          "(routing \"naive\"): they end nothing",
          m.misrouted_commands);
  counter("its_wgate_routing_refused_total",
          "New sessions refused: ~agate_routing named an instance or process "
          "that cannot take them",
          m.routing_refused);
  MetricFamily& outcomes =
      Family(&f, "its_wgate_outcomes_total",
             "Answers to requests of sessions, by outcome (an AGate process's, "
             "or the wgate's own refusal)",
             MetricType::Counter);
  for (int i = 1; i < proto::Outcome_ARRAYSIZE; ++i) {
    if (!proto::Outcome_IsValid(i)) continue;
    ClientMetric c =
        Labelled({{"outcome",
                   std::string(OutcomeLabel(static_cast<proto::Outcome>(i)))}});
    c.counter.value = static_cast<double>(m.outcomes[i]);
    outcomes.metric.push_back(std::move(c));
  }
  MetricFamily& responses =
      Family(&f, "its_wgate_responses_total", "HTTP responses by status",
             MetricType::Counter);
  for (const auto& [status, n] : m.by_status) {
    ClientMetric c = Labelled({{"status", std::to_string(status)}});
    c.counter.value = static_cast<double>(n);
    responses.metric.push_back(std::move(c));
  }
  MetricFamily& latency = Family(
      &f, "its_wgate_request_seconds",
      "Real seconds from a service request's arrival to its answer, by kind: "
      "start (steps 1-5, logon included) or step (steps 1,4,5)",
      MetricType::Histogram);
  for (const auto& [kind, h] :
       {std::pair{"start", &m.start_seconds}, {"step", &m.step_seconds}}) {
    ClientMetric c = h->Collect();
    c.label = {{"kind", kind}};
    latency.metric.push_back(std::move(c));
  }
  MetricFamily& sessions =
      Family(&f, "its_agate_sessions", "Sessions per AGate process",
             MetricType::Gauge);
  MetricFamily& weight =
      Family(&f, "its_agate_weight", "Load weight w per AGate process",
             MetricType::Gauge);
  for (const auto& inst : directory.instances()) {
    for (const auto& p : inst.directory.processes()) {
      std::vector<ClientMetric::Label> labels = {
          {"instance", p.instance()},
          {"process", std::to_string(p.process())},
          {"pid", std::to_string(p.pid())}};
      ClientMetric s = Labelled(labels);
      s.gauge.value = p.sessions();
      sessions.metric.push_back(std::move(s));
      ClientMetric w = Labelled(std::move(labels));
      w.gauge.value = p.weight();
      weight.metric.push_back(std::move(w));
    }
  }
  return prometheus::TextSerializer().Serialize(f);
}

}  // namespace its::wgate
