// What an itsload coordinator takes from its workers over the network: any
// bytes as a LoadStats message (proto/itsload.proto), decoded against the
// shipped mixed scenario.
//
// The seed (seeds/load_stats/mixed-run) is the encoding of real figures of
// that scenario: `ITS_FUZZ_WRITE_SEED=FILE build/bin/load_stats_fuzz X`
// writes the figures of a short run it simulates to FILE and exits (do it
// again when the scenario's journeys change: the unit test
// LoadStatsCodec.TheFuzzSeedIsOfTheShippedMixedScenario says when).
//
// Properties: a message is decoded or refused, never a crash or a huge
// allocation (the codec's promise); what is decoded encodes to a message
// that decodes to the same figures (compared as messages), and merges.
#include <google/protobuf/util/message_differencer.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "clients/load_stats_codec.h"
#include "clients/scenario.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace its;
  static const load::Scenario* const scenario = [] {
    auto s = load::Scenario::Load(std::string(ITS_SOURCE_DIR) +
                                  "/deploy/scenarios/mixed.toml");
    FUZZ_CHECK(s.ok());
    return new load::Scenario(std::move(*s));
  }();
  if (const char* seed = std::getenv("ITS_FUZZ_WRITE_SEED")) {
    // Figures of a short run: one request per step slot, two seconds.
    load::LoadStats run(*scenario);
    const auto t0 = load::LoadStats::Clock::now();
    run.Start(t0);
    for (size_t j = 0; j < run.journeys(); ++j) {
      const int journey = static_cast<int>(j);
      const load::StepSlots& slots = run.Slots(journey);
      std::vector<int> all = slots.steps;
      all.push_back(slots.logon);
      if (slots.end >= 0) all.push_back(slots.end);
      run.JourneyStarted(journey);
      for (int slot : all)
        run.Request(load::StepKey{journey, slot}, 200, "", "IT1/0/1", t0,
                    t0 + std::chrono::milliseconds(3));
      run.JourneyEnded(static_cast<int>(j),
                       load::LoadStats::Ending::kCompleted);
    }
    run.Error("page \"Session lost\"");
    run.EndOfSecond(1, 2, -1);
    run.EndOfSecond(2, 0, -1);
    run.Finished(2.0, 0.1);
    load::pb::LoadStats out;
    load::LoadStatsCodec::ToProto(run, &out);
    std::ofstream file(seed, std::ios::binary);
    file << out.SerializeAsString();
    std::exit(file.good() ? 0 : 1);
  }
  load::pb::LoadStats in;
  if (!in.ParseFromArray(data, static_cast<int>(size))) return 0;
  // Long timelines are allowed (a day's run) but slow to merge under the
  // sanitizers: the short ones reach the same code.
  if (in.first_second() > 4096 || in.timeline_size() > 4096) return 0;
  auto stats = load::LoadStatsCodec::FromProto(in, *scenario);
  if (!stats.ok()) {
    FUZZ_CHECK(!stats.status().message().empty());
    return 0;
  }
  load::pb::LoadStats once;
  load::LoadStatsCodec::ToProto(*stats, &once);
  auto again = load::LoadStatsCodec::FromProto(once, *scenario);
  FUZZ_CHECK_SAW(again.ok(), again.status().ToString());
  load::pb::LoadStats twice;
  load::LoadStatsCodec::ToProto(*again, &twice);
  FUZZ_CHECK_SAW(
      google::protobuf::util::MessageDifferencer::Equals(once, twice),
      once.ShortDebugString() + " | " + twice.ShortDebugString());
  stats->Merge(*again);
  return 0;
}
