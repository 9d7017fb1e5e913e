#pragma once

#include <random>
#include <string_view>

#include "common/gusid.h"
#include "proto/its.pb.h"
#include "wgate/directory.h"

namespace its::wgate {

// Where a request of an existing session goes (steps 1, 4, 5: by the GUSID
// and the pushed directory alone, no Mapping Manager call).
struct RouteDecision {
  // Send it here; nullptr: answer `refusal` at once.
  const proto::ProcessInfo* target = nullptr;
  proto::Outcome refusal = proto::OUTCOME_UNSPECIFIED;
  // The owner as the GUSID names it (no random part): what a verdict after
  // a broken stream needs.
  Gusid owner;
  // `target` is not the owner: a session command sent by the naive balancer
  // to a process that cannot end the session (its_wgate_misrouted_commands).
  bool misrouted = false;
};

// `terminate`: a session command, which may name the session by its public
// ID (SISP: with a termination-only token). `naive`: the training lab's
// balancer without session affinity, which sends terminations to any live
// process (only the owner could end the session).
RouteDecision DecideRoute(const ProcessDirectory& directory,
                          std::string_view session, bool terminate, bool naive,
                          std::mt19937_64& rng);

// After the stream to `owner`'s process broke: true once the directory says
// the process ended (down, restarted, gone): the session is lost.
bool OwnerEnded(const ProcessDirectory& directory, const Gusid& owner);

}  // namespace its::wgate
