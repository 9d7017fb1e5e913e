#pragma once

#include <string_view>

#include "proto/its.pb.h"

namespace its::wgate {

// The HTTP status of an outcome (see proto Outcome). LOGGED_OFF with a
// `location` is a 302 redirect to ~exitURL.
int HttpStatus(proto::Outcome outcome, bool has_location = false);

// "session_started", "agate_timeout", ...: the label of its metric.
std::string_view OutcomeLabel(proto::Outcome outcome);

// The answer the wgate gives itself for an outcome it decides (a refused
// route, an unreachable or slow AGate process): the page, and for a lost
// session the cookie cleared.
proto::AGateResponse WgateAnswer(proto::Outcome outcome);

}  // namespace its::wgate
