#pragma once

#include <string_view>

#include "proto/its.pb.h"

namespace its::wgate {

// The HTTP status of an outcome (see proto Outcome). LOGGED_OFF with a
// `location` is a 302 redirect to ~exitURL.
int HttpStatus(proto::Outcome outcome, bool has_location = false);

// "session_started", "agate_timeout", ...: the label of its metric.
std::string_view OutcomeLabel(proto::Outcome outcome);

// The X-ITS-Steps of a start an AGate process answered: "1,2,3,4,5" when
// it started a session; else "1,2,3" — a step counts once it is done, and a
// refused or failed logon got neither a session ID (4) nor an R/3 user
// session (5).
const char* StartSteps(proto::Outcome outcome);
// X-ITS-Steps of an answer to a session's request (a dialog step, a
// termination): 1 routed it, 4 the process found the session context, 5 it
// called R/3 — only those that took place.
const char* ExistingSteps(const proto::AGateResponse& a);

// The answer the wgate gives itself for an outcome it decides (a refused
// route, an unreachable or slow AGate process): the page, and for a lost
// session the cookie cleared.
proto::AGateResponse WgateAnswer(proto::Outcome outcome);

}  // namespace its::wgate
