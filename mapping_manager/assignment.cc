#include "mapping_manager/assignment.h"

#include "common/strings.h"

namespace its::mm {

Assignment AssignProcess(const std::vector<ProcessView>& processes,
                         double overload_weight, int max_agates) {
  const ProcessView* best = nullptr;        // highest PID, not overloaded
  const ProcessView* least_busy = nullptr;  // highest w with a free session
  int running = 0;
  bool starting = false;
  for (const ProcessView& p : processes) {
    if (p.up || p.starting) ++running;
    starting |= p.starting;
    if (!p.up || p.draining || p.sessions >= p.max_sessions) continue;
    if (p.weight >= overload_weight && (!best || p.pid > best->pid)) best = &p;
    if (!least_busy || p.weight > least_busy->weight ||
        (p.weight == least_busy->weight && p.pid > least_busy->pid)) {
      least_busy = &p;
    }
  }
  if (best) return {Assignment::kAssign, best->process};
  if (starting) return {Assignment::kWait, -1};
  if (running < max_agates) return {Assignment::kScaleUp, -1};
  if (least_busy) return {Assignment::kAssign, least_busy->process};
  return {Assignment::kFull, -1};
}

Assignment ExplainAssignment(const std::vector<ProcessView>& processes,
                             double overload_weight, int max_agates,
                             std::string* why) {
  Assignment a = AssignProcess(processes, overload_weight, max_agates);
  const ProcessView* chosen = nullptr;
  const ProcessView* highest = nullptr;  // highest PID that is up
  int full = 0, up = 0;
  for (const ProcessView& p : processes) {
    if (p.process == a.process) chosen = &p;
    if (!p.up) continue;
    ++up;
    if (p.sessions >= p.max_sessions) ++full;
    if (!highest || p.pid > highest->pid) highest = &p;
  }
  switch (a.kind) {
    case Assignment::kAssign:
      if (chosen->weight < overload_weight) {
        *why =
            Cat("every process overloaded and ", max_agates,
                " running (MaxAGates): highest w ",
                fmt::format("{:.2f}", chosen->weight), ", PID ", chosen->pid);
      } else if (chosen == highest) {
        *why = Cat("highest PID ", chosen->pid);
      } else if (highest->draining) {
        *why = Cat("PID ", highest->pid, " draining, next highest PID ",
                   chosen->pid);
      } else if (highest->sessions >= highest->max_sessions) {
        *why =
            Cat("PID ", highest->pid, " full, next highest PID ", chosen->pid);
      } else {
        *why = Cat("PID ", highest->pid, " overloaded (w ",
                   fmt::format("{:.2f}", highest->weight), " < ",
                   fmt::format("{:.2f}", overload_weight),
                   "), next highest PID ", chosen->pid);
      }
      break;
    case Assignment::kScaleUp:
      *why = up == 0 ? "no process up: starting one"
                     : "every process overloaded: starting more";
      break;
    case Assignment::kWait:
      *why = "every process overloaded, more starting: waiting for them";
      break;
    case Assignment::kFull:
      *why = up == 0 ? "no process up and MaxAGates reached"
                     : Cat("every process full (", full, " of ", up,
                           ") and MaxAGates running");
      break;
  }
  return a;
}

std::string PinnedRefusal(const std::vector<ProcessView>& processes,
                          int process, int max_agates) {
  if (process < 0 || process >= max_agates) {
    return Cat("does not exist (MaxAGates ", max_agates, ")");
  }
  for (const ProcessView& p : processes) {
    if (p.process != process) continue;
    if (p.up) {
      if (p.draining) return "is draining (itsadm drain)";
      if (p.sessions >= p.max_sessions) {
        return Cat("has no free session (", p.sessions, " of ", p.max_sessions,
                   ")");
      }
      return "";
    }
    if (p.starting) return "is starting";
    if (p.unresponsive) return "is unresponsive";
    return "is down";
  }
  return "is not running (the instance runs fewer processes)";
}

}  // namespace its::mm
