#pragma once

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/data_file.h"
#include "clients/stages.h"

namespace its::load {

// A think time: constant, uniform or exponential (milliseconds).
struct Think {
  enum Kind { kConstant, kUniform, kExponential } kind = kConstant;
  double a = 0;  // constant: ms; uniform: min; exponential: mean
  double b = 0;  // uniform: max
  double Sample(std::mt19937_64& rng) const;
};

// expect_field: the page's field `name` must show `value`. The markers are
// what precedes the value on the page (clients/page_check.h builds them).
struct FieldCheck {
  std::string name;  // upper case, as the page names it
  Template value;
  std::string input_marker, output_marker;
};

// okcode, fields, expect_text, reject_text and expect_field values may take
// the journey's data through ${column}.
struct StepDef {
  std::string name;
  Template okcode{"/00"};
  std::vector<std::pair<std::string, Template>> fields;
  Think think;
  int repeat = 1;
  // Checks of the page the step gets (a failed one counts as an error of
  // its kind): texts it must contain, texts it must not, its status (0: any
  // 2xx/3xx), the screen it shows ("PA30/2000" or "2000", and the page's
  // marker of it) and the values of its fields.
  std::vector<Template> expect_text, reject_text;
  int expect_status = 0;
  std::string expect_screen, screen_marker;
  std::vector<FieldCheck> expect_field;
};

struct JourneyDef {
  enum End { kLogoff, kAbandon, kCloseTab };
  std::string name;
  double weight = 1;
  std::string service = "webgui";
  std::string transaction;  // empty: the service's own
  std::string client = "100";
  std::string language = "EN";
  Template password{"welcome"};
  // Users prefix + number, zero-padded to `digits`, taken in turn from
  // first..last; or the data's column "user".
  std::string user_prefix = "LOAD";
  int user_digits = 5;
  int user_first = 1;
  int user_last = 10000;
  Think think;  // before each step, unless the step has its own
  std::vector<StepDef> steps;
  End end = kLogoff;
  // Test data (`data`, a CSV file; null without): each journey start takes a
  // row, in turn or at random; with kPerUser a virtual user keeps its first
  // row for all its journeys. Journeys naming the same file share it.
  std::shared_ptr<const DataFile> data;
  enum DataOrder { kSequential, kRandom } data_order = kSequential;
  enum DataPer { kPerIteration, kPerUser } data_per = kPerIteration;
  int user_column = -1;  // the data's column "user", or -1
};

// A threshold as the scenario file states it (checked by ParseThreshold
// when the file is read).
struct ThresholdSpec {
  std::string expr;
  bool abort = false;
  double abort_after_s = 0;
};

struct Scenario {
  std::string name;
  std::vector<JourneyDef> journeys;
  // The load shape, unless the command line gives one: the model ("closed":
  // stage targets are virtual users; "open": journeys per second) and its
  // stages.
  bool open_model = false;
  std::vector<Stage> stages;
  std::vector<ThresholdSpec> thresholds;
  double graceful_stop_s = -1;  // < 0: not set
  // Parses a scenario file; errors name the file, line and key.
  static absl::StatusOr<Scenario> Load(const std::string& path);
  static absl::StatusOr<Scenario> Parse(const std::string& text,
                                        const std::string& file);
};

const char* EndName(JourneyDef::End e);

}  // namespace its::load
