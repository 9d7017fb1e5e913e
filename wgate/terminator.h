#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/params.h"
#include "proto/its.pb.h"

namespace its::wgate {

// One session the DSM Terminator is asked to end.
struct TerminationTarget {
  std::string service;
  std::string session;  // public ID (no random part)
  std::string token;    // termination-only token
  proto::SessionCommand command = proto::USR_ABORT;  // or USR_LOGOFF
};

struct TerminatorRequest {
  std::vector<TerminationTarget> targets;
  size_t rejected =
      0;  // foreign hosts, other paths, broken escaping, over the cap
  std::vector<std::string> reasons;  // the first few, for the log
};

// Parses a DSM Terminator request: `TermString` (an escaped list of escaped
// session URLs joined by '&', each with its ~SAPSessionCmd) or `Command`
// (ABORT|LOGOFF) with `SerKeyString` (the same list of session URLs). Only
// this cluster's session URLs are targets: relative /scripts/wgate/<service>/
// URLs, or absolute ones whose host:port is in `own_hosts`. Never more than
// `max_targets`. One target per session; LOGOFF wins over ABORT.
absl::StatusOr<TerminatorRequest> ParseTerminatorRequest(
    const Params& params, const std::vector<std::string>& own_hosts,
    size_t max_targets);

// A portal LaunchURL: relative, under /scripts/wgate/, no scheme, no host.
bool IsValidLaunchUrl(std::string_view url);

// The portal main page: the LaunchURL in an IFrame (with sapwp_active=1), the
// DSM script and the DSM monitor panel.
std::string PortalPage(std::string_view launch_url);

// The portal without a LaunchURL: a launch link per configured service and
// a form that takes a /scripts/wgate/ URL.
std::string PortalLaunchForm(const std::vector<std::string>& services);

}  // namespace its::wgate
