#pragma once

// Link delays injected by `itsadm fault delay` (docs/faults.md), as the
// cluster launcher keeps them: in a file of the run directory that every
// agate reads when it starts and whenever the file changes. A delay so
// belongs to the link, not to the processes running when it was set: an
// agate started, restarted or resumed later has it too, whatever happened
// to its Mapping Manager meanwhile.
//
//   # link-delays.toml, written by itscluster
//   generation = 3
//   [r3_delay_s]        # agate->r3, by AGate instance
//   IT2 = 0.2
//
// Each change has a higher generation; the launcher also tells the running
// agates at once (AGate.SetLinkDelay with the same generation), and an agate
// applies a delay only if its generation is newer than the one it has, so
// the two ways cannot undo each other whatever order they arrive in.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace its {

struct LinkDelays {
  uint64_t generation = 0;
  std::map<std::string, double> r3_delay_s;  // by instance; absent: none
};

// The generation of the change after `previous`: the wall clock in
// microseconds, or one more than `previous` — growing also across runs of
// the launcher, whose earlier run's agates may be adopted by this one's.
uint64_t NextLinkDelayGeneration(uint64_t previous);

// `config_dir`/link-delays.toml.
std::string LinkDelaysPath(const std::string& config_dir);

// Replaces the file at once (a reader sees the old or the new file).
absl::Status WriteLinkDelays(const std::string& path, const LinkDelays& delays);

// The delays in `text`, read from `file`. An error names the file, line and
// key.
absl::StatusOr<LinkDelays> ParseLinkDelays(std::string_view text,
                                           const std::string& file);

// The file's delays; none (generation 0) if there is no file.
absl::StatusOr<LinkDelays> ReadLinkDelays(const std::string& path);

}  // namespace its
