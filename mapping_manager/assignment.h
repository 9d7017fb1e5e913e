#pragma once

#include <string>
#include <vector>

namespace its::mm {

// What the Mapping Manager knows of one AGate process when it assigns.
struct ProcessView {
  int process = 0;
  int pid = 0;
  bool up = false;        // registered and alive
  bool starting = false;  // started, not yet registered
  double weight = 1.0;    // load weight w
  int sessions = 0;
  int max_sessions = 1;
  bool draining = false;      // takes no new session (itsadm drain)
  bool unresponsive = false;  // alive, its load reports stopped
};

struct Assignment {
  enum Kind {
    kAssign,   // give the session to `process`
    kScaleUp,  // all live processes are overloaded: start more and wait
    kWait,     // all overloaded, more are already starting: wait for them
    kFull,     // every process is full and MaxAGates are running
  };
  Kind kind = kFull;
  int process = -1;
};

// The Mapping Manager's rule (docs/architecture.md §1.2): the live process with
// the highest PID, unless it is overloaded (w < overload_weight); then the
// next highest PID that is not. When all are overloaded: start more while
// fewer than `max_agates` run; otherwise the one with the highest w that
// still has a free session. `running` counts processes up or starting.
Assignment AssignProcess(const std::vector<ProcessView>& processes,
                         double overload_weight, int max_agates);

// The same decision, with why in words ("highest PID 4242",
// "PID 4250 overloaded (w 0.10 < 0.20), next highest PID 4242", "every
// process overloaded: starting more", ...): what the Mapping Manager logs
// for each assignment and the topology page says of the next session.
Assignment ExplainAssignment(const std::vector<ProcessView>& processes,
                             double overload_weight, int max_agates,
                             std::string* why);

// ~agate_routing=<instance>:<process> (docs/architecture.md §4.2): "" when
// process `process` can take the session — it is up and has a free session
// slot; being overloaded does not matter, the link bypasses load balancing.
// Else the reason, a sentence fragment after "process N of IT1": nothing is
// ever assigned elsewhere instead.
std::string PinnedRefusal(const std::vector<ProcessView>& processes,
                          int process, int max_agates);

}  // namespace its::mm
