#include "mapping_manager/assignment.h"

#include <gtest/gtest.h>

namespace its::mm {
namespace {

ProcessView Up(int process, int pid, double w = 1.0, int sessions = 0,
               int max = 10) {
  return ProcessView{process, pid, true, false, w, sessions, max};
}

TEST(AssignProcess, HighestPidWins) {
  auto a = AssignProcess({Up(0, 100), Up(1, 300), Up(2, 200)}, 0.25, 4);
  EXPECT_EQ(a.kind, Assignment::kAssign);
  EXPECT_EQ(a.process, 1);
}

TEST(AssignProcess, OverloadedHighestPidIsSkipped) {
  auto a =
      AssignProcess({Up(0, 100), Up(1, 300, 0.2), Up(2, 200, 0.3)}, 0.25, 4);
  EXPECT_EQ(a.kind, Assignment::kAssign);
  EXPECT_EQ(a.process, 2);
  // Exactly at the threshold is not overloaded.
  a = AssignProcess({Up(0, 100), Up(1, 300, 0.25)}, 0.25, 4);
  EXPECT_EQ(a.process, 1);
}

TEST(AssignProcess, DeadAndStartingProcessesGetNothing) {
  ProcessView dead = Up(1, 999);
  dead.up = false;
  ProcessView starting = Up(2, 1000);
  starting.up = false;
  starting.starting = true;
  auto a = AssignProcess({Up(0, 100), dead, starting}, 0.25, 4);
  EXPECT_EQ(a.kind, Assignment::kAssign);
  EXPECT_EQ(a.process, 0);
}

TEST(AssignProcess, AllOverloadedScalesUpThenWaits) {
  auto a = AssignProcess({Up(0, 100, 0.1), Up(1, 200, 0.2)}, 0.25, 4);
  EXPECT_EQ(a.kind, Assignment::kScaleUp);
  ProcessView starting{2, 0, false, true, 1.0, 0, 10};
  a = AssignProcess({Up(0, 100, 0.1), Up(1, 200, 0.2), starting}, 0.25, 4);
  EXPECT_EQ(a.kind, Assignment::kWait);
}

TEST(AssignProcess, AtMaxAgatesTheHighestWeightTakesIt) {
  auto a = AssignProcess({Up(0, 100, 0.1), Up(1, 200, 0.2), Up(2, 50, 0.2)},
                         0.25, 3);
  EXPECT_EQ(a.kind, Assignment::kAssign);
  EXPECT_EQ(a.process, 1);  // tie on w: higher PID
}

TEST(AssignProcess, FullWhenEverySessionSlotIsTaken) {
  auto a = AssignProcess({Up(0, 100, 0.0, 10, 10), Up(1, 200, 0.0, 10, 10)},
                         0.25, 2);
  EXPECT_EQ(a.kind, Assignment::kFull);
  // A full process is never chosen even if its weight looks fine.
  a = AssignProcess({Up(0, 100, 1.0, 10, 10), Up(1, 50, 0.5, 1, 10)}, 0.25, 2);
  EXPECT_EQ(a.process, 1);
}

TEST(AssignProcess, NothingRunningScalesUp) {
  EXPECT_EQ(AssignProcess({}, 0.25, 2).kind, Assignment::kScaleUp);
}

// The reason given matches the decision, in the words the topology page
// and the Mapping Manager's log use.
TEST(ExplainAssignment, SaysWhy) {
  std::string why;
  auto a = ExplainAssignment({Up(0, 100), Up(1, 300)}, 0.25, 4, &why);
  EXPECT_EQ(a.process, 1);
  EXPECT_EQ(why, "highest PID 300");
  a = ExplainAssignment({Up(0, 100), Up(1, 300, 0.2)}, 0.25, 4, &why);
  EXPECT_EQ(a.process, 0);
  EXPECT_EQ(why, "PID 300 overloaded (w 0.20 < 0.25), next highest PID 100");
  a = ExplainAssignment({Up(0, 100), Up(1, 300, 1.0, 10)}, 0.25, 4, &why);
  EXPECT_EQ(why, "PID 300 full, next highest PID 100");
  a = ExplainAssignment({Up(0, 100, 0.1)}, 0.25, 4, &why);
  EXPECT_EQ(a.kind, Assignment::kScaleUp);
  EXPECT_EQ(why, "every process overloaded: starting more");
  a = ExplainAssignment({Up(0, 100, 0.1), Up(1, 300, 0.2)}, 0.25, 2, &why);
  EXPECT_EQ(a.process, 1);
  EXPECT_EQ(why,
            "every process overloaded and 2 running (MaxAGates): highest w "
            "0.20, PID 300");
  a = ExplainAssignment({Up(0, 100, 0, 10)}, 0.25, 1, &why);
  EXPECT_EQ(a.kind, Assignment::kFull);
  EXPECT_EQ(why, "every process full (1 of 1) and MaxAGates running");
  ProcessView draining = Up(1, 300);
  draining.draining = true;
  a = ExplainAssignment({Up(0, 100), draining}, 0.25, 4, &why);
  EXPECT_EQ(a.process, 0);
  EXPECT_EQ(why, "PID 300 draining, next highest PID 100");
  a = ExplainAssignment({}, 0.25, 4, &why);
  EXPECT_EQ(why, "no process up: starting one");
}

TEST(PinnedRefusal, TheNamedProcessIfItCanTakeTheSession) {
  std::vector<ProcessView> ps = {Up(0, 100), Up(1, 50, 0.1, 9, 10)};
  // ~agate_routing bypasses the rule: not the highest PID, overloaded, yet
  // it has a free session slot.
  EXPECT_EQ(PinnedRefusal(ps, 1, 4), "");
  EXPECT_EQ(PinnedRefusal(ps, 0, 4), "");
}

TEST(PinnedRefusal, SaysWhyAndNeverPicksAnother) {
  ProcessView starting{2, 300, false, true, 1.0, 0, 10};
  ProcessView unresponsive{3, 400, false, false, 1.0, 0, 10};
  unresponsive.unresponsive = true;
  ProcessView down{1, 0, false, false, 0.0, 0, 10};
  std::vector<ProcessView> ps = {Up(0, 100, 1.0, 10, 10), down, starting,
                                 unresponsive};
  EXPECT_EQ(PinnedRefusal(ps, 0, 4), "has no free session (10 of 10)");
  EXPECT_EQ(PinnedRefusal(ps, 1, 4), "is down");
  EXPECT_EQ(PinnedRefusal(ps, 2, 4), "is starting");
  EXPECT_EQ(PinnedRefusal(ps, 3, 4), "is unresponsive");
  EXPECT_EQ(PinnedRefusal(ps, 4, 4), "does not exist (MaxAGates 4)");
  ProcessView draining = Up(0, 100);
  draining.draining = true;
  EXPECT_EQ(PinnedRefusal({draining}, 0, 4), "is draining (itsadm drain)");
  EXPECT_EQ(PinnedRefusal(ps, -1, 4), "does not exist (MaxAGates 4)");
  EXPECT_EQ(PinnedRefusal({Up(0, 100)}, 1, 4),
            "is not running (the instance runs fewer processes)");
}

}  // namespace
}  // namespace its::mm
