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
    if (!p.up || p.sessions >= p.max_sessions) continue;
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

std::string PinnedRefusal(const std::vector<ProcessView>& processes,
                          int process, int max_agates) {
  if (process < 0 || process >= max_agates) {
    return Cat("does not exist (MaxAGates ", max_agates, ")");
  }
  for (const ProcessView& p : processes) {
    if (p.process != process) continue;
    if (p.up) {
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
