#pragma once

#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/load_report.h"
#include "clients/scenario.h"
#include "proto/itsload.pb.h"

namespace its::load {

// LoadStats on the wire between itsload workers and their coordinator
// (proto/itsload.proto): every count, and the histograms as their non-empty
// buckets with extremes and sum, so that the coordinator's LoadStats::Merge
// of decoded figures is exactly the merge of the originals.
class LoadStatsCodec {
 public:
  // The longest timeline accepted (seconds): a day's run, its graceful stop
  // and room to spare. A corrupt message cannot make the decoder allocate
  // more.
  static constexpr int64_t kMaxSeconds = 200000;

  // All of `stats` in one message.
  static void ToProto(const LoadStats& stats, pb::LoadStats* out);
  // The same in parts of at most `seconds_per_part` timeline seconds each:
  // the parts before the last hold only their seconds (and first_second);
  // the last holds the rest. Appending the parts' timelines in order
  // (protobuf MergeFrom) gives ToProto's message.
  static std::vector<pb::LoadStats> ToParts(const LoadStats& stats,
                                            size_t seconds_per_part);

  // The figures of `in` as LoadStats of `scenario`. An error, never a crash,
  // if `in` is of another scenario (journeys or step slots differ) or
  // corrupt (bucket indices out of range, counts that do not add up, a
  // timeline beyond kMaxSeconds).
  static absl::StatusOr<LoadStats> FromProto(const pb::LoadStats& in,
                                             const Scenario& scenario);
};

}  // namespace its::load
