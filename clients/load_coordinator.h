#pragma once

// itsload SCENARIO --workers A,B,...: the load split across itsload workers
// (clients/load_worker.h), on this host or others, started at one moment,
// and their figures merged exactly (LoadStats::Merge) into one LoadStats,
// which itsload reports as it reports a run of its own.

#include <memory>
#include <string>
#include <vector>

#include "clients/load_engine.h"
#include "clients/load_report.h"
#include "clients/scenario.h"
#include "clients/stages.h"

namespace its::load {

// What a run measured, here or on workers.
struct RunOutcome {
  // The figures; null if the run could not start (`error` says why).
  std::unique_ptr<LoadStats> stats;
  std::string error;
  std::string aborted;     // why the run ended early ("" if it did not)
  std::string stopped_by;  // the signal that ended it early, if one did
  int workers = 1;         // processes that ran the load
  // Workers lost during the run ("ADDRESS: why"): their figures are missing
  // from `stats`; or stopped during it (SIGTERM): their figures until then
  // are in, their share was not run to the end.
  std::vector<std::string> lost;
};

// The run in this process: one LoadEngine on one Asio thread.
RunOutcome RunHere(const Scenario& scenario, const LoadOptions& options);

struct CoordinatorOptions {
  std::vector<std::string> workers;  // host:port each
  std::string scenario_file;         // its text goes to the workers
  bool progress = true;              // a line per second on stderr
  // The workers start together this long after the last one answered.
  double start_delay_s = 0.5;
  // How long a worker may take to answer at all before the run is given up.
  double connect_timeout_s = 5;
};

// The run on the workers: each gets the scenario and its share of the plan
// (SharePlan, ShareOf) with seed + its index, and the same start time. A
// worker that does not answer or refuses the run: no run (`error` names
// it), the others are cancelled. A worker lost or stopped during the run:
// `lost` names it. `options.monitor` is not called (thresholds
// are evaluated on the merged figures at the end).
RunOutcome RunOnWorkers(const Scenario& scenario, const LoadOptions& options,
                        const CoordinatorOptions& coordinator);

// `total` split into `n` whole shares, the first ones taking the remainder:
// share `index` (0-based).
int ShareOf(int total, int index, int n);

// Worker `index`'s share of `plan`, of `n` workers. Closed model: each
// stage's users (rounded to whole users) split by ShareOf; open model: an
// equal share of each stage's rate. The stages' durations stay.
StagePlan SharePlan(const StagePlan& plan, bool open_model, int index, int n);

}  // namespace its::load
