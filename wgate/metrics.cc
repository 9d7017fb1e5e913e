#include "wgate/metrics.h"

#include "common/strings.h"
#include "wgate/outcome.h"

namespace its::wgate {

std::string MetricsText(const Metrics& m, const ProcessDirectory& directory) {
  std::string out;
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    out += Cat("# HELP ", name, " ", help, "\n# TYPE ", name, " counter\n",
               name, " ", v, "\n");
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
  counter("its_dsm_requests_total", "DSM Terminator requests", m.dsm_requests);
  counter("its_dsm_terminated_total", "Sessions the DSM Terminator ended",
          m.dsm_terminated);
  counter("its_dsm_missed_total",
          "Terminator targets that ended nothing (not the owner, already "
          "ended, wrong token)",
          m.dsm_missed);
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
  out +=
      "# HELP its_wgate_outcomes_total Answers to requests of sessions, "
      "by outcome (an AGate process's, or the wgate's own refusal)\n"
      "# TYPE its_wgate_outcomes_total counter\n";
  for (int i = 1; i < proto::Outcome_ARRAYSIZE; ++i) {
    if (!proto::Outcome_IsValid(i)) continue;
    out += Cat("its_wgate_outcomes_total{outcome=\"",
               OutcomeLabel(static_cast<proto::Outcome>(i)), "\"} ",
               m.outcomes[i], "\n");
  }
  out +=
      "# HELP its_wgate_responses_total HTTP responses by status\n"
      "# TYPE its_wgate_responses_total counter\n";
  for (const auto& [status, n] : m.by_status) {
    out += Cat("its_wgate_responses_total{status=\"", status, "\"} ", n, "\n");
  }
  out +=
      "# HELP its_agate_sessions Sessions per AGate process\n# TYPE "
      "its_agate_sessions gauge\n";
  for (const auto& inst : directory.instances()) {
    for (const auto& p : inst.directory.processes()) {
      out +=
          Cat("its_agate_sessions{instance=\"", p.instance(), "\",process=\"",
              p.process(), "\",pid=\"", p.pid(), "\"} ", p.sessions(), "\n");
    }
  }
  out +=
      "# HELP its_agate_weight Load weight w per AGate process\n# TYPE "
      "its_agate_weight gauge\n";
  for (const auto& inst : directory.instances()) {
    for (const auto& p : inst.directory.processes()) {
      out += Cat("its_agate_weight{instance=\"", p.instance(), "\",process=\"",
                 p.process(), "\",pid=\"", p.pid(), "\"} ", p.weight(), "\n");
    }
  }
  return out;
}

}  // namespace its::wgate
